"""One look for every figure: imported only by stages that draw."""

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fromzero.registry import MODELS  # noqa: E402

# One colour per model, the same in every figure, DVC plot and the report: the registry's.
MODEL_COLORS = {name: spec.color for name, spec in MODELS.items()}
MAX_SCATTER_POINTS = 4000  # beyond this a scatter is a blob; sample it

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


def scatter_sample(x, y, seed=0, limit=MAX_SCATTER_POINTS):
    """At most ``limit`` points of (x, y), the same ones every run."""
    if len(x) <= limit:
        return x, y
    rows = np.sort(np.random.default_rng(seed).choice(len(x), size=limit, replace=False))
    return x[rows], y[rows]


def new_figure(**kwargs):
    return plt.subplots(constrained_layout=True, **kwargs)
