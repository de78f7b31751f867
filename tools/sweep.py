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
the same rows as JSON beside it), also appended to $GITHUB_STEP_SUMMARY when that is set.

Exit status: 0 done, 1 bad overrides or a failed command (one line on stderr).
"""

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

EVALUATE_METRICS = "metrics/evaluate.json"
MAX_JOBS = 256  # GitHub's limit on jobs from one matrix


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


def check_point(params, point, params_path):
    """Validate one matrix point the way the stages will: StageError's line, or None."""
    from stages.cli import StageError
    from stages.params import read_params

    changed = json.loads(json.dumps(params))
    for key, value in point:
        _assign(changed, key, yaml.safe_load(value))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(params_path).name
        path.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        try:
            read_params(str(path))
        except StageError as error:
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
    with open(params_path, encoding="utf-8") as handle:
        params = yaml.safe_load(handle)
    axes = []
    for text in overrides:
        key, values = parse_override(text)
        found, current = _lookup(params, key)
        if not found:
            raise SweepError(f"{text!r}: {params_path} has no key {key!r}")
        if isinstance(current, (dict, list)):
            raise SweepError(f"{text!r}: {key!r} is a section, not a value")
        if key in (existing for existing, _ in axes):
            raise SweepError(f"{text!r}: {key!r} is given twice")
        axes.append((key, values))
    points = [list(zip((key for key, _ in axes), combo)) for combo in itertools.product(*(v for _, v in axes))]
    if len(points) > MAX_JOBS:
        raise SweepError(f"{len(points)} experiments: GitHub runs at most {MAX_JOBS} jobs from one matrix")
    include = []
    for point in points:
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
    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


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
    base_params = flatten(yaml.safe_load(_show(head, params_path) or "{}"))
    rows = []
    for name, sha in [("(baseline)", head)] + found:
        metrics_text = _show(sha, EVALUATE_METRICS)
        if metrics_text is None:
            raise SweepError(f"{name}: {EVALUATE_METRICS} is not committed in {sha[:7]}")
        params = flatten(yaml.safe_load(_show(sha, params_path) or "{}"))
        changed = {key: params.get(key) for key in sorted(set(params) | set(base_params))
                   if params.get(key) != base_params.get(key)}
        rows.append({"name": name, "rev": sha, "params": changed, "metrics": json.loads(metrics_text)})
    return rows


def sort_key(metric):
    """rows sort by '<model>.<metric>' (e.g. gd.rmse) or 'best' (each row's lowest test RMSE)."""
    def key(row):
        if metric == "best":
            return min(values["rmse"] for model, values in row["metrics"].items() if model != "baseline")
        model, _, name = metric.partition(".")
        value = row["metrics"].get(model, {}).get(name or "rmse")
        return (value is None, value if value is not None else 0.0)
    return key


def leaderboard_markdown(rows, metric, title):
    models = sorted({model for row in rows for model in row["metrics"]},
                    key=lambda model: min(row["metrics"].get(model, {}).get("rmse", float("inf")) for row in rows))
    header = ["#", "experiment", "params changed"] + [f"{model} RMSE" for model in models]
    lines = [f"# {title}", "",
             f"{len(rows) - 1} experiments of {rows[0]['rev'][:7]}, sorted by `{metric}` (test split, "
             f"lower is better); every model's test RMSE from `{EVALUATE_METRICS}`.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for rank, row in enumerate(rows, 1):
        changed = ", ".join(f"`{key}={value}`" for key, value in row["params"].items()) or "–"
        cells = [str(rank), f"**{row['name']}**", changed]
        cells += [f"{row['metrics'][model]['rmse']:.3f}" if model in row["metrics"] else "–" for model in models]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def collect(remote="origin", prefix="", metric="gd.rmse", out=Path("sweep/leaderboard.md"), pull_cache=False):
    """Fetch the experiments from origin and write the leaderboard (markdown and JSON)."""
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
    rows = [rows[0]] + sorted(rows[1:], key=sort_key(metric))
    text = leaderboard_markdown(rows, metric, "Sweep leaderboard")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text)
    print(f"wrote {out} ({len(rows) - 1} experiments)")
    return rows


# ---- command line -------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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

    p_collect = commands.add_parser("collect", help="fetch every experiment and write the leaderboard")
    p_collect.add_argument("--remote", default="origin")
    p_collect.add_argument("--prefix", default="", help="only the experiments that expand named with this prefix")
    p_collect.add_argument("--sort", default="gd.rmse", help="<model>.<metric> from evaluate.json, or 'best'")
    p_collect.add_argument("--out", default="sweep/leaderboard.md", type=Path)
    p_collect.add_argument("--pull-cache", action="store_true",
                           help="also `dvc exp pull` the experiments' outputs from the DVC remote")
    args = parser.parse_args(argv)

    try:
        if args.command == "expand":
            print(json.dumps(expand(args.overrides, args.params, args.prefix)))
        elif args.command == "run":
            sets, name = list(args.sets), args.name
            if args.entry:
                try:
                    entry = json.loads(args.entry)
                except json.JSONDecodeError as error:
                    raise SweepError(f"--entry is not JSON: {error}") from None
                sets, name = sets + list(entry["set"]), name or entry["name"]
            if not sets:
                raise SweepError("nothing to run: give --set KEY=VALUE or --entry")
            point = [parse_override(item) for item in sets]
            if any(len(values) != 1 for _, values in point):
                raise SweepError("run takes one value per key; use expand for lists")
            name = name or experiment_name([(key, values[0]) for key, values in point])
            run_point(sets, name, remote=args.remote)
        else:
            collect(args.remote, args.prefix, args.sort, args.out, args.pull_cache)
    except SweepError as error:
        print(f"error: sweep {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
