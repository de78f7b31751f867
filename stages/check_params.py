"""Stage `check_params`: fail `dvc repro` on any bad or misspelt key in params.yaml.

    python -m stages.check_params --params params.yaml --out data/params.ok

DVC reruns a stage only when a key it declares changes, so a typo such as
`lrr: 0.001` would otherwise change nothing and say nothing. This stage depends
on the whole file and runs first; it also checks that data.csv exists. Its output's bytes never change while the
params are valid, so it never makes anything downstream rerun.
"""

import os

from stages.cli import StageError, stage_arguments, stage_main
from stages.files import write_text


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "out")  # reading the params is most of the check
    csv = params["data"]["csv"]
    if not os.path.isfile(csv):  # else DVC stops on the missing dependency in words of its own
        raise StageError(f"{args.params}: data.csv = {csv!r}: no such file; point it at your CSV")
    write_text(args.out, "params.yaml passed validation\n")


if __name__ == "__main__":
    raise SystemExit(main())
