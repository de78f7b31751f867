"""A pull-request report: what changed against a base revision, as markdown a reviewer reads.

    python -m tools.report [--base main] [--out report/report.md] [--check]

Writes the params diff, the metrics diff, a leaderboard of the models by test RMSE
with the change against the base, the gates from params.yaml as pass/fail lines,
the worst test predictions and residuals, and every changed plot as a PNG drawn
here with matplotlib (no network, no browser). With ``--check`` the command
exits 1 when a gate fails or a model's test RMSE regressed beyond
``gates.regression_tolerance``, so CI can block the pull request.
"""

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

from stages.cli import StageError, stage_main
from stages.files import read_json, save_figure, write_text
from stages.params import MODEL_NAMES, read_params

EVALUATE_METRICS = "metrics/evaluate.json"
PREDICTIONS = "plots/evaluate/predictions.csv"


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

def fmt(value, digits=4):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


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


def leaderboard(current, base):
    """Models ranked by test RMSE: (model, rmse, base_rmse, change vs base, vs baseline, r2)."""
    baseline_rmse = current["baseline"]["rmse"]
    rows = []
    for model in MODEL_NAMES:
        if model not in current:
            continue
        rmse = current[model]["rmse"]
        old = (base or {}).get(model, {}).get("rmse")
        rows.append({
            "model": model, "rmse": rmse, "base_rmse": old,
            "change": None if old in (None, 0) else (rmse - old) / old,
            "vs_baseline": (rmse - baseline_rmse) / baseline_rmse,
            "r2": current[model]["r2"],
        })
    return sorted(rows, key=lambda row: row["rmse"])


def leader(board):
    """The best-ranked model that learned something (the baseline only predicts the mean)."""
    return next(row["model"] for row in board if row["model"] != "baseline")


def gate_results(current, base, gates):
    """[(passed, line)] for each declared gate and for regressions against the base."""
    results = []
    reference = current["least_squares"]["mse"]
    for model, ratio in sorted(gates["max_mse_ratio"].items()):
        value = current[model]["mse"] / reference
        results.append((value <= ratio, f"{model} test MSE is {value:.4f}× least squares' "
                                        f"(allowed ≤ {ratio:g}×)"))
    if base is None:
        return results
    tolerance = gates["regression_tolerance"]
    regressions = []
    for model in MODEL_NAMES:
        old = base.get(model, {}).get("rmse")
        if old is None or model not in current:
            continue
        rise = (current[model]["rmse"] - old) / old
        if rise > tolerance:
            regressions.append((False, f"{model} test RMSE rose {rise:+.2%} against the base "
                                       f"({old:.4g} → {current[model]['rmse']:.4g}; tolerance {tolerance:.0%})"))
    results += regressions or [(True, f"no model's test RMSE rose by more than {tolerance:.0%} against the base")]
    return results


# ---- pictures -----------------------------------------------------------------------------

def draw_leaderboard(rows):
    from stages.figures import MODEL_COLORS, new_figure

    rows = sorted(rows, key=lambda row: row["rmse"], reverse=True)  # best at the top
    figure, axes = new_figure(figsize=(7.0, 3.6))
    names = [row["model"] for row in rows]
    axes.barh(names, [row["rmse"] for row in rows], color=[MODEL_COLORS[name] for name in names])
    bases = [(i, row["base_rmse"]) for i, row in enumerate(rows) if row["base_rmse"] is not None]
    if bases:
        axes.scatter([b for _, b in bases], [i for i, _ in bases], marker="|", s=400, color="black", zorder=3)
    for i, row in enumerate(rows):
        axes.text(row["rmse"], i, f" {row['rmse']:.3f}", va="center", fontsize=9)
    axes.set_xlabel("test RMSE (lower is better)")
    axes.set_title("Leaderboard" + (" (black tick: the base)" if bases else ""))
    axes.grid(axis="y", visible=False)
    return figure


def draw_residuals(table, feature):
    from stages.figures import MODEL_COLORS, new_figure

    models = [name for name in MODEL_NAMES if name in table.columns]
    figure, grid = new_figure(nrows=2, ncols=3, sharex=True, sharey=True, figsize=(10.0, 5.5))
    for axes, model in zip(grid.ravel(), models):
        residual = table["actual"] - table[model]
        axes.scatter(table[feature], residual, s=10, alpha=0.6, color=MODEL_COLORS[model], edgecolor="none")
        axes.axhline(0.0, color="black", linewidth=0.8)
        axes.set_title(f"{model} (mean {residual.mean():+.2f})", fontsize=10)
    for axes in grid[-1]:
        axes.set_xlabel(feature)
    for axes in grid[:, 0]:
        axes.set_ylabel("actual − predicted")
    figure.suptitle("Residuals on the test split")
    return figure


def draw_overlay(title, spec, old_text, new_text):
    """A data-series plot from dvc.yaml drawn for the base and the workspace on one axes."""
    import pandas as pd

    from stages.figures import new_figure

    figure, axes = new_figure()
    (path, columns), = spec["y"].items()
    columns = [columns] if isinstance(columns, str) else columns
    for label, text, style in (("base", old_text, "--"), ("this change", new_text, "-")):
        if text is None:
            continue
        frame = pd.read_csv(io.BytesIO(text))
        for column in columns:
            name = f"{column} ({label})" if len(columns) > 1 else label
            if spec.get("template") == "scatter":
                axes.scatter(frame[spec["x"]], frame[column], s=10, alpha=0.5, label=name)
            else:
                axes.plot(frame[spec["x"]], frame[column], style, linewidth=2, label=name)
    if spec.get("template") != "scatter" and "loss" in title.lower():
        axes.set_yscale("log")
    axes.set_xlabel(spec["x"])
    axes.set_ylabel(spec.get("y_label", ", ".join(columns)))
    axes.set_title(title)
    axes.legend(fontsize=8)
    return figure


def slug(text):
    return "".join(char if char.isalnum() else "_" for char in text.lower()).strip("_")


def changed_plots(revision, out_dir):
    """Draw each plot of dvc.yaml whose file changed against the base; [(title, [png names])]."""
    import yaml

    with open("dvc.yaml", encoding="utf-8") as handle:
        definitions = yaml.safe_load(handle).get("plots", [])
    pictures = []
    for entry in definitions:
        if isinstance(entry, str):  # an image file
            old, new = file_at(revision, entry), Path(entry).read_bytes() if Path(entry).exists() else None
            if new is None or old == new:
                continue
            names = []
            for label, data in (("base", old), ("new", new)):
                if data is not None:
                    name = f"{label}_{slug(entry)}.png"
                    (out_dir / name).write_bytes(data)
                    names.append(name)
            pictures.append((entry, names))
            continue
        (title, spec), = entry.items()
        (path, _), = spec["y"].items()
        old, new = file_at(revision, path), Path(path).read_bytes() if Path(path).exists() else None
        if new is None or old == new:
            continue
        name = f"plot_{slug(title)}.png"
        save_figure(draw_overlay(title, spec, old, new), out_dir / name)
        pictures.append((title, [name]))
    return pictures


# ---- the report ---------------------------------------------------------------------------

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def build_report(base_name, revision, params_diff, metrics_diff, board, gates, worst, feature, pictures):
    short = revision[:7]
    lines = [f"# fromzero: this change against `{base_name}` ({short})", ""]
    failed = [line for passed, line in gates if not passed]
    lines += [f"**Gates: {'all passed' if not failed else f'{len(failed)} failed'}**", ""]
    lines += [f"- {'✅ PASS' if passed else '❌ FAIL'}: {line}" for passed, line in gates]

    lines += ["", "## Leaderboard (test split)", ""]
    lines.append(markdown_table(
        ["#", "model", "RMSE", "base", "change", "vs baseline", "R²"],
        [(i, f"**{row['model']}**", f"{row['rmse']:.3f}",
          "–" if row["base_rmse"] is None else f"{row['base_rmse']:.3f}",
          "–" if row["change"] is None else f"{row['change']:+.2%}",
          f"{row['vs_baseline']:+.1%}", f"{row['r2']:.3f}") for i, row in enumerate(board, 1)]))
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
    lines.append(markdown_table([feature, "actual", "predicted", "error"],
                                [(f"{r[feature]:.3f}", f"{r['actual']:.1f}", f"{r[best]:.1f}",
                                  f"{r[best] - r['actual']:+.1f}") for _, r in worst.iterrows()]))
    lines += ["", "![residuals](residuals.png)", ""]

    lines += ["## Plots that changed", ""]
    if not pictures:
        lines.append("None: every plot is byte-identical to the base.")
    for title, names in pictures:
        lines += [f"### {title}", ""]
        lines += [f"![{name}]({name})" for name in names]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision or experiment to compare with (main)")
    parser.add_argument("--out", default="report/report.md", type=Path, help="markdown file to write")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a gate fails or a test RMSE regressed beyond the tolerance")
    args = parser.parse_args(argv)

    gates_params = read_params(args.params)
    feature = gates_params["data"]["feature"]
    revision = resolve_revision(args.base)
    if not Path(EVALUATE_METRICS).exists():
        raise StageError(f"{EVALUATE_METRICS}: not found; run `dvc repro` first")
    current = read_json(EVALUATE_METRICS)
    base_bytes = file_at(revision, EVALUATE_METRICS)
    base = json.loads(base_bytes) if base_bytes else None

    params_diff = dvc_json("params", "diff", revision)
    metrics_diff = dvc_json("metrics", "diff", revision)
    board = leaderboard(current, base)
    gates = gate_results(current, base, gates_params["gates"])

    import pandas as pd

    table = pd.read_csv(PREDICTIONS)
    best = leader(board)
    worst = table.reindex((table[best] - table["actual"]).abs().sort_values(ascending=False).index).head(5)

    out_dir = args.out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    save_figure(draw_leaderboard(board), out_dir / "leaderboard.png")
    save_figure(draw_residuals(table, feature), out_dir / "residuals.png")
    pictures = changed_plots(revision, out_dir)
    write_text(args.out, build_report(args.base, revision, params_diff, metrics_diff, board, gates,
                                      worst, feature, pictures))
    print(f"wrote {args.out}")
    failed = [line for passed, line in gates if not passed]
    for line in failed:
        print(f"gate failed: {line}", file=sys.stderr)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
