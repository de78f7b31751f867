"""One look for every figure, and PNGs with reproducible bytes (eda's pictures, the report's, the tutorial's).

matplotlib (about 0.3 s to import) is loaded only when a figure is drawn, and never its pyplot. The
pictures use no model colours (those live with the plot templates, stages/style.py): changing a colour
reruns no stage.
"""


MAX_SCATTER_POINTS = 4000  # beyond this a scatter is a blob; sample it
DATA_COLOR = "#4c72b0"
TOTAL_COLOR = "#222222"


STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titleweight": "bold",
    "font.size": 10,
    "legend.frameon": False,
    "svg.hashsalt": "fromzero",
}


def new_figure(figsize=(7.0, 4.5), **kwargs):
    """(figure, axes) of one look, drawn by Agg into a file: no pyplot (0.2 s of start-up a drawing stage saves),
    no screen, no global figure list to close."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(STYLE)
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(**kwargs)


def scatter_sample(x, y, seed=0, limit=MAX_SCATTER_POINTS):
    """At most ``limit`` points of (x, y), the same ones every run."""
    from project.splits import seeded_sample

    return seeded_sample(x, y, limit, seed)


def save_figure(figure, path, dpi=110):
    """Save a matplotlib figure as a PNG whose bytes depend only on what it shows (written atomically)."""
    from project.files import atomic_path

    with atomic_path(path) as temporary:
        # No 'Software' tag (it carries the version) and no timestamp: same plot, same bytes.
        figure.savefig(temporary, format="png", dpi=dpi, metadata={"Software": None})
