"""``tools.sweep collect``: every experiment of HEAD, its changed params and scores, as one leaderboard.

With ``--remote NAME`` it first fetches the experiments from that remote (the refs ``dvc exp pull``
fetches); without it, it reads the ones this clone has. Each experiment's committed params file is read
in the project's one YAML dialect (project/yamlfile.py: no aliases, bounded), its
metrics/evaluate.json strictly (finite numbers). It writes one Markdown leaderboard and the same rows
as JSON beside it, also appended to $GITHUB_STEP_SUMMARY when that is set. ``--out`` writes only files
this tool wrote before, or new ones (tools/owned.py): never params.yaml, a directory, a device or a
symbolic link.
"""

import json
import math
import os
from pathlib import Path

from project import commands
from project.errors import UserError
from project.params import changed_keys, get_key
from project.yamlfile import Unrepresentable, load_yaml
from tools.owned import check, json_text, stamp, write_owned
from tools.sweep.grid import as_mapping
from tools.sweep.leaderboard import EVALUATE_METRICS, check_sort, leaderboard_markdown, sort_key
from tools.sweep.runner import check_remote, has_dvc_remote

TOOL = "tools.sweep"
PARAMS = "params.yaml"


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_metrics(text, where):
    """The test scores in metrics/evaluate.json, {model: {"rmse": number, ...}}, or UserError.

    The evaluate stage writes them under details.test; a file of older revisions has them at the top.
    """
    try:
        metrics = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UserError(f"{where}: not JSON: {error}") from None
    if isinstance(metrics, dict) and isinstance(metrics.get("details"), dict):
        metrics = metrics["details"].get("test")
    if not (isinstance(metrics, dict) and metrics and all(
            isinstance(values, dict) and "rmse" in values
            and all(value is None or _finite(value) for value in values.values())
            for values in metrics.values())):
        raise UserError(f"{where}: expected details.test = {{model: {{\"rmse\": number, ...}}}} with finite numbers, "
                        "as the evaluate stage writes")
    return metrics


def _plain(value):
    """A params value as JSON holds it (a number no float holds, 1e400, as its text)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Unrepresentable):
        return value.text
    if value is None or isinstance(value, (str, bool, int)) or _finite(value):
        return value
    return str(value)


def params_at(sha, where):
    """The raw params mapping committed at ``sha`` ({} where it has none), read in the project's dialect."""
    text = commands.file_at(sha, PARAMS)
    return {} if text is None else as_mapping(load_yaml(text, where), where)


def experiments_of_head(prefix=""):
    """(HEAD, [(name, sha)]) of the experiments whose baseline is HEAD, optionally by name prefix."""
    head = commands.git("rev-parse", "HEAD").strip()
    found = []
    listing = commands.git("for-each-ref", "--format=%(refname) %(objectname)", f"refs/exps/{head[:2]}/{head[2:]}/")
    for line in listing.splitlines():
        ref, sha = line.split()
        name = ref.rsplit("/", 1)[-1]
        if not prefix or name.startswith(f"{prefix}_"):
            found.append((name, sha))
    return head, sorted(found)


def leaderboard_rows(prefix=""):
    """One row per experiment plus the baseline revision: name, changed params, every model's metrics."""
    head, found = experiments_of_head(prefix)
    base = params_at(head, f"{head[:7]}:{PARAMS}")
    rows = []
    for name, sha in [("(baseline)", head)] + found:
        text = commands.file_at(sha, EVALUATE_METRICS)
        if text is None:
            raise UserError(f"{name}: {EVALUATE_METRICS} is not committed in {sha[:7]}")
        metrics = load_metrics(text, f"{name}: {sha[:7]}:{EVALUATE_METRICS}")
        params = params_at(sha, f"{name}: {sha[:7]}:{PARAMS}")
        changed = {key: _plain(get_key(params, key, None)) for key in changed_keys(base, params)}
        rows.append({"name": name, "rev": sha, "params": changed, "metrics": metrics})
    return rows


def _baseline_model():
    from project.models import read_models

    return read_models().baseline


def collect(remote=None, prefix="", metric="gd.rmse", out=Path("sweep/leaderboard.md"), pull_cache=False):
    """Fetch the experiments from ``remote`` (None: this clone's) and write the leaderboard (Markdown and JSON)."""
    out = Path(out)
    if not out.name or out.suffix.lower() == ".json":
        raise UserError(f"--out {str(out)!r}: give the path of a .md file; the JSON rows go beside it")
    board_json = out.with_suffix(".json")
    for path in (out, board_json):
        check(path, TOOL)  # refuse before fetching anything; write_owned checks again
    check_sort(metric)
    if pull_cache and remote is None:
        raise UserError("--pull-cache pulls the experiments' outputs from --remote NAME's DVC remote: give --remote")
    head = commands.git("rev-parse", "HEAD").strip()
    if remote is not None:
        check_remote(remote)
        refspec = f"refs/exps/{head[:2]}/{head[2:]}/*"
        commands.git("fetch", "--quiet", remote, f"+{refspec}:{refspec}")
        if pull_cache and has_dvc_remote():
            names = [name for name, _ in experiments_of_head(prefix)[1]]
            if names:
                commands.dvc("exp", "pull", "--force", remote, *names)
    rows = leaderboard_rows(prefix)
    if len(rows) == 1:
        where = f"on {remote}" if remote else "in this clone (give --remote NAME to fetch a sweep's)"
        raise UserError(f"no experiments of {head[:7]} {where}" + (f" named {prefix}_*" if prefix else ""))
    check_sort(metric, rows)
    baseline = _baseline_model() if metric == "best" else None
    rows = [rows[0]] + sorted(rows[1:], key=sort_key(metric, baseline))
    text = stamp(leaderboard_markdown(rows, metric, "Sweep leaderboard"), TOOL)
    write_owned({out: text, board_json: json_text({"rows": rows}, TOOL)}, TOOL)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise UserError(f"{summary}: cannot append the job summary: {error.strerror}") from None
    print(f"wrote {out} ({len(rows) - 1} experiments)")
    return rows
