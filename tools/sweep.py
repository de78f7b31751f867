"""A sweep spread over CI runners: expand overrides into a matrix, run one point, collect a leaderboard.

    python -m tools.sweep expand 'lr=0.1,0.01,0.001' 'knn.k=1,3' [--prefix sweep42]
    python -m tools.sweep run --set lr=0.1 --set knn.k=1 [--name NAME]   # or --entry '<matrix JSON item>'
    python -m tools.sweep collect [--prefix sweep42] [--sort gd.rmse] [--out sweep/leaderboard.md]

``expand`` takes the syntax of ``dvc exp run --queue -S`` (one ``key=v1,v2`` per argument, the
cartesian product over arguments), checks every key against params.yaml and every point against the
params validation the stages use, and prints a GitHub Actions matrix as JSON:
``{"include": [{"name": "lr-0.1_knn.k-1", "set": ["lr=0.1", "knn.k=1"]}, ...]}``.

``run`` is one runner's job: ``dvc exp run -n NAME -S ...``, then ``git push`` of the experiment's ref
(refs/exps/...) to origin, which is what ``dvc exp push`` sends, and, when a DVC remote is configured,
``dvc push --run-cache`` of the experiment's outputs and run-cache. Plain git carries the ref so the
runner's git credentials (actions/checkout's) apply as for any push.

``collect`` fetches every experiment of HEAD from origin (the refs ``dvc exp pull`` fetches), reads
each one's committed metrics/evaluate.json and params.yaml, and writes one markdown leaderboard (and
the same rows as JSON beside it), also appended to $GITHUB_STEP_SUMMARY when that is set. ``--out``
writes only files this tool wrote before, or new ones (tools/owned.py): never params.yaml, a
directory, a device or a symbolic link.

Exit status: 0 done; 1 with one line on stderr: a bad argument, override, entry or file, a refused or
failed write, or a failed git/DVC command; 130 interrupted (Ctrl-C).
"""

import argparse
import copy
import itertools
import json
import math
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from tools.markdown import code
from tools.owned import OwnedError, check, json_text, stamp, write_owned

TOOL = "tools.sweep"
EVALUATE_METRICS = "metrics/evaluate.json"
MAX_JOBS = 256  # GitHub's limit on jobs from one matrix
EXAMPLE_ENTRY = '{"name": "lr-0.1", "set": ["lr=0.1"]}'
MAX_PARAMS_BYTES = 1 << 20  # a params file is a few KiB; a larger one (or /dev/zero) is refused unread


class SweepError(Exception):
    """A problem told in one line."""


# ---- running git and DVC ------------------------------------------------------------------

def _run(args, capture=True):
    result = subprocess.run(args, capture_output=capture, text=True)
    if result.returncode != 0:
        shown = " ".join(args[2:] if args[0] == sys.executable else args)
        output = ((result.stderr or "") + (result.stdout or "")).strip().splitlines() if capture else []
        raise SweepError(f"`{shown}` failed: {output[-1] if output else f'exit {result.returncode}'}")
    return result.stdout if capture else ""


def dvc(*args, capture=True):
    return _run([sys.executable, "-m", "dvc", *args], capture=capture)


def git(*args):
    return _run(["git", *args])


def _has_core_remote():
    """True when a default DVC remote is configured (in .dvc/config or config.local)."""
    result = subprocess.run([sys.executable, "-m", "dvc", "config", "core.remote"], capture_output=True, text=True)
    return result.returncode == 0 and bool(result.stdout.strip())


# ---- reading params -----------------------------------------------------------------------

class _NoAliasLoader(yaml.SafeLoader):
    """A params file writes its values out: an alias (*name) could repeat a value a billion times."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "an alias (*name); write the value out instead",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def load_params(text, where):
    """The params mapping in ``text`` (from ``where``, a path or rev:path); SweepError if it is not one."""
    try:
        params = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise SweepError(f"{where}: not valid YAML{line}: {getattr(error, 'problem', None) or error}") from None
    except RecursionError:
        raise SweepError(f"{where}: nested too deeply to be a params file") from None
    if not isinstance(params, dict):
        raise SweepError(f"{where}: expected a mapping of keys (lr: 0.01, knn: ...), found {type(params).__name__}")
    return params


def read_params_file(path):
    """The raw params mapping of the file at ``path``: a regular UTF-8 YAML file of at most 1 MiB."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise SweepError(f"{path}: is a directory, not a params file")
        if not stat.S_ISREG(mode):  # a device or a pipe: /dev/zero would never end, a pipe never open
            raise SweepError(f"{path}: is not a regular file, not a params file")
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            data = handle.read(MAX_PARAMS_BYTES + 1)
    except FileNotFoundError:
        raise SweepError(f"{path}: file not found (run from the repository root, or give --params)") from None
    except OSError as error:
        raise SweepError(f"{path}: cannot read: {error.strerror}") from None
    if len(data) > MAX_PARAMS_BYTES:
        raise SweepError(f"{path}: larger than {MAX_PARAMS_BYTES >> 20} MiB; not a params file")
    try:
        return load_params(data.decode("utf-8"), path)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SweepError(f"{path}: line {line} is not UTF-8; save it as UTF-8") from None


# ---- expand -------------------------------------------------------------------------------

def parse_override(text):
    """'knn.k=1,3' -> ('knn.k', ['1', '3']) with the queue's syntax."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", key):
        raise SweepError(f"{text!r}: expected key=value[,value...], e.g. lr=0.1,0.01")
    items = [value.strip() for value in values.split(",")]
    if not all(items) or any(re.search(r"\s", value) for value in items):
        raise SweepError(f"{text!r}: a value is empty or contains a space")
    return key, list(dict.fromkeys(items))


def _lookup(params, key):
    node = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _assign(params, key, value):
    *sections, leaf = key.split(".")
    node = params
    for section in sections:
        node = node[section]
    node[leaf] = value


def parse_axes(overrides, params, params_path):
    """[(key, [values])] of the overrides, each key a value (not a section) of params, each once."""
    axes, seen = [], set()
    for text in overrides:
        key, values = parse_override(text)
        found, current = _lookup(params, key)
        if not found:
            raise SweepError(f"{text!r}: {params_path} has no key {key!r}")
        if isinstance(current, (dict, list)):
            raise SweepError(f"{text!r}: {key!r} is a section, not a value")
        if key in seen:
            raise SweepError(f"{text!r}: {key!r} is given twice")
        seen.add(key)
        axes.append((key, values))
    return axes


def check_size(axes):
    """Refuse a grid of more than MAX_JOBS points from its value counts, before building any point."""
    sizes = [len(values) for _, values in axes]
    count = 1
    for size in sizes:  # stop early: the exact product of many axes could itself be huge
        count *= size
        if count > MAX_JOBS:
            break
    if count <= MAX_JOBS:
        return
    digits = sum(math.log10(size) for size in sizes)
    total = f"{math.prod(sizes)}" if digits < 15 else f"about 10^{digits:.0f}"
    shape = " × ".join(map(str, sizes)) if len(sizes) <= 12 else f"{len(sizes)} keys"
    raise SweepError(f"{total} experiments ({shape} values): GitHub runs at most {MAX_JOBS} jobs from "
                     "one matrix; sweep fewer values")


def models_file(params_path):
    """The models.yaml that goes with a params file: beside it, else this repository's."""
    beside = Path(params_path).with_name("models.yaml")
    return beside if beside.is_file() else Path(__file__).resolve().parents[1] / "models.yaml"


def check_point(params, point, params_path):
    """Validate one matrix point the way the stages will: UserError's line, or None."""
    from stages.check_params import validate_file
    from stages.cli import UserError

    changed = copy.deepcopy(params)
    for key, value in point:
        try:
            _assign(changed, key, yaml.safe_load(value))
        except yaml.YAMLError as error:
            return f"{value!r} is not a YAML value: {getattr(error, 'problem', None) or error}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(params_path).name
        path.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        try:
            validate_file(str(path), models_file(params_path))
        except UserError as error:
            return str(error).replace(str(path), params_path)
    return None


def experiment_name(point, prefix=""):
    """A git-ref-safe, readable name: lr=0.1 knn.k=1 -> lr-0.1_knn.k-1."""
    body = "_".join(f"{key}-{value}" for key, value in point)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{prefix}_{body}" if prefix else body)
    return re.sub(r"\.{2,}", ".", name).strip(".-")


def expand(overrides, params_path="params.yaml", prefix="", validate=True):
    """The matrix for GitHub Actions: {"include": [{"name": ..., "set": ["k=v", ...]}, ...]}."""
    if not overrides:
        raise SweepError("no overrides given, e.g. 'lr=0.1,0.01,0.001'")
    params = read_params_file(params_path)
    axes = parse_axes(overrides, params, params_path)
    check_size(axes)
    include = []
    for combo in itertools.product(*(values for _, values in axes)):
        point = list(zip((key for key, _ in axes), combo))
        if validate:
            problem = check_point(params, point, params_path)
            if problem:
                raise SweepError(f"{' '.join(f'{k}={v}' for k, v in point)}: {problem}")
        include.append({"name": experiment_name(point, prefix), "set": [f"{k}={v}" for k, v in point]})
    return {"include": include}


# ---- run ----------------------------------------------------------------------------------

def experiment_ref(name):
    """refs/exps/.../<name> of an experiment on HEAD's baseline."""
    head = git("rev-parse", "HEAD").strip()
    prefix = f"refs/exps/{head[:2]}/{head[2:]}/"
    for line in git("for-each-ref", "--format=%(refname)", prefix).splitlines():
        if line.rsplit("/", 1)[-1] == name:
            return line
    raise SweepError(f"experiment {name!r} not found under {prefix}")


def parse_entry(text):
    """One matrix item as expand prints it, '{"name": ..., "set": ["key=value", ...]}': (name or None, sets)."""
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SweepError(f"--entry is not JSON: {error}") from None
    if not isinstance(entry, dict):
        raise SweepError(f"--entry must be a JSON object, e.g. {EXAMPLE_ENTRY}; found {type(entry).__name__}")
    unknown = sorted(set(entry) - {"name", "set"})
    if unknown:
        raise SweepError(f"--entry has an unknown key {unknown[0]!r}; it takes name and set, e.g. {EXAMPLE_ENTRY}")
    sets, name = entry.get("set"), entry.get("name")
    if not isinstance(sets, list) or not sets or not all(isinstance(item, str) for item in sets):
        raise SweepError(f'--entry needs "set", a non-empty list of "key=value" strings, e.g. {EXAMPLE_ENTRY}')
    if name is not None and not isinstance(name, str):
        raise SweepError(f'--entry "name" must be a string, e.g. {EXAMPLE_ENTRY}')
    return name, sets


def check_run(sets, name, params_path):
    """Validate one experiment as expand does, before any command runs: (["key=value", ...], name)."""
    params = read_params_file(params_path)
    axes = parse_axes(sets, params, params_path)
    if any(len(values) != 1 for _, values in axes):
        raise SweepError("run takes one value per key (e.g. --set lr=0.1); use expand for lists")
    point = [(key, values[0]) for key, values in axes]
    problem = check_point(params, point, params_path)
    if problem:
        raise SweepError(f"{' '.join(f'{k}={v}' for k, v in point)}: {problem}")
    name = experiment_name(point) if name is None else name
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name) or ".." in name or name.endswith((".", ".lock")):
        raise SweepError(f"experiment name {name!r}: use letters, digits, '.', '_' and '-' (it names a git ref)")
    return [f"{key}={value}" for key, value in point], name


def run_point(sets, name, remote="origin", pull=True):
    """One runner: run the experiment, push its ref, push its cache when a DVC remote exists."""
    storage = _has_core_remote()
    if storage and pull:
        # Unchanged stages then restore from the run-cache instead of recomputing.
        result = subprocess.run([sys.executable, "-m", "dvc", "pull", "--run-cache", "--allow-missing"],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print("warning: dvc pull failed; every stage will run", file=sys.stderr)
    args = ["exp", "run", "--name", name]
    for item in sets:
        args += ["-S", item]
    dvc(*args, capture=False)
    ref = experiment_ref(name)
    git("push", remote, f"{ref}:{ref}")
    if storage:
        dvc("push", "--run-cache")
    print(f"pushed {ref} to {remote}" + (" and its cache to the DVC remote" if storage else ""))
    return ref


# ---- collect ------------------------------------------------------------------------------

def flatten(tree, prefix=""):
    flat = {}
    for key, value in (tree or {}).items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _show(revision, path):
    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True)
    return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_metrics(text, where):
    """The test scores in metrics/evaluate.json, {model: {"rmse": number, ...}}, or SweepError.

    The evaluate stage writes them under details.test; a file of older revisions has them at the top.
    """
    try:
        metrics = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SweepError(f"{where}: not JSON: {error}") from None
    if isinstance(metrics, dict) and isinstance(metrics.get("details"), dict):
        metrics = metrics["details"].get("test")
    if not (isinstance(metrics, dict) and metrics and all(
            isinstance(values, dict) and "rmse" in values
            and all(value is None or _finite(value) for value in values.values())
            for values in metrics.values())):
        raise SweepError(f"{where}: expected details.test = {{model: {{\"rmse\": number, ...}}}} with finite numbers, "
                         "as the evaluate stage writes")
    return metrics


def _plain(value):
    """A params value as JSON can hold it (a YAML date or .nan becomes its text)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, bool, int)) or _finite(value):
        return value
    return str(value)


def experiments_of_head(prefix=""):
    """[(name, sha)] of the experiments whose baseline is HEAD, optionally by name prefix."""
    head = git("rev-parse", "HEAD").strip()
    found = []
    listing = git("for-each-ref", "--format=%(refname) %(objectname)", f"refs/exps/{head[:2]}/{head[2:]}/")
    for line in listing.splitlines():
        ref, sha = line.split()
        name = ref.rsplit("/", 1)[-1]
        if not prefix or name.startswith(f"{prefix}_"):
            found.append((name, sha))
    return head, sorted(found)


def leaderboard_rows(prefix="", params_path="params.yaml"):
    """One row per experiment plus the baseline: name, changed params, every model's metrics."""
    head, found = experiments_of_head(prefix)

    def params_of(sha):
        return flatten(_plain(load_params(_show(sha, params_path) or "{}", f"{sha[:7]}:{params_path}")))

    base_params = params_of(head)
    rows = []
    for name, sha in [("(baseline)", head)] + found:
        metrics_text = _show(sha, EVALUATE_METRICS)
        if metrics_text is None:
            raise SweepError(f"{name}: {EVALUATE_METRICS} is not committed in {sha[:7]}")
        metrics = load_metrics(metrics_text, f"{name}: {sha[:7]}:{EVALUATE_METRICS}")
        params = params_of(sha)
        changed = {key: params.get(key) for key in sorted(set(params) | set(base_params))
                   if params.get(key) != base_params.get(key)}
        rows.append({"name": name, "rev": sha, "params": changed, "metrics": metrics})
    return rows


def sort_key(metric):
    """rows sort by '<model>.<metric>' (e.g. gd.rmse) or 'best' (each row's lowest test RMSE)."""
    def key(row):
        if metric == "best":
            return min((values["rmse"] for model, values in row["metrics"].items() if model != "baseline"),
                       default=math.inf)
        model, _, name = metric.partition(".")
        value = row["metrics"].get(model, {}).get(name or "rmse")
        return (value is None, value if value is not None else 0.0)
    return key


def check_sort(metric, rows=None):
    """Refuse a --sort that is not 'best' or '<model>[.<metric>]', or (given rows) names nothing in them."""
    if metric == "best":
        return
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_]+)?", metric):
        raise SweepError(f"--sort {metric!r}: expected <model>.<metric> (e.g. gd.rmse) or best")
    model, _, name = metric.partition(".")
    if rows is not None and not any((name or "rmse") in row["metrics"].get(model, {}) for row in rows):
        models = sorted({model for row in rows for model in row["metrics"]})
        raise SweepError(f"--sort {metric!r}: no experiment has it in {EVALUATE_METRICS}; "
                         f"its models are {', '.join(models)}")


def leaderboard_markdown(rows, metric, title):
    """The leaderboard as Markdown; every name, params value and model shown as data (tools/markdown.py's
    ``code``, whole: the JSON beside it holds the same rows)."""
    models = sorted({model for row in rows for model in row["metrics"]},
                    key=lambda model: min(row["metrics"].get(model, {}).get("rmse", float("inf")) for row in rows))
    header = ["#", "experiment", "params changed"] + [f"{code(model, limit=None)} RMSE" for model in models]
    lines = [f"# {title}", "",
             f"{len(rows) - 1} experiments of {rows[0]['rev'][:7]}, sorted by {code(metric, cell=False, limit=None)} "
             f"(test split, lower is better); every model's test RMSE from `{EVALUATE_METRICS}`.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for rank, row in enumerate(rows, 1):
        changed = ", ".join(code(f"{key}={value}", limit=None) for key, value in row["params"].items()) or "–"
        cells = [str(rank), f"**{code(row['name'], limit=None)}**", changed]
        cells += [f"{row['metrics'][model]['rmse']:.3f}" if model in row["metrics"] else "–" for model in models]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def collect(remote="origin", prefix="", metric="gd.rmse", out=Path("sweep/leaderboard.md"), pull_cache=False):
    """Fetch the experiments from origin and write the leaderboard (markdown and JSON)."""
    out = Path(out)
    if not out.name or out.suffix.lower() == ".json":
        raise SweepError(f"--out {str(out)!r}: give the path of a .md file; the JSON rows go beside it")
    board_json = out.with_suffix(".json")
    for path in (out, board_json):
        check(path, TOOL)  # refuse before fetching anything; write_owned checks again
    check_sort(metric)
    head = git("rev-parse", "HEAD").strip()
    refspec = f"refs/exps/{head[:2]}/{head[2:]}/*"
    git("fetch", "--quiet", remote, f"+{refspec}:{refspec}")
    if pull_cache and _has_core_remote():
        names = [name for name, _ in experiments_of_head(prefix)[1]]
        if names:
            dvc("exp", "pull", "--force", remote, *names)
    rows = leaderboard_rows(prefix)
    if len(rows) == 1:
        raise SweepError(f"no experiments of {head[:7]} on {remote}" + (f" named {prefix}_*" if prefix else ""))
    check_sort(metric, rows)
    rows = [rows[0]] + sorted(rows[1:], key=sort_key(metric))
    text = stamp(leaderboard_markdown(rows, metric, "Sweep leaderboard"), TOOL)
    write_owned({out: text, board_json: json_text({"rows": rows}, TOOL)}, TOOL)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise SweepError(f"{summary}: cannot append the job summary: {error.strerror}") from None
    print(f"wrote {out} ({len(rows) - 1} experiments)")
    return rows


# ---- command line -------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse whose complaints are one SweepError line (exit 1), not usage text and exit 2."""

    def error(self, message):
        raise SweepError(f"{message} (see {self.prog} --help)")


def build_parser():
    parser = _Parser(prog="python -m tools.sweep", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    p_expand = commands.add_parser("expand", help="overrides -> a JSON matrix of experiments")
    p_expand.add_argument("overrides", nargs="+", help="key=v1,v2 (the syntax of dvc exp run --queue -S)")
    p_expand.add_argument("--prefix", default="", help="prepended to each experiment name, e.g. a run id")
    p_expand.add_argument("--params", default="params.yaml")

    p_run = commands.add_parser("run", help="run one experiment and push it")
    p_run.add_argument("--set", "-S", action="append", default=[], dest="sets", metavar="KEY=VALUE")
    p_run.add_argument("--name", help="experiment name (default: from the overrides)")
    p_run.add_argument("--entry", help="one matrix item as JSON: {\"name\": ..., \"set\": [...]}")
    p_run.add_argument("--remote", default="origin", help="git remote to push the experiment to")
    p_run.add_argument("--params", default="params.yaml")

    p_collect = commands.add_parser("collect", help="fetch every experiment and write the leaderboard")
    p_collect.add_argument("--remote", default="origin")
    p_collect.add_argument("--prefix", default="", help="only the experiments that expand named with this prefix")
    p_collect.add_argument("--sort", default="gd.rmse", help="<model>.<metric> from evaluate.json, or 'best'")
    p_collect.add_argument("--out", default="sweep/leaderboard.md", type=Path,
                           help="a new file, or one this tool wrote; the JSON rows go beside it")
    p_collect.add_argument("--pull-cache", action="store_true",
                           help="also `dvc exp pull` the experiments' outputs from the DVC remote")
    return parser


def main(argv=None):
    command = "sweep"
    try:
        args = build_parser().parse_args(argv)
        command = f"sweep {args.command}"
        if args.command == "expand":
            print(json.dumps(expand(args.overrides, args.params, args.prefix)))
        elif args.command == "run":
            sets, name = list(args.sets), args.name
            if args.entry is not None:
                entry_name, entry_sets = parse_entry(args.entry)
                sets, name = sets + entry_sets, name if name is not None else entry_name
            if not sets:
                raise SweepError("nothing to run: give --set KEY=VALUE or --entry")
            sets, name = check_run(sets, name, args.params)
            run_point(sets, name, remote=args.remote)
        else:
            collect(args.remote, args.prefix, args.sort, args.out, args.pull_cache)
    except (SweepError, OwnedError) as error:
        line = str(error).replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever a path holds
        print(f"error: {command}: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"error: {command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
