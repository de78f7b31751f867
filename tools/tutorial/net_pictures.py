"""The pictures of a model that is a sum of pieces (abilities.pieces: the net): its activation, and its pieces
and their sum over the data. The pipeline keeps the pieces as plot data (plots/evaluate/pieces.csv, drawn by
DVC); the tutorial draws them for the page.
"""

import numpy as np

from fromzero.base import pieces_along
from stages.figures import DATA_COLOR, TOTAL_COLOR, new_figure, scatter_sample


def draw_activation(model):
    """The unit's activation, e.g. the sigmoid: a smooth step from 0 to 1."""
    z = np.linspace(-10, 10, 401)
    figure, axes = new_figure(figsize=(6.0, 3.5))
    axes.plot(z, model.activation(z), color=TOTAL_COLOR, linewidth=2.5)
    axes.axhline(0.5, color="#999999", linewidth=0.8, linestyle="--")
    axes.set_xlabel("z, a unit's input (X @ k1 + b1)")
    axes.set_ylabel(r"$\sigma(z) = 1\,/\,(1 + e^{-z})$")
    axes.set_title("The sigmoid: a smooth step from 0 to 1")
    return figure


def draw_pieces(model, X, y, features, target):
    """The fitted model as the sum of its pieces (``model.pieces(X)``, (n, units)), then the total.

    With one feature the pieces are drawn over it; with several, over the data's median row moved
    along the feature whose pieces vary most.
    """
    j, grid, pieces, total = pieces_along(model, X, points=400)
    figure, (top, bottom) = new_figure(nrows=2, sharex=True, figsize=(7.0, 7.0))
    for unit in range(pieces.shape[1]):
        top.plot(grid, pieces[:, unit], linewidth=2, label=model.piece_label(unit))
    top.axhline(0.0, color="#999999", linewidth=0.8)
    top.set_ylabel(f"contribution to {target}")
    top.set_title("Each hidden unit: a scaled, shifted sigmoid")
    top.legend(fontsize=8)
    x_shown, y_shown = scatter_sample(X[:, j], y)
    bottom.scatter(x_shown, y_shown, s=10, alpha=0.35, color=DATA_COLOR, edgecolor="none", label="training data")
    offset = float(np.mean(total - pieces.sum(axis=1)))  # the output bias, b2
    bottom.plot(grid, total, color=TOTAL_COLOR, linewidth=2.5, label=f"the sum of the pieces + {offset:.3g}")
    other = "" if X.shape[1] == 1 else " (other features at their median)"
    bottom.set_xlabel(features[j] + other)
    bottom.set_ylabel(target)
    bottom.set_title("Their sum: a curve no single piece could draw")
    bottom.legend(fontsize=8)
    return figure
