"""Stage `check_params`: fail `dvc repro` on any bad or misspelt key in params.yaml, or a model that is no model.

    python -m stages.check_params --params params.yaml --models models.yaml --out data/params.ok

DVC reruns a stage only when a key it declares changes, so a typo such as `lrr: 0.001` would
otherwise change nothing and say nothing. This stage depends on the whole file and runs first: every
key known, none missing, each value what its declaration allows (project/schema.py, and each model's
settings as its class declares them); every model of models.yaml a class that keeps the model contract;
data.csv a file. Its output's bytes never change while the params are valid, so it never makes
anything downstream rerun. It writes nothing else: not even git's index (see docs/troubleshooting.md,
"After a failed dvc exp run", for what a failed `dvc exp run -S` leaves and the one way back).
"""

import os

from project.commands import file_at
from project.errors import UserError
from project.files import write_text
from project.models import read_models
from project.params import changed_keys, check_data_file, validate_whole
from project.yamlfile import load_yaml, read_yaml
from stages.cli import path_option, stage_main, stage_parser

# Back to the committed params and outputs after any failed or interrupted `dvc exp run` (tests/test_interrupts.py
# sends SIGINT, SIGTERM and SIGKILL at several moments of one and follows this): unstage what DVC staged
# (SIGTERM leaves params.yaml and dvc.lock staged, so `git checkout -- params.yaml` would restore the
# experiment's values), make git look at the files again (its index may call an edited file unchanged),
# take both from HEAD, and let DVC restore the outputs (from its cache, or by rerunning the stages).
RESTORE = "git reset -q && touch {path} {lock} && git checkout HEAD -- {path} {lock} && dvc repro"


def restore_command(path):
    """RESTORE for the params file ``path`` and the dvc.lock beside it."""
    path = str(path)
    return RESTORE.format(path=path, lock=os.path.join(os.path.dirname(path), "dvc.lock"))


def keys_changed_since_head(path):
    """Dotted keys whose values differ from the committed params file ([] if none, or no git), both read
    as the stages read them (one dialect)."""
    folder, name = os.path.split(os.path.abspath(path))
    committed = file_at("HEAD", f"./{name}", cwd=folder)
    if committed is None or not os.path.isfile(path):
        return []
    try:
        return changed_keys(load_yaml(committed, f"HEAD:{name}") or {}, read_yaml(path) or {})
    except UserError:
        with open(path, "rb") as handle:
            return ["(the whole file)"] if handle.read(len(committed) + 1) != committed else []


def validate_file(path, models="models.yaml"):
    """The whole params file checked as this stage checks it: the params, nested; UserError on the first problem."""
    registry = read_models(models)
    for entry in registry:
        entry.model_class  # noqa: B018 (imports it and holds it to the contract before any value reaches it)
    return validate_whole(read_yaml(path), registry, source=str(path))


@stage_main
def main(argv=None):
    parser = stage_parser(__doc__, ["all of it"])
    path_option(parser, "models", "the list of models (models.yaml): which sections and gates are allowed")
    path_option(parser, "out", "the file written when every key is valid (its bytes never change)")
    args = parser.parse_args(argv)
    path = args.params
    try:
        params = validate_file(path, args.models)
    except UserError as error:
        changed = keys_changed_since_head(path) if os.path.isfile(path) else []
        if not changed:
            raise
        keys = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise UserError(f"{error} (differs from git HEAD at {keys}: if a failed `dvc exp run -S` "
                        f"left it, restore it with `python -m tools.restore`, or `{restore_command(path)}`)") from None
    check_data_file(params, str(args.params))  # else DVC stops on the missing dependency in words of its own
    write_text(args.out, "params.yaml passed validation\n")


if __name__ == "__main__":
    raise SystemExit(main())
