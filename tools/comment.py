"""The report as Markdown a reviewer reads: ``build_report(findings)`` (tools/findings.py gathers them).

It opens with the gates and a compact leaderboard (test MSE with its bootstrap interval, the change
against the base and whether that change is real or inside the noise of the split, the paired
difference from models.yaml's reference) and a bar chart of the best models' test MSE, now and at
the base. Folded below: each iterative model's training loss, the full leaderboard (RMSE, R²,
cross-validation), the params and metrics that changed, the leader's worst test predictions, and
the PNG pictures. Every value from data is shown through ``code()`` (tools/markdown.py), every
number at a bounded length, and the whole within GitHub's comment limit (long parts are cut, and
say so).
"""

import json

from tools.changes import changed_rows, exempt_moves, leader
from tools.charts import LOSS_POINTS, leaderboard_chart, loss_chart
from tools.markdown import (COMMENT_LIMIT, Part, code, fit, fixed, folded, interval, markdown_table, number, percent,
                            sentence, share)
from tools.pictures import picture_count
from tools.pictures_folder import PICTURES_INDEX

CV_METRICS = "metrics/cv.json"
PREDICTIONS = "plots/evaluate/predictions.csv"


# ---- the comment's cells ---------------------------------------------------------------------

def fmt(value, digits=4):
    """A value in at most a dozen characters: 4 significant digits (an exponent for 1e308, 1e-300)."""
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 15:
        return number(value, digits=digits)  # never a 300-digit integer
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
    words = [share(row["change"]).replace("%", " %")]
    if row["move"] is not None:
        words.append(VERDICT_WORDS[row["move"]["verdict"]])
    elif row["change"] == 0:
        words = ["unchanged"]
    if row["model"] in exempt:
        words.append("exempt from the gate")
    return " · ".join(words)


def reference_cell(row):
    return "–" if row["vs_reference"] is None else interval(*row["vs_reference"], sign="+")


# ---- the comment -----------------------------------------------------------------------------

PAIRING_NOTES = {
    "not paired": "**Not paired:** the test rows differ from the base's (the data or the split changed), so no "
                  "move against the base is called real or noise.",
    "no base predictions": f"The base has no {PREDICTIONS}, so no move against it is tested against the noise.",
}
NO_REFERENCE = "models.yaml names no reference model, so no model is compared with one and its gates are skipped."


def compact_leaderboard(found, exempt):
    """The head's leaderboard: a Part, so hundreds of models are cut to fit and say so."""
    confidence = percent(found.settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "vs base: RMSE, real?"]
    if found.reference is not None:
        header.append(f"vs {code(found.reference, cell=True)}: ΔMSE [{confidence}]")
    rows = [[i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
             base_cell(row, exempt), *([reference_cell(row)] if found.reference is not None else [])]
            for i, row in enumerate(found.board, 1)]
    return Part(rows, lambda items: markdown_table(header, items), "the full leaderboard below lists them all")


def full_leaderboard(found):
    """The whole leaderboard as markdown, then a note on the pairing and a legend saying what each interval is."""
    board, settings, reference = found.board, found.settings, found.reference
    show_cv = any(row["cv"] for row in board)
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "RMSE", "base RMSE", "change", "real change?"]
    header += [f"vs {code(reference)}: ΔMSE [{confidence}]"] if reference is not None else []
    header += [f"vs {code(found.baseline)}" if found.baseline is not None else "vs baseline", "R²"]
    if show_cv:
        header.append(f"CV MSE ({found.folds} folds)")
    rows = []
    for i, row in enumerate(board, 1):
        cells = [i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
                 fixed(row["rmse"]), fixed(row["base_rmse"]), share(row["change"]), move_cell(row["move"])]
        cells += [reference_cell(row)] if reference is not None else []
        cells += [share(row["vs_baseline"], 1), fixed(row["r2"])]
        if show_cv:
            cells.append("–" if row["cv"] is None else f"{number(row['cv'][0])} ± {number(row['cv'][1], digits=2)}")
        rows.append(cells)
    legend = [PAIRING_NOTES[found.pairing]] if found.has_base and found.pairing in PAIRING_NOTES else []
    legend.append(f"Test MSE: the point value and its {confidence} bootstrap interval over the test rows. " + (
        f"vs {code(reference, cell=False)}: this model's test MSE minus the reference's on the same rows, with its "
        f"paired interval (entirely below 0: a real win)." if reference is not None else NO_REFERENCE))
    if found.has_base:
        legend.append(
            f"Real change?: for a model whose test predictions moved against the base, the paired bootstrap of "
            f"per-row squared errors (now vs the base, the same test rows; {settings['resamples']} resamples, "
            f"seed {settings['seed']}): ΔMSE is now minus the base, and a {confidence} interval that excludes 0 "
            f"is a real change; one that contains 0 lies within the noise of the split. A model fitted on "
            f"several seeds whose test MSE now lies within the range its base reached over them is within "
            f"seed noise.")
    if show_cv:
        legend.append(f"CV MSE: mean ± std over {found.folds} folds of cross-validation on the training split "
                      f"({CV_METRICS}).")
    return [Part(rows, lambda items: markdown_table(header, items), "`dvc metrics show` lists them all"),
            "\n" + "\n\n".join(legend)]


MARKS = {True: "✅ PASS", False: "❌ FAIL", None: "➖ SKIPPED"}


def gates_section(found, exempt):
    """The verdict, one line a gate (tools/gates.py's sentences, the model names in them as data), then
    the exempt models' moves beyond the tolerance: said, never failed."""
    names = [row["model"] for row in found.board]
    failed = [line for passed, line in found.gates if passed is False]
    verdict = "all passed" if not failed else f"{len(failed)} failed"
    plural = "s" if len(exempt) != 1 else ""
    note = f" · {len(exempt)} exempt model{plural} moved beyond the tolerance" if exempt else ""
    lines = [f"**Gates: {verdict}**{note}", ""]
    lines += [f"- {MARKS[passed]}: {sentence(line, names)}" for passed, line in found.gates]
    tolerance = share(found.gate_settings["regression_tolerance"], 0, "")
    lines += [f"- ➖ EXEMPT: {code(row['model'], cell=False)} test RMSE rose {share(row['change'])} against the base "
              f"({number(row['base_rmse'], digits=4)} → {number(row['rmse'], digits=4)}; tolerance {tolerance}), not "
              f"a failure: it is listed in `gates.exempt`" for row in found.board if row["model"] in exempt]
    for model, fit_facts in found.fits.items():  # a fit that ran out of iterations: said, whatever the gates
        if isinstance(fit_facts, dict) and fit_facts.get("converged") is False:
            needed, steps = fit_facts.get("steps_needed"), fit_facts.get("n_iter")
            more = f"about {needed:,} would reach its tolerance" if isinstance(needed, int) else "it had stalled"
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
    best = leader(found.board, found.baseline)
    rows = [(f"{row:.0f}", fixed(actual, 1), fixed(predicted, 1), fixed(predicted - actual, 1, "+"))
            for row, actual, predicted in found.worst]
    return folded(f"Worst test predictions of the leader ({len(rows)})", f"The leader: {code(best, cell=False)}.",
                  "", markdown_table(["test row", "actual", "predicted", "error"], rows))


def pictures_section(found):
    """Which PNG files were drawn, and why a picture was not (folded); the comment shows none of them."""
    rows = [[code(picture.title), ", ".join(code(name) for name in picture.files) if picture.files
             else f"not rendered: {code(picture.problem)}"] for picture in found.pictures]
    body = [f"PNG files in {code(found.pictures_at + '/', cell=False)} (the `report` artifact of the workflow run; "
            f"its `{PICTURES_INDEX}` shows them). This comment does not depend on them."]
    if all(picture.title in ("leaderboard", "residuals") for picture in found.pictures):
        body.append("No plot changed: every plot is byte-identical to the base.")
    return folded(f"Pictures: {picture_count(found.pictures)}", *body, "",
                  Part(rows, lambda items: markdown_table(["picture", "file"], items),
                       f"`{PICTURES_INDEX}` in the pictures folder lists them all"))


def build_report(found, limit=COMMENT_LIMIT):
    """The report as Markdown of at most ``limit`` UTF-8 bytes: the gates, the compact leaderboard and
    its chart first; the detail folded below, long parts cut to fit (saying so)."""
    exempt = exempt_moves(found.board, found.gate_settings)
    head = [f"# fromzero: this change against {code(found.base_name, cell=False)} ({found.revision[:7]})", ""]
    head += gates_section(found, exempt)
    head += ["", "## Leaderboard (test split)", ""]
    notes = [PAIRING_NOTES[found.pairing]] if found.has_base and found.pairing in PAIRING_NOTES else []
    notes += [NO_REFERENCE] if found.reference is None else []
    tail = ["", *[line for note in notes for line in (note, "")], leaderboard_chart(found.board, found.colors), ""]
    parts = ["\n".join(head), compact_leaderboard(found, exempt), "\n".join(tail), *loss_section(found),
             *folded("Full leaderboard: RMSE, R², cross-validation", *full_leaderboard(found)),
             *diff_section("Params changed", found.params_diff, ["file", "key", "base", "now"],
                           "`dvc params diff` lists them all"),
             *diff_section("Metrics changed", found.metrics_diff, ["file", "metric", "base", "now", "change"],
                           "`dvc metrics diff` lists them all"),
             *worst_section(found), *pictures_section(found)]
    return fit(parts, limit).rstrip() + "\n"
