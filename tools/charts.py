"""The comment's charts, as Mermaid that GitHub draws in the page: every model's test MSE, each training loss.

Every label is data shown as a Mermaid string (tools/markdown.py); the base is grey beside each
model's colour (stages/style.py). ``read_loss`` reads the loss curves the evaluate stage writes.
"""

import io

from stages.cli import UserError
from tools.markdown import mermaid_block, mermaid_number, mermaid_text, number, one_line

LOSS = "plots/evaluate/loss.csv"  # the training-loss curves the evaluate stage writes
LOSS_POINTS = 40  # a training-loss chart's points: enough for the shape, few enough for the comment
BASE_GREY = "#c8c8c8"  # the base revision in every chart: paler than any model's colour (stages/style.py)


def leaderboard_chart(board, colors):
    """Every model's test MSE as horizontal bars in its colour, the base's beside it in grey.

    One series a model (so each bar has its model's colour) and one for the base, each zero but at
    its own bars: Mermaid's xychart has no per-bar colour and no legend, so the labels say "(base)".
    A bar beyond three times the median is cut at that length and its label gives the value.
    """
    import numpy as np

    bars = []  # (label, value, series index)
    for i, row in enumerate(board):
        bars.append((row["model"], row["mse"], i))
        if row["base_mse"] is not None:
            bars.append((f"{row['model']} (base)", row["base_mse"], len(board)))
    values = [value for _, value, _ in bars]
    top = max(values)
    cap = 3 * float(np.median(values)) if top > 3 * float(np.median(values)) > 0 else top
    labels = [f"{label} (cut: {number(value)})" if value > cap else label for label, value, _ in bars]
    has_base = any(series == len(board) for _, _, series in bars)
    lines = ["xychart-beta horizontal",
             f"    title {mermaid_text('Test MSE, lower is better' + (', the base in grey' if has_base else ''))}",
             f"    x-axis [{', '.join(mermaid_text(label) for label in labels)}]",
             f"    y-axis {mermaid_text('test MSE')} 0 --> {mermaid_number(cap * 1.05 or 1.0)}"]
    palette = []
    for series in range(len(board) + has_base):
        lines.append("    bar [" + ", ".join(mermaid_number(min(value, cap)) if index == series else "0"
                                            for _, value, index in bars) + "]")
        palette.append(colors.get(board[series]["model"], "#777777") if series < len(board) else BASE_GREY)
    return mermaid_block(lines, palette)


def read_loss(data, source=LOSS):
    """{model: (unit, iterations, losses)} from loss.csv (bytes or a path; long: model, iteration, unit,
    loss), each curve sorted by iteration; {} for an empty file or one without those columns; UserError
    naming ``source`` for one that is not CSV."""
    import numpy as np
    import pandas as pd

    try:
        table = pd.read_csv(io.BytesIO(data) if isinstance(data, bytes) else data, dtype={"model": str, "unit": str})
    except pd.errors.EmptyDataError:
        return {}
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{source}: not the loss curves `evaluate` writes ({one_line(error, 200)}); "
                         "rerun `dvc repro`") from None
    if not {"model", "iteration", "loss"} <= set(table.columns):
        return {}
    curves = {}
    for model, group in table.groupby("model", sort=False):
        iterations = pd.to_numeric(group["iteration"], errors="coerce").to_numpy(dtype=float)
        losses = pd.to_numeric(group["loss"], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(iterations) & np.isfinite(losses)
        order = np.argsort(iterations[finite], kind="stable")
        if finite.any():
            unit = str(group["unit"].iloc[0]) if "unit" in group.columns else "iteration"
            curves[model] = (unit, iterations[finite][order], losses[finite][order])
    return curves


def thin(curves, points=LOSS_POINTS):
    """(iterations, [losses of each curve]) at ``points`` evenly spaced iterations from the first to the
    last of ``curves`` ([(iterations, losses)]): each curve's loss at or before each (held after its end)."""
    import numpy as np

    first, last = min(its[0] for its, _ in curves), max(its[-1] for its, _ in curves)
    targets = np.unique(np.linspace(first, last, points).round())
    values = [losses[np.clip(np.searchsorted(its, targets, side="right") - 1, 0, len(its) - 1)]
              for its, losses in curves]
    return targets, values


def loss_chart(model, now, base, color, base_known=True):
    """A Mermaid line chart of a model's training loss, thinned to LOSS_POINTS: the base (grey) under now.

    ``now`` and ``base`` are (unit, iterations, losses) or None; ``base_known``: the base has a loss file.
    """
    import numpy as np

    if now is None:
        curves, palette, state = [base], [BASE_GREY], "at the base, none now"
    elif base is None:
        curves, palette, state = [now], [color], "new since the base" if base_known else "this change"
    elif np.array_equal(now[1], base[1]) and np.array_equal(now[2], base[2]):
        curves, palette, state = [now], [color], "unchanged from the base"
    else:
        curves, palette, state = [base, now], [BASE_GREY, color], "this change, the base in grey"
    iterations, values = thin([(its, losses) for _, its, losses in curves])
    if len(iterations) < 2:
        return None
    logged = all((losses > 0).all() for losses in values)
    values = [np.log10(losses) if logged else losses for losses in values]
    lines = ["xychart-beta",
             f"    title {mermaid_text(f'{model}: training loss ({state})', limit=90)}",
             f"    x-axis {mermaid_text(curves[-1][0])} {mermaid_number(iterations[0])} --> "
             f"{mermaid_number(iterations[-1])}",
             f"    y-axis {mermaid_text('log10 training MSE' if logged else 'training MSE')}"]
    lines += ["    line [" + ", ".join(mermaid_number(value) for value in series) + "]" for series in values]
    return mermaid_block(lines, palette)
