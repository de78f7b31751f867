"""A pull-request report: what changed against a base revision, as Markdown a reviewer reads.

    python -m tools.report [--base main] [--out report/report.md] [--check]

The Markdown is the pull-request comment and the job summary as written: its pictures are Mermaid
charts GitHub draws in the page (no image host, so it works on a pull request from a fork too), and
it stays within GitHub's 65,536 characters per comment (long tables are cut, and say so). It opens
with the gates and a compact leaderboard (test MSE with its bootstrap interval, the change against
the base and whether that change is real or inside the noise of the split, the paired difference
from least squares) and a bar chart of every model's test MSE, now and at the base. Folded below:
each iterative model's training loss, the full leaderboard (RMSE, R², cross-validation), the params
and metrics that changed, the leader's worst test predictions, and the PNG pictures.

The PNGs (the leaderboard, the residuals, every dvc.yaml plot whose data changed, drawn by
vl-convert as `dvc plots` draws them) go to a folder beside the report, ``<out stem>-pictures/``,
with an ``index.md`` that shows them: the CI artifact, for reading offline. The comment never
depends on them. vl-convert runs in a child process: if it dies (its V8 engine cannot reserve its
address space under `ulimit -v`, say) the plot is marked as not rendered and the report still writes.

Everything the report shows from data (column names, params values, metric keys, file paths,
revision and model names) is shown as text, never as Markdown or HTML: see ``code()``.

``--out`` writes only what this tool owns (tools/owned.py): a new file, or one it wrote before (its
first line is the ``<!-- written by tools.report; ...`` mark); never params.yaml, a directory or a
device. The pictures folder likewise: new, or the one it wrote (its index.md carries the mark and
lists the PNGs it wrote, the only files it replaces or removes).

The models and their order come from models.yaml, their colours from stages/style.py: a model
added there appears here without editing this file.

Is a move real? For each model whose test predictions moved against the base, the per-row
squared errors of this change and of the base on the same test rows are resampled jointly (a
paired bootstrap, ``evaluate.bootstrap`` resamples, ``seed``, ``evaluate.confidence``): an
interval of the MSE difference that excludes 0 is a real change, one that contains 0 lies within
the noise of the split. When the test rows differ from the base's (the data or the split changed)
the comparison is not paired and is skipped. A model listed in ``gates.exempt`` is not held to the
regression tolerance: its move is shown as exempt, never as a failure.

Exit status, so CI can tell a verdict from a crash:
  0  the report was written (and, with ``--check``, every gate passed)
  1  the report was written and, with ``--check``, a gate failed or a model's test
     RMSE regressed beyond ``gates.regression_tolerance``
  2  the report itself failed (bad arguments, an --out it does not own, a missing file, a
     failed git/dvc call, or a bug): one line on stderr, no traceback
A plot that could not be drawn is one line on stderr (``warning: report: ...``) and exit 0.
"""

import argparse
import json
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from stages.cli import UserError
from project.files import read_json
from project.models import read_models
from project.params import SCHEMA, read_params
from stages.style import model_colors
from tools import gates as gate_rules
from tools.changes import (changed_rows, details, exempt_moves, leader, leaderboard, paired_moves, read_predictions,
                           same_test_rows)
from tools.charts import LOSS, LOSS_POINTS, leaderboard_chart, loss_chart, read_loss
from tools.markdown import (COMMENT_LIMIT, Part, code, fit, folded, interval, markdown_table, number, one_line, percent,
                            sentence, size, visible)
from tools.owned import OwnedError, stamp, write_owned
from tools.owned import check as check_owned
from tools.pictures import (PICTURES_INDEX, TOOL, changed_plots, draw_leaderboard, draw_png, draw_residuals,
                            owned_pictures, pictures_folder, pictures_index, write_pictures)
from project.commands import dvc_json, file_at, resolve_revision

EVALUATE_METRICS = "metrics/evaluate.json"
CV_METRICS = "metrics/cv.json"
FIT_METRICS = "metrics/fit.json"
PREDICTIONS = "plots/evaluate/predictions.csv"
READS = ["seed", "cv.folds", "evaluate", "gates"]


# ---- the comment's cells ---------------------------------------------------------------------

def fmt(value, digits=4):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def value_cell(value):
    """A params or metrics value for a table: a number as digits, anything else as data (``code``)."""
    if value is None:
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt(value)
    return code(json.dumps(value) if isinstance(value, bool) else fmt(value))


def move_cell(move):
    if move is None:
        return "–"
    if move["difference"] is None:
        return move["verdict"]
    return f"{move['verdict']} (ΔMSE {interval(move['difference'], move['low'], move['high'], sign='+')})"


VERDICT_WORDS = {"yes, worse": "**real, worse**", "yes, better": "real, better", "within noise": "within noise",
                 "within seed noise": "within seed noise", "not paired": "not paired"}


def base_cell(row, exempt):
    """The compact leaderboard's change against the base: the RMSE's change, the verdict, and any exemption."""
    if row["change"] is None:
        return "–"
    words = [f"{row['change']:+.2%}".replace("%", " %")]
    if row["move"] is not None:
        words.append(VERDICT_WORDS[row["move"]["verdict"]])
    elif row["change"] == 0:
        words = ["unchanged"]
    if row["model"] in exempt:
        words.append("exempt from the gate")
    return " · ".join(words)


# ---- the comment -----------------------------------------------------------------------------

PAIRING_NOTES = {
    "not paired": "**Not paired:** the test rows differ from the base's (the data or the split changed), so no "
                  "move against the base is called real or noise.",
    "no base predictions": f"The base has no {PREDICTIONS}, so no move against it is tested against the noise.",
}


def compact_leaderboard(board, settings, exempt):
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "vs base: RMSE, real?",
              f"vs least squares: ΔMSE [{confidence}]"]
    rows = [[i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
             base_cell(row, exempt), "–" if row["vs_ls"] is None else interval(*row["vs_ls"], sign="+")]
            for i, row in enumerate(board, 1)]
    return markdown_table(header, rows)


def full_leaderboard(board, settings, folds, has_base, pairing):
    """The whole leaderboard as markdown, then a note on the pairing and a legend saying what each interval is."""
    show_cv = any(row["cv"] for row in board)
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "RMSE", "base RMSE", "change", "real change?",
              f"vs least squares: ΔMSE [{confidence}]", "vs baseline", "R²"]
    if show_cv:
        header.append(f"CV MSE ({folds} folds)")
    rows = []
    for i, row in enumerate(board, 1):
        cells = [i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
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
            f"is a real change; one that contains 0 lies within the noise of the split. A model fitted on "
            f"several seeds whose test MSE now lies within the range its base reached over them is within "
            f"seed noise.")
    if show_cv:
        legend.append(f"CV MSE: mean ± std over {folds} folds of cross-validation on the training split "
                      f"({CV_METRICS}).")
    return "\n\n".join([markdown_table(header, rows), *legend])


@dataclass
class Findings:
    """Everything the report says, gathered by ``write_report`` (or a test): data, not yet Markdown."""
    base_name: str
    revision: str
    params_diff: dict
    metrics_diff: dict
    board: list
    gates: list  # [(passed, line)] from tools/gates.py
    gate_settings: dict  # params.yaml's gates (regression_tolerance, exempt, ...)
    worst: object  # the leader's worst test predictions (a DataFrame: row, actual, <leader>)
    pictures: list  # [Picture]
    settings: dict  # resamples, seed, confidence
    folds: int
    has_base: bool
    pairing: str
    colors: dict  # {model: colour}, in models.yaml's order
    loss: dict = field(default_factory=dict)  # {model: (unit, iterations, losses)} now
    base_loss: dict = field(default_factory=dict)  # the same at the base
    pictures_at: str = "report/report-pictures"
    fits: dict = field(default_factory=dict)  # metrics/fit.json's details.fit: {model: {n_iter, converged, ...}}


def gates_section(found, exempt):
    """The verdict, one line a gate (tools/gates.py's sentences, the model names in them as data), then
    the exempt models' moves beyond the tolerance: said, never failed."""
    names = [row["model"] for row in found.board]
    failed = [line for passed, line in found.gates if not passed]
    verdict = "all passed" if not failed else f"{len(failed)} failed"
    plural = "s" if len(exempt) != 1 else ""
    note = f" · {len(exempt)} exempt model{plural} moved beyond the tolerance" if exempt else ""
    lines = [f"**Gates: {verdict}**{note}", ""]
    lines += [f"- {'✅ PASS' if passed else '❌ FAIL'}: {sentence(line, names)}" for passed, line in found.gates]
    tolerance = found.gate_settings["regression_tolerance"]
    lines += [f"- ➖ EXEMPT: {code(row['model'], cell=False)} test RMSE rose {row['change']:+.2%} against the base "
              f"({row['base_rmse']:.4g} → {row['rmse']:.4g}; tolerance {tolerance:.0%}), not a failure: it is "
              f"listed in `gates.exempt`" for row in found.board if row["model"] in exempt]
    for model, fit in found.fits.items():  # a fit that ran out of iterations: said, whatever the gates
        if isinstance(fit, dict) and fit.get("converged") is False:
            needed = fit.get("steps_needed")
            more = f"about {needed:,} would reach its tolerance" if isinstance(needed, int) else "it had stalled"
            steps = fit.get("n_iter")
            lines.append(f"- ⚠️ NOT CONVERGED: {code(model, cell=False)} stopped after "
                         f"{f'{steps:,}' if isinstance(steps, int) else 'its'} steps; {more}")
    return lines


def loss_section(found):
    """Each iterative model's training loss, now and at the base, in models.yaml's order (folded)."""
    order = dict.fromkeys([*found.colors, *found.loss, *found.base_loss])
    charts = [(model, found.loss.get(model), found.base_loss.get(model)) for model in order
              if model in found.loss or model in found.base_loss]
    if not charts:
        return []

    def draw(items):
        drawn = [loss_chart(model, now, base, found.colors.get(model, "#777777"), bool(found.base_loss))
                 for model, now, base in items]
        return "\n\n".join(chart for chart in drawn if chart)

    return folded("Training loss of the iterative models",
                  f"Each line thinned to about {LOSS_POINTS} points; a curve that stopped early is held at its "
                  "last value. Every point: the plot `Training loss (log scale)` of `dvc plots diff`.", "",
                  Part(charts, draw, "`dvc plots diff` draws them all"))


def diff_section(title, diff, header, hint):
    """The params or metrics that changed, a row each (folded); every name and value shown as data."""
    rows = changed_rows(diff)
    if not rows:
        return [f"**{title}:** none.", ""]
    cells = [[code(path), code(key), value_cell(old), value_cell(new), value_cell(change)][:len(header)]
             for path, key, old, new, change in rows]
    return folded(f"{title}: {len(rows)}", Part(cells, lambda items: markdown_table(header, items), hint))


def worst_section(found):
    best = leader(found.board)
    rows = [] if found.worst is None else [
        (int(r["row"]) if "row" in r else i, f"{r['actual']:.1f}", f"{r[best]:.1f}", f"{r[best] - r['actual']:+.1f}")
        for i, r in found.worst.iterrows()]
    return folded(f"Worst test predictions of the leader ({len(rows)})", f"The leader: {code(best, cell=False)}.",
                  "", markdown_table(["test row", "actual", "predicted", "error"], rows))


def pictures_section(found):
    """Which PNG files were drawn, and why a picture was not (folded); the comment shows none of them."""
    drawn = [picture for picture in found.pictures if picture.files]
    rows = [[code(picture.title), ", ".join(code(name) for name in picture.files) if picture.files
             else f"not rendered: {code(picture.problem)}"] for picture in found.pictures]
    body = [f"PNG files in {code(found.pictures_at + '/', cell=False)} (the `report` artifact of the workflow run; "
            f"its `{PICTURES_INDEX}` shows them). This comment does not depend on them."]
    if all(picture.title in ("leaderboard", "residuals") for picture in found.pictures):
        body.append("No plot changed: every plot is byte-identical to the base.")
    return folded(f"Pictures: {len(drawn)} of {len(found.pictures)} drawn", *body, "",
                  Part(rows, lambda items: markdown_table(["picture", "file"], items),
                       f"`{PICTURES_INDEX}` in the pictures folder lists them all"))


def build_report(found, limit=COMMENT_LIMIT):
    """The report as Markdown of at most ``limit`` UTF-8 bytes: the gates, the compact leaderboard and
    its chart first; the detail folded below, long parts cut to fit (saying so)."""
    exempt = exempt_moves(found.board, found.gate_settings)
    head = [f"# fromzero: this change against {code(found.base_name, cell=False)} ({found.revision[:7]})", ""]
    head += gates_section(found, exempt)
    head += ["", "## Leaderboard (test split)", "", compact_leaderboard(found.board, found.settings, exempt), ""]
    if found.has_base and found.pairing in PAIRING_NOTES:
        head += [PAIRING_NOTES[found.pairing], ""]
    head += [leaderboard_chart(found.board, found.colors), ""]
    parts = ["\n".join(head), *loss_section(found),
             *folded("Full leaderboard: RMSE, R², cross-validation",
                     full_leaderboard(found.board, found.settings, found.folds, found.has_base, found.pairing)),
             *diff_section("Params changed", found.params_diff, ["file", "key", "base", "now"],
                           "`dvc params diff` lists them all"),
             *diff_section("Metrics changed", found.metrics_diff, ["file", "metric", "base", "now", "change"],
                           "`dvc metrics diff` lists them all"),
             *worst_section(found), *pictures_section(found)]
    return fit(parts, limit).rstrip() + "\n"


# ---- the command -----------------------------------------------------------------------------

GATE_FAILED, REPORT_FAILED = 1, 2


def main(argv=None):
    """Write the report; exit 0, 1 (a gate failed, with --check) or 2 (the report failed)."""
    try:
        return write_report(argv)
    except (UserError, OwnedError) as error:
        print(f"error: report: {one_line(error, 1000)}", file=sys.stderr)
    except Exception as error:  # a bug or a broken environment: still one line, and never 1
        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(f"error: report: unexpected {type(error).__name__}: {one_line(error, 500)} "
              f"(at {Path(frame.filename).name}:{frame.lineno})", file=sys.stderr)
    return REPORT_FAILED


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, as every other failure of the report
        raise UserError(f"{message} (see --help)")


def write_report(argv=None):
    parser = Parser(prog="python -m tools.report", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision or experiment to compare with (main)")
    parser.add_argument("--out", default="report/report.md", type=Path,
                        help="the Markdown to write (report/report.md); a new file or one this tool wrote; "
                             "its PNGs go to <folder>/<stem>-pictures/")
    parser.add_argument("--params", default="params.yaml", help="the params file whose gates apply (params.yaml)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a gate fails or a test RMSE regressed beyond the tolerance "
                             "(2 means the report itself failed)")
    args = parser.parse_args(argv)
    # Refuse an --out this tool does not own before any work: params.yaml, a directory, a device.
    check_owned(args.out, TOOL)
    folder = pictures_folder(args.out)
    owned_pictures(folder)

    names = list(read_models())
    colors = model_colors(names)
    params = read_params(args.params, keys=READS, schema={**SCHEMA, **gate_rules.schema(names)})
    settings = {"resamples": params["evaluate"]["bootstrap"], "seed": params["seed"],
                "confidence": params["evaluate"]["confidence"]}
    revision = resolve_revision(args.base)
    for path in (EVALUATE_METRICS, PREDICTIONS):
        if not Path(path).exists():
            raise UserError(f"{path}: not found; run `dvc repro` first")
    current = details(read_json(EVALUATE_METRICS), "test")
    base_bytes = file_at(revision, EVALUATE_METRICS)
    base = details(json.loads(base_bytes), "test") if base_bytes else None
    cv = details(read_json(CV_METRICS), "cv") if Path(CV_METRICS).exists() else None
    fits = details(read_json(FIT_METRICS), "fit") if Path(FIT_METRICS).exists() else {}

    table = read_predictions(PREDICTIONS)
    base_predictions = file_at(revision, PREDICTIONS)
    base_table = read_predictions(base_predictions) if base_predictions else None
    pairing = ("no base predictions" if base_table is None
               else "paired" if same_test_rows(base_table, table) else "not paired")
    moves = paired_moves(base_table, table, current, base, settings, names)

    params_diff = dvc_json("params", "diff", revision)
    metrics_diff = dvc_json("metrics", "diff", revision)
    board = leaderboard(names, current, base, cv, moves)
    if not board:
        raise UserError(f"{EVALUATE_METRICS}: holds none of the models of models.yaml; run `dvc repro`")
    gates = gate_rules.gate_results(names, current, base, params["gates"], settings["confidence"])

    best = leader(board)
    worst = table.reindex((table[best] - table["actual"]).abs().sort_values(ascending=False).index).head(5)
    loss = read_loss(LOSS) if Path(LOSS).exists() else {}
    base_loss_bytes = file_at(revision, LOSS)
    base_loss = read_loss(base_loss_bytes, f"{LOSS} at {args.base}") if base_loss_bytes else {}

    with tempfile.TemporaryDirectory(prefix="report-pictures-") as scratch:
        scratch = Path(scratch)
        pictures = [draw_png("leaderboard", "leaderboard.png",
                             lambda: draw_leaderboard(board, colors, settings["confidence"]), scratch),
                    draw_png("residuals", "residuals.png", lambda: draw_residuals(table, colors), scratch)]
        pictures += changed_plots(revision, scratch)
        found = Findings(args.base, revision, params_diff, metrics_diff, board, gates, params["gates"], worst,
                         pictures, settings, params["cv"]["folds"], base is not None, pairing, colors,
                         loss, base_loss, pictures_at=folder.as_posix(), fits=fits if isinstance(fits, dict) else {})
        text = stamp(build_report(found, COMMENT_LIMIT - size(stamp("", TOOL))), TOOL)
        files = {name: (scratch / name).read_bytes() for picture in pictures for name in picture.files}
        write_pictures(folder, files, lambda listed: pictures_index(args.out.as_posix(), pictures, listed))
    write_owned({args.out: text}, TOOL)
    print(f"wrote {args.out} and {len(files)} pictures in {folder}/")
    for picture in pictures:
        if picture.problem:
            print(f"warning: report: {one_line(visible(picture.title), 100)}: not rendered: {picture.problem}",
                  file=sys.stderr)
    failed = [line for passed, line in gates if not passed]
    for line in failed:
        print(f"gate failed: {line}", file=sys.stderr)
    return GATE_FAILED if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
