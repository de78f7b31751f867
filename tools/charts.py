"""The comment's charts, as Mermaid that GitHub draws in the page: every model's test MSE, each training loss.

Every label is data shown as a Mermaid string (tools/markdown.py); the base is grey beside each
model's colour (stages/style.py). Mermaid's charts read no exponent, so values far from 1 are scaled
by a power of ten that the axis title states (``test MSE (×1e-300)``): no number is longer than a
dozen characters. The leaderboard chart shows the MAX_CHART_MODELS best models, and says so when
there are more: the bars and the axis always list the same models.
"""

import math

from tools.markdown import mermaid_block, mermaid_number, mermaid_text, number

LOSS_POINTS = 40  # a training-loss chart's points: enough for the shape, few enough for the comment
BASE_GREY = "#c8c8c8"  # the base revision in every chart: paler than any model's colour (stages/style.py)
MAX_CHART_MODELS = 20  # bars of the leaderboard chart: each is a series of its own (its colour), so it grows as n²


def scaled(values):
    """(exponent, values / 10**exponent): the largest brought between 1 and 10 when it is below 0.01 or
    from 100,000 up, so Mermaid gets short numbers; (0, values) when they need no scale."""
    top = max((abs(value) for value in values if math.isfinite(value)), default=0.0)
    if top == 0 or 1e-2 <= top < 1e5:
        return 0, list(values)
    exponent = math.floor(math.log10(top))
    mantissa = 10 ** (math.log10(top) - exponent)  # top / 10**exponent, without 10**exponent (1e-324 is 0)
    return exponent, [value / top * mantissa for value in values]


def scale_title(title, exponent):
    return title if exponent == 0 else f"{title} (×1e{exponent})"


def leaderboard_chart(board, colors):
    """The best MAX_CHART_MODELS models' test MSE as horizontal bars in their colours, the base's beside
    each in grey; a sentence after the chart when it leaves models out.

    One series a model (so each bar has its model's colour) and one for the base, each zero but at
    its own bars: Mermaid's xychart has no per-bar colour and no legend, so the labels say "(base)".
    A bar beyond three times the median is cut at that length and its label gives the value.
    """
    import numpy as np

    shown = board[:MAX_CHART_MODELS]
    bars = []  # (label, value, series index)
    for i, row in enumerate(shown):
        bars.append((row["model"], row["mse"], i))
        if row["base_mse"] is not None:
            bars.append((f"{row['model']} (base)", row["base_mse"], len(shown)))
    raw = [value for _, value, _ in bars]
    top, middle = max(raw), float(np.median(raw))
    cap = 3 * middle if top > 3 * middle > 0 else top
    labels = [f"{label} (cut: {number(value)})" if value > cap else label for label, value, _ in bars]
    exponent, (cap, *values) = scaled([cap, *(min(value, cap) for value in raw)])  # the axis's scale: the cap's
    has_base = any(series == len(shown) for _, _, series in bars)
    title = "Test MSE, lower is better" + (", the base in grey" if has_base else "")
    lines = ["xychart-beta horizontal",
             f"    title {mermaid_text(title)}",
             f"    x-axis [{', '.join(mermaid_text(label) for label in labels)}]",
             f"    y-axis {mermaid_text(scale_title('test MSE', exponent))} 0 --> {mermaid_number(cap * 1.05 or 1.0)}"]
    palette = []
    for series in range(len(shown) + has_base):
        lines.append("    bar [" + ", ".join(mermaid_number(min(value, cap)) if index == series else "0"
                                            for (_, _, index), value in zip(bars, values)) + "]")
        palette.append(colors.get(shown[series]["model"], "#777777") if series < len(shown) else BASE_GREY)
    chart = mermaid_block(lines, palette)
    if len(board) > len(shown):
        chart += (f"\n\nThe chart shows the {len(shown)} best of the {len(board)} models; the leaderboard "
                  f"lists every one.")
    return chart


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
    exponent, flat = scaled([float(value) for series in values for value in series])
    values = [flat[i * len(iterations):(i + 1) * len(iterations)] for i in range(len(values))]
    x_exponent, (first, last) = scaled([float(iterations[0]), float(iterations[-1])])
    lines = ["xychart-beta",
             f"    title {mermaid_text(f'{model}: training loss ({state})', limit=90)}",
             f"    x-axis {mermaid_text(scale_title(curves[-1][0], x_exponent))} {mermaid_number(first)} --> "
             f"{mermaid_number(last)}",
             f"    y-axis {mermaid_text(scale_title('log10 training MSE' if logged else 'training MSE', exponent))}"]
    lines += ["    line [" + ", ".join(mermaid_number(value) for value in series) + "]" for series in values]
    return mermaid_block(lines, palette)
