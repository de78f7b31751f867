"""Stage `check_params`: fail `dvc repro` on any bad or misspelt key in params.yaml.

    python -m stages.check_params --params params.yaml --models models.yaml --out data/params.ok

DVC reruns a stage only when a key it declares changes, so a typo such as
`lrr: 0.001` would otherwise change nothing and say nothing. This stage depends
on the whole file and runs first; it also checks that data.csv exists. Its output's bytes never change while the
params are valid, so it never makes anything downstream rerun.

It also keeps git honest about params.yaml. A failed `dvc exp run -S key=value` leaves the value in
the workspace (as DVC does for every workspace run), and about one time in three git's index then
records the edited file's size and time with the committed content's hash, so `git status` calls the
file unchanged (see docs/troubleshooting.md, "After a failed dvc exp run"). When this stage finds that
state, it touches the file (its content untouched) so that git looks again and shows it modified; and
when the params are bad, its message says which keys differ from HEAD and how to restore them.
"""

import os
import subprocess

from stages.cli import StageError, path_option, stage_main, stage_parser
from stages.files import write_text
from stages.models import constructor_arguments, model_settings, read_models
from stages.params import CORE_SECTIONS, SCHEMA, model_setting, read_params

# Back to the committed params and outputs after any failed or interrupted `dvc exp run` (tests/test_interrupts.py
# sends SIGINT, SIGTERM and SIGKILL at several moments of one and follows this): unstage what DVC staged
# (SIGTERM leaves params.yaml and dvc.lock staged, so `git checkout -- params.yaml` would restore the
# experiment's values), make git look at the files again (its index may call an edited file unchanged),
# take both from HEAD, and let DVC restore the outputs (from its cache, or by rerunning the stages).
RESTORE = "git reset -q && touch {path} {lock} && git checkout HEAD -- {path} {lock} && dvc repro"


def _git(args, folder):
    try:
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=folder, capture_output=True,
                              timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _ok(result):
    return result is not None and result.returncode == 0


def repair_git_stat_cache(path):
    """True if git's index called ``path`` unchanged although its bytes differ; git now looks again."""
    if not os.path.isfile(path):  # a pipe or a device: never hashed (reading it would not end)
        return False
    folder, name = os.path.split(os.path.abspath(path))
    staged = _git(["ls-files", "--stage", "--", name], folder)
    if not _ok(staged) or not staged.stdout.strip():
        return False  # not in a git repository, or the file is not tracked
    blob = staged.stdout.split()[1]
    if not _ok(_git(["diff", "--quiet", "--", name], folder)):
        return False  # git already sees a change (or cannot tell)
    actual = _git(["hash-object", "--", name], folder)
    if not _ok(actual) or actual.stdout.strip() == blob:
        return False
    os.utime(path)  # a new mtime, same bytes: git's next look hashes the file and sees the change
    return True


def keys_changed_since_head(path):
    """Dotted keys whose values differ from the committed params file ([] if none or no git)."""
    import yaml

    if not os.path.isfile(path):
        return []
    folder, name = os.path.split(os.path.abspath(path))
    committed = _git(["show", f"HEAD:./{name}"], folder)
    if not _ok(committed):
        return []
    try:
        before = yaml.safe_load(committed.stdout) or {}
        with open(path, encoding="utf-8") as handle:
            after = yaml.safe_load(handle) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return ["(the whole file)"] if committed.stdout != _read_bytes(path) else []
    return sorted(_diff(before, after))


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _diff(before, after, prefix=""):
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [] if before == after else [prefix.rstrip(".") or "(the whole file)"]
    keys = []
    for key in sorted(set(before) | set(after), key=str):
        keys += _diff(before.get(key), after.get(key), f"{prefix}{key}.")
    return keys


def restore_command(path):
    """RESTORE for the params file ``path`` and the dvc.lock beside it."""
    path = str(path)
    return RESTORE.format(path=path, lock=os.path.join(os.path.dirname(path), "dvc.lock"))


def whole_file_schema(entries):
    """{dotted key: check} for every key params.yaml may hold, given the models of models.yaml.

    The core keys; each model's section, with SCHEMA's checks where it has them and otherwise any of
    its constructor's arguments (its class checks their values when it fits); and the report's gates.
    """
    from tools import gates

    schema = {key: check for key, check in SCHEMA.items() if "." not in key or key.split(".")[0] in CORE_SECTIONS}
    for entry in entries.values():
        for key in entry.params:
            own = {name: check for name, check in SCHEMA.items() if name.startswith(key + ".")}
            if own:
                schema.update(own)
            elif key not in SCHEMA:
                schema.update({f"{key}.{name}": model_setting for name in constructor_arguments(entry.model_class)})
    schema.update(gates.schema(list(entries)))
    return schema


def check_models(entries, params, source):
    """Every model's params keys exist and fit its class (a section's keys are constructor arguments).

    A model whose keys SCHEMA checks one by one (the tutorial's) is not imported: this stage reruns on
    every params change, and a model's module brings numpy. A model of the user's is imported, and its
    section held against its constructor.
    """
    import yaml

    with open(source, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    for entry in entries.values():
        for key in entry.params:
            if key not in params and key not in raw:
                raise StageError(f"{source}: missing section '{key}', which models.yaml's {entry.name} reads; add "
                                 f"its settings (`{key}: {{...}}`) or list [seed] in models.yaml for a model without")
        if all(key in SCHEMA or any(name.startswith(key + ".") for name in SCHEMA) for key in entry.params):
            continue
        model_settings(entry, {**params, **{key: raw.get(key) or {} for key in entry.params if key not in params}},
                       source)


def validate_file(path, models="models.yaml"):
    """The whole params file checked as this stage checks it (every key known, none missing, every model's
    section fitting its class): the params, nested; StageError on the first problem."""
    entries = read_models(models)
    params = read_params(path, schema=whole_file_schema(entries))
    check_models(entries, params, path)
    return params


@stage_main
def main(argv=None):
    parser = stage_parser(__doc__, ["all of it"])
    path_option(parser, "models", "the list of models (models.yaml): which sections and gates are allowed")
    path_option(parser, "out", "the file written when every key is valid (its bytes never change)")
    args = parser.parse_args(argv)
    path = args.params
    repair_git_stat_cache(path)
    try:
        params = validate_file(path, args.models)  # reading the params is most of the check
    except StageError as error:
        changed = keys_changed_since_head(path)
        if not changed:
            raise
        raise StageError(f"{error} (differs from git HEAD at {', '.join(changed)}: if a failed `dvc exp run -S` "
                         f"left it, restore it with `{restore_command(path)}`)") from None
    csv = params["data"]["csv"]
    if os.path.isdir(csv):
        raise StageError(f"{args.params}: data.csv = {csv!r} is a directory; point it at the CSV file itself")
    if not os.path.exists(csv):  # else DVC stops on the missing dependency in words of its own
        raise StageError(f"{args.params}: data.csv = {csv!r}: no such file; point it at your CSV")
    write_text(args.out, "params.yaml passed validation\n")


if __name__ == "__main__":
    raise SystemExit(main())
