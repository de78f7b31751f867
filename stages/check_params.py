"""Stage `check_params`: fail `dvc repro` on any bad or misspelt key in params.yaml.

    python -m stages.check_params --params params.yaml --out data/params.ok

DVC reruns a stage only when a key it declares changes, so a typo such as
`lrr: 0.001` would otherwise change nothing and say nothing. This stage depends
on the whole file and runs first. Its output's bytes never change while the
params are valid, so it never makes anything downstream rerun.
"""

import argparse

from stages.cli import stage_main
from stages.files import write_text
from stages.params import read_params


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    read_params(args.params)
    write_text(args.out, "params.yaml passed validation\n")


if __name__ == "__main__":
    raise SystemExit(main())
