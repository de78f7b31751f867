"""A pull-request report: what changed against a base revision, as markdown a reviewer reads.

    python -m tools.report [--base main] [--out report/report.md] [--check]

Writes the params diff, the metrics diff, a leaderboard of the models by test RMSE
(with each test MSE's bootstrap interval, the paired interval against least
squares, the cross-validated MSE, the change against the base and whether that
change is real or inside the noise of the split), the gates from params.yaml as
pass/fail lines, the worst test predictions and residuals, and every changed plot
as a PNG (no network, no browser).

The models and their order come from models.yaml, their colours from stages/style.py:
a model added there appears here without editing this file.

Is a move real? For each model whose test predictions moved against the base, the
per-row squared errors of this change and of the base on the same test rows are
resampled jointly (a paired bootstrap, ``evaluate.bootstrap`` resamples, ``seed``,
``evaluate.confidence``): an interval of the MSE difference that excludes 0 is a
real change, one that contains 0 lies within the noise of the split. When the test
rows differ from the base's (the data or the split changed) the comparison is not
paired and is skipped.

Exit status, so CI can tell a verdict from a crash:
  0  the report was written (and, with ``--check``, every gate passed)
  1  the report was written and, with ``--check``, a gate failed or a model's test
     RMSE regressed beyond ``gates.regression_tolerance``
  2  the report itself failed (bad arguments, a missing file, a failed git/dvc
     call, or a bug): one line on stderr, no traceback
"""

import argparse
import io
import json
import math
import subprocess
import sys
import traceback
from pathlib import Path

from stages.cli import StageError
from stages.files import read_json, save_figure, write_text
from stages.models import read_models
from stages.params import SCHEMA, read_params
from stages.style import model_colors
from tools import gates as gate_rules

EVALUATE_METRICS = "metrics/evaluate.json"
CV_METRICS = "metrics/cv.json"
PREDICTIONS = "plots/evaluate/predictions.csv"
REFERENCE = gate_rules.REFERENCE
READS = ["seed", "cv.folds", "evaluate", "gates"]
PAIRING_COLUMNS = ("row", "actual")  # the same test rows in the same order, or no paired comparison


# ---- talking to git and DVC ---------------------------------------------------------------

def _run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        command = " ".join(args[2:] if args[0] == sys.executable else args)
        last_line = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
        raise StageError(f"`{command}` failed: {last_line}")
    return result.stdout


def dvc_json(*args):
    return json.loads(_run([sys.executable, "-m", "dvc", *args, "--json"]) or "{}")


def resolve_revision(name):
    """A git commit for a branch, tag, SHA or DVC experiment name."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode == 0:
        return found.stdout.strip()
    refs = _run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"]).splitlines()
    for line in refs:
        ref, sha = line.split()
        if ref.rsplit("/", 1)[-1] == name:
            return sha
    raise StageError(f"base revision {name!r} is neither a git revision nor a DVC experiment")


def file_at(revision, path):
    """A git-tracked file's bytes at a revision, or None where it did not exist."""
    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True)
    return result.stdout if result.returncode == 0 else None


# ---- what changed -------------------------------------------------------------------------

def details(metrics, kind):
    """{model: {...}} of a metrics file the evaluate stage writes ({"details": {kind: ...}}; older
    revisions wrote the models at the top)."""
    if isinstance(metrics, dict) and isinstance(metrics.get("details"), dict):
        return metrics["details"].get(kind) or {}
    return metrics


def fmt(value, digits=4):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def number(value, sign="", digits=3):
    """Three significant digits, kept (46.0, not 46); whole numbers from 1000 up; '–' for None."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** digits:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}#.{digits}g}".rstrip(".")


def interval(value, low, high, sign=""):
    """'value [low, high]', or the value alone when there is no interval."""
    if low is None or high is None:
        return number(value, sign)
    return f"{number(value, sign)} [{number(low, sign)}, {number(high, sign)}]"


def changed_rows(diff):
    """Rows (file, key, old, new, change) of a `dvc params/metrics diff --json`, changed only."""
    rows = []
    for path, entries in sorted(diff.items()):
        for key, entry in sorted(entries.items()):
            old, new = entry.get("old"), entry.get("new")
            if old == new:
                continue
            change = entry.get("diff")
            if isinstance(old, bool) or isinstance(new, bool):
                change = None  # DVC subtracts booleans; a flip is clearer without a number
            elif change is None and isinstance(old, (int, float)) and isinstance(new, (int, float)) \
                    and not isinstance(old, bool):
                change = new - old
            rows.append((path, key, old, new, change))
    return rows


def leaderboard(names, current, base, cv=None, moves=None):
    """The models ``names`` ranked by test RMSE, one dict each.

    Keys: model, rmse, base_rmse, change (vs base), vs_baseline, r2, mse, mse_low,
    mse_high, vs_ls (difference, low, high) or None, cv (mean, std) or None, and
    move (see ``paired_moves``) or None.
    """
    baseline_rmse = current.get("baseline", {}).get("rmse")
    rows = []
    for model in names:
        if model not in current:
            continue
        scores = current[model]
        rmse = scores["rmse"]
        old = (base or {}).get(model, {}).get("rmse")
        vs_ls = tuple(scores.get(key) for key in ("vs_ls", "vs_ls_low", "vs_ls_high"))
        folds = (cv or {}).get(model)
        rows.append({
            "model": model, "rmse": rmse, "base_rmse": old,
            "change": None if old in (None, 0) else (rmse - old) / old,
            "vs_baseline": None if not baseline_rmse else (rmse - baseline_rmse) / baseline_rmse,
            "r2": scores.get("r2"), "mse": scores["mse"],
            "mse_low": scores.get("mse_low"), "mse_high": scores.get("mse_high"),
            "vs_ls": vs_ls if None not in vs_ls else None,
            "cv": (folds["mse_mean"], folds["mse_std"]) if folds else None,
            "move": (moves or {}).get(model),
        })
    return sorted(rows, key=lambda row: row["rmse"])


def leader(board):
    """The best-ranked model that learned something (the baseline only predicts the mean)."""
    return next((row["model"] for row in board if row["model"] != "baseline"), board[0]["model"])


# ---- is a move real? ------------------------------------------------------------------------

def read_predictions(data):
    """predictions.csv bytes (or a path), long (model, row, actual, predicted) -> DataFrame: row, actual,
    one column per model, in the file's order of models."""
    import pandas as pd

    table = pd.read_csv(io.BytesIO(data) if isinstance(data, bytes) else data, dtype={"model": str})
    if "model" not in table.columns:  # the wide layout of older revisions: one column per model already
        return table
    models = list(dict.fromkeys(table["model"]))
    wide = table.pivot(index="row", columns="model", values="predicted").reset_index()
    actual = table.drop_duplicates("row").set_index("row")["actual"]
    wide.insert(1, "actual", actual.reindex(wide["row"]).to_numpy())
    return wide[["row", "actual", *models]].rename_axis(columns=None)


def same_test_rows(base_table, table):
    """Whether two predictions tables score the same test rows in the same order."""
    columns = [column for column in PAIRING_COLUMNS if column in base_table.columns and column in table.columns]
    if "actual" not in columns or len(base_table) != len(table):
        return False
    return all((base_table[column].to_numpy() == table[column].to_numpy()).all() for column in columns)


def paired_moves(base_table, table, current, base, settings, names=None):
    """{model: move} for the models whose test score moved against the base.

    A move is {"verdict": "yes, worse" | "yes, better" | "within noise" | "not paired",
    "difference", "low", "high"} (MSE now minus the base's on the same test rows, and
    its paired bootstrap interval), from fromzero.metrics.paired_bootstrap_difference.
    ``settings`` holds resamples, seed and confidence. A model that did not move,
    or that the base does not have, gets no entry.
    """
    from fromzero.metrics import paired_bootstrap_difference

    if base_table is None or base is None:
        return {}
    paired = same_test_rows(base_table, table)
    moves = {}
    for model in names or [column for column in table.columns if column not in PAIRING_COLUMNS]:
        if model not in table.columns or model not in base:
            continue
        if not paired:  # other rows: every score moves, and no per-row comparison exists
            if current.get(model, {}).get("mse") != base[model].get("mse"):
                moves[model] = {"verdict": "not paired", "difference": None, "low": None, "high": None}
            continue
        if model not in base_table.columns or (base_table[model].to_numpy() == table[model].to_numpy()).all():
            continue  # no base predictions of it, or the same predictions on the same rows: nothing to test
        difference, low, high = paired_bootstrap_difference(
            table["actual"].to_numpy(), table[model].to_numpy(), base_table[model].to_numpy(),
            resamples=settings["resamples"], seed=settings["seed"], confidence=settings["confidence"])
        verdict = "yes, worse" if low > 0 else "yes, better" if high < 0 else "within noise"
        moves[model] = {"verdict": verdict, "difference": difference, "low": low, "high": high}
    return moves


def move_cell(move):
    if move is None:
        return "–"
    if move["difference"] is None:
        return move["verdict"]
    return f"{move['verdict']} (ΔMSE {interval(move['difference'], move['low'], move['high'], sign='+')})"


def percent(confidence):
    return f"{confidence * 100:g} %"


# ---- pictures -----------------------------------------------------------------------------

def draw_leaderboard(rows, colors, confidence=0.95):
    from stages.figures import new_figure

    rows = sorted(rows, key=lambda row: row["rmse"], reverse=True)  # best at the top
    figure, axes = new_figure(figsize=(7.0, 1.2 + 0.4 * len(rows)))
    names = [row["model"] for row in rows]
    axes.barh(names, [row["rmse"] for row in rows], color=[colors[name] for name in names])
    # The bootstrap interval of the MSE, as RMSE (a percentile interval survives the square root).
    spans = [(i, row) for i, row in enumerate(rows) if row["mse_low"] is not None and row["mse_high"] is not None]
    if spans:
        axes.errorbar([row["rmse"] for _, row in spans], [i for i, _ in spans], fmt="none", ecolor="#444444",
                      capsize=3, linewidth=1,
                      xerr=[[max(0.0, row["rmse"] - math.sqrt(row["mse_low"])) for _, row in spans],
                            [max(0.0, math.sqrt(row["mse_high"]) - row["rmse"]) for _, row in spans]])
    bases = [(i, row["base_rmse"]) for i, row in enumerate(rows) if row["base_rmse"] is not None]
    if bases:
        axes.scatter([b for _, b in bases], [i for i, _ in bases], marker="|", s=400, color="black", zorder=3)
    for i, row in enumerate(rows):  # the value beyond the whisker, so neither hides the other
        end = max(row["rmse"], math.sqrt(row["mse_high"])) if row["mse_high"] is not None else row["rmse"]
        axes.text(end, i, f" {row['rmse']:.3f}", va="center", fontsize=9)
    axes.set_xlabel("test RMSE (lower is better)"
                    + (f"; whiskers: {percent(confidence)} bootstrap interval" if spans else ""))
    axes.set_title("Leaderboard" + (" (black tick: the base)" if bases else ""))
    axes.grid(axis="y", visible=False)
    return figure


def draw_residuals(table, colors, columns=3):
    """Each model's residuals against its prediction, one panel per model (any number of models)."""
    import numpy as np

    from stages.figures import new_figure

    models = [name for name in colors if name in table.columns]
    ncols = max(1, min(columns, len(models)))
    nrows = max(1, math.ceil(len(models) / ncols))
    # Residuals share a scale; predictions do not (the baseline's is one value).
    figure, grid = new_figure(nrows=nrows, ncols=ncols, sharey=True, squeeze=False,
                              figsize=(3.4 * ncols, 0.4 + 2.6 * nrows))
    panels = list(np.ravel(grid))
    for axes, model in zip(panels, models):
        residual = table["actual"] - table[model]
        axes.scatter(table[model], residual, s=10, alpha=0.6, color=colors[model], edgecolor="none")
        axes.axhline(0.0, color="black", linewidth=0.8)
        axes.set_title(f"{model} (mean {residual.mean():+.2f})", fontsize=10)
        axes.set_xlabel("predicted")
    for axes in panels[len(models):]:
        axes.set_visible(False)
    for axes in grid[:, 0]:
        axes.set_ylabel("actual − predicted")
    figure.suptitle("Residuals on the test split")
    return figure


def image_files(revision, entry):
    """The PNG files a plots entry names: the file itself, or every PNG under a folder, now or at ``revision``."""
    if not entry.endswith("/") and not Path(entry).is_dir() and file_at(revision, entry) is not None:
        return [entry]
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, "--", entry],
                            capture_output=True, text=True).stdout.split()
    here = [path.as_posix() for path in Path(entry).rglob("*.png")] if Path(entry).is_dir() else []
    return sorted({path for path in listed + here if path.endswith(".png")}) or \
        ([entry] if Path(entry).is_file() else [])


def changed_plots(revision, out_dir):
    """Each plot of dvc.yaml whose data changed against the base; [(title, [png names])].

    Data-series plots are the Vega-Lite specs `dvc plots diff` fills in, rendered by
    tools/vega.py (so the report draws what `dvc plots` and VS Code draw); images are copied.
    """
    import yaml

    from tools.vega import render_changed, slug

    rendered = render_changed(revision, out_dir)
    with open("dvc.yaml", encoding="utf-8") as handle:
        definitions = yaml.safe_load(handle).get("plots", [])
    pictures = []
    for entry in definitions:
        if isinstance(entry, str):  # an image file, or a folder of them
            for image in image_files(revision, entry):
                old, new = file_at(revision, image), Path(image).read_bytes() if Path(image).exists() else None
                if new is None or old == new:
                    continue
                names = []
                for label, data in (("base", old), ("new", new)):
                    if data is not None:
                        name = f"{label}_{slug(image)}.png"
                        (out_dir / name).write_bytes(data)
                        names.append(name)
                pictures.append((image, names))
            continue
        (title, _), = entry.items()
        if title in rendered:
            pictures.append((title, [rendered[title]]))
    return pictures


# ---- the report ---------------------------------------------------------------------------

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


PAIRING_NOTES = {
    "not paired": "**Not paired:** the test rows differ from the base's (the data or the split changed), so no "
                  "move against the base is called real or noise.",
    "no base predictions": f"The base has no {PREDICTIONS}, so no move against it is tested against the noise.",
}


def leaderboard_table(board, settings, folds, has_base, pairing):
    """The leaderboard as markdown, then a note on the pairing and a legend saying what each interval is."""
    show_cv = any(row["cv"] for row in board)
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "RMSE", "base RMSE", "change", "real change?",
              f"vs least squares: ΔMSE [{confidence}]", "vs baseline", "R²"]
    if show_cv:
        header.append(f"CV MSE ({folds} folds)")
    rows = []
    for i, row in enumerate(board, 1):
        cells = [i, f"**{row['model']}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
                 f"{row['rmse']:.3f}",
                 "–" if row["base_rmse"] is None else f"{row['base_rmse']:.3f}",
                 "–" if row["change"] is None else f"{row['change']:+.2%}",
                 move_cell(row["move"]),
                 "–" if row["vs_ls"] is None else interval(*row["vs_ls"], sign="+"),
                 "–" if row["vs_baseline"] is None else f"{row['vs_baseline']:+.1%}",
                 "–" if row["r2"] is None else f"{row['r2']:.3f}"]
        if show_cv:
            cells.append("–" if row["cv"] is None else f"{number(row['cv'][0])} ± {number(row['cv'][1], digits=2)}")
        rows.append(cells)
    legend = [PAIRING_NOTES[pairing]] if has_base and pairing in PAIRING_NOTES else []
    legend += [
        f"Test MSE: the point value and its {confidence} bootstrap interval over the test rows. "
        f"vs least squares: this model's test MSE minus least squares' on the same rows, with its paired "
        f"interval (entirely below 0: a real win).",
    ]
    if has_base:
        legend.append(
            f"Real change?: for a model whose test predictions moved against the base, the paired bootstrap of "
            f"per-row squared errors (now vs the base, the same test rows; {settings['resamples']} resamples, "
            f"seed {settings['seed']}): ΔMSE is now minus the base, and a {confidence} interval that excludes 0 "
            f"is a real change; one that contains 0 lies within the noise of the split.")
    if show_cv:
        legend.append(f"CV MSE: mean ± std over {folds} folds of cross-validation on the training split "
                      f"({CV_METRICS}).")
    return "\n\n".join([markdown_table(header, rows), *legend])


def build_report(base_name, revision, params_diff, metrics_diff, board, gates, worst, pictures, *,
                 settings, folds, has_base, pairing):
    short = revision[:7]
    lines = [f"# fromzero: this change against `{base_name}` ({short})", ""]
    failed = [line for passed, line in gates if not passed]
    lines += [f"**Gates: {'all passed' if not failed else f'{len(failed)} failed'}**", ""]
    lines += [f"- {'✅ PASS' if passed else '❌ FAIL'}: {line}" for passed, line in gates]

    lines += ["", "## Leaderboard (test split)", ""]
    lines.append(leaderboard_table(board, settings, folds, has_base, pairing))
    lines += ["", "![leaderboard](leaderboard.png)", ""]

    lines += ["## Params changed", ""]
    rows = changed_rows(params_diff)
    lines.append(markdown_table(["file", "key", "base", "now"], [(p, f"`{k}`", fmt(o), fmt(n)) for p, k, o, n, _ in rows])
                 if rows else "No params changed.")
    lines += ["", "## Metrics changed", ""]
    rows = changed_rows(metrics_diff)
    lines.append(markdown_table(["file", "metric", "base", "now", "change"],
                                [(p, f"`{k}`", fmt(o), fmt(n), fmt(c)) for p, k, o, n, c in rows])
                 if rows else "No metrics changed.")

    best = leader(board)
    lines += ["", f"## Worst test predictions of the leader, `{best}`", ""]
    lines.append(markdown_table(["test row", "actual", "predicted", "error"],
                                [(int(r["row"]) if "row" in r else i, f"{r['actual']:.1f}", f"{r[best]:.1f}",
                                  f"{r[best] - r['actual']:+.1f}") for i, r in worst.iterrows()]))
    lines += ["", "![residuals](residuals.png)", ""]

    lines += ["## Plots that changed", ""]
    if not pictures:
        lines.append("None: every plot is byte-identical to the base.")
    for title, names in pictures:
        lines += [f"### {title}", ""]
        lines += [f"![{name}]({name})" for name in names]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


GATE_FAILED, REPORT_FAILED = 1, 2


def main(argv=None):
    """Write the report; exit 0, 1 (a gate failed, with --check) or 2 (the report failed)."""
    try:
        return write_report(argv)
    except StageError as error:
        print(f"error: report: {error}", file=sys.stderr)
    except Exception as error:  # a bug or a broken environment: still one line, and never 1
        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(f"error: report: unexpected {type(error).__name__}: {error} "
              f"(at {Path(frame.filename).name}:{frame.lineno})", file=sys.stderr)
    return REPORT_FAILED


def write_report(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision or experiment to compare with (main)")
    parser.add_argument("--out", default="report/report.md", type=Path, help="markdown file to write")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a gate fails or a test RMSE regressed beyond the tolerance "
                             "(2 means the report itself failed)")
    args = parser.parse_args(argv)

    names = list(read_models())
    colors = model_colors(names)
    params = read_params(args.params, keys=READS, schema={**SCHEMA, **gate_rules.schema(names)})
    settings = {"resamples": params["evaluate"]["bootstrap"], "seed": params["seed"],
                "confidence": params["evaluate"]["confidence"]}
    revision = resolve_revision(args.base)
    for path in (EVALUATE_METRICS, PREDICTIONS):
        if not Path(path).exists():
            raise StageError(f"{path}: not found; run `dvc repro` first")
    current = details(read_json(EVALUATE_METRICS), "test")
    base_bytes = file_at(revision, EVALUATE_METRICS)
    base = details(json.loads(base_bytes), "test") if base_bytes else None
    cv = details(read_json(CV_METRICS), "cv") if Path(CV_METRICS).exists() else None

    table = read_predictions(PREDICTIONS)
    base_predictions = file_at(revision, PREDICTIONS)
    base_table = read_predictions(base_predictions) if base_predictions else None
    pairing = ("no base predictions" if base_table is None
               else "paired" if same_test_rows(base_table, table) else "not paired")
    moves = paired_moves(base_table, table, current, base, settings, names)

    params_diff = dvc_json("params", "diff", revision)
    metrics_diff = dvc_json("metrics", "diff", revision)
    board = leaderboard(names, current, base, cv, moves)
    gates = gate_rules.gate_results(names, current, base, params["gates"], settings["confidence"])

    best = leader(board)
    worst = table.reindex((table[best] - table["actual"]).abs().sort_values(ascending=False).index).head(5)

    out_dir = args.out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    save_figure(draw_leaderboard(board, colors, settings["confidence"]), out_dir / "leaderboard.png")
    save_figure(draw_residuals(table, colors), out_dir / "residuals.png")
    pictures = changed_plots(revision, out_dir)
    write_text(args.out, build_report(args.base, revision, params_diff, metrics_diff, board, gates, worst, pictures,
                                      settings=settings, folds=params["cv"]["folds"], has_base=base is not None,
                                      pairing=pairing))
    print(f"wrote {args.out}")
    failed = [line for passed, line in gates if not passed]
    for line in failed:
        print(f"gate failed: {line}", file=sys.stderr)
    return GATE_FAILED if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
