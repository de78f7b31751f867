"""One look for every figure, the pictures a model's abilities call for, and PNGs with reproducible bytes.

matplotlib (about 0.3 s to import) is loaded only when a figure is drawn. The pictures use no model
colours (those live with the plot templates, stages/style.py): changing a colour reruns no stage.
"""

import numpy as np

MAX_SCATTER_POINTS = 4000  # beyond this a scatter is a blob; sample it
DATA_COLOR = "#4c72b0"
TOTAL_COLOR = "#222222"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.figsize": (7.0, 4.5),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titleweight": "bold",
        "font.size": 10,
        "legend.frameon": False,
        "svg.hashsalt": "fromzero",
    })
    return plt


def new_figure(**kwargs):
    return pyplot().subplots(constrained_layout=True, **kwargs)


def scatter_sample(x, y, seed=0, limit=MAX_SCATTER_POINTS):
    """At most ``limit`` points of (x, y), the same ones every run."""
    if len(x) <= limit:
        return x, y
    rows = np.sort(np.random.default_rng(seed).choice(len(x), size=limit, replace=False))
    return x[rows], y[rows]


def save_figure(figure, path, dpi=110):
    """Save a matplotlib figure as a PNG whose bytes depend only on what it shows (written atomically)."""
    from project.files import atomic_path

    with atomic_path(path) as temporary:
        # No 'Software' tag (it carries the version) and no timestamp: same plot, same bytes.
        figure.savefig(temporary, format="png", dpi=dpi, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(figure)


# ---- the pictures of a model whose abilities include `pieces` (fromzero/base.py) --------------

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
    median = np.median(X, axis=0)

    def along(j, grid):
        rows = np.tile(median, (len(grid), 1))
        rows[:, j] = grid
        return rows

    grids = [np.linspace(X[:, j].min(), X[:, j].max(), 400) for j in range(X.shape[1])]
    spread = [np.ptp(model.pieces(along(j, grid)), axis=0).sum() for j, grid in enumerate(grids)]
    j = int(np.argmax(spread))
    grid, rows = grids[j], along(j, grids[j])
    pieces = model.pieces(rows)
    figure, (top, bottom) = new_figure(nrows=2, sharex=True, figsize=(7.0, 7.0))
    label = getattr(model, "piece_label", lambda unit: f"piece {unit + 1}")
    for unit in range(pieces.shape[1]):
        top.plot(grid, pieces[:, unit], linewidth=2, label=label(unit))
    top.axhline(0.0, color="#999999", linewidth=0.8)
    top.set_ylabel(f"contribution to {target}")
    top.set_title("Each hidden unit: a scaled, shifted sigmoid")
    top.legend(fontsize=8)
    x_shown, y_shown = scatter_sample(X[:, j], y)
    bottom.scatter(x_shown, y_shown, s=10, alpha=0.35, color=DATA_COLOR, edgecolor="none", label="training data")
    total = model.predict(rows)
    offset = float(np.mean(total - pieces.sum(axis=1)))  # the output bias, b2
    bottom.plot(grid, total, color=TOTAL_COLOR, linewidth=2.5, label=f"the sum of the pieces + {offset:.3g}")
    other = "" if X.shape[1] == 1 else " (other features at their median)"
    bottom.set_xlabel(features[j] + other)
    bottom.set_ylabel(target)
    bottom.set_title("Their sum: a curve no single piece could draw")
    bottom.legend(fontsize=8)
    return figure
