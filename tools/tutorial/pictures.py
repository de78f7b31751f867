"""The page's own pictures, in stages/figures.py's look and with the models' colours of stages/style.py.

Each is drawn from the run's files alone (the splits, the fitted models, their loss curves) and saved
with ``save_figure``, so the same run gives the same bytes. The pictures the pipeline draws itself
(plots/eda/) are linked from the page, not redrawn; the net's pieces (which the pipeline keeps as plot
data, plots/evaluate/pieces.csv) are drawn here with stages/figures.py's own drawing.
"""

import numpy as np

from stages.figures import DATA_COLOR, TOTAL_COLOR, new_figure, save_figure, scatter_sample
from tools.tutorial.net_pictures import draw_activation, draw_pieces
from stages.style import model_colors
from tools.results.tables import possessive
from tools.tutorial.words import coefficient

GRID_POINTS = 1000  # along the column: enough for KNN's steps to show as steps
FLOOR_COLOR = "#999999"
WIDE = (9.0, 3.8)  # two panels side by side


def _text(value):
    """A name from the data as matplotlib text: never mathtext."""
    return str(value).replace("$", r"\$")


def _line_label(model, k, b):
    sign = "−" if b < 0 else "+"
    return f"{model}: {coefficient(k)}·x {sign} {coefficient(abs(b))}"


def _data(axes, x, y, label):
    x_shown, y_shown = scatter_sample(x, y)
    axes.scatter(x_shown, y_shown, s=10, alpha=0.35, color=DATA_COLOR, edgecolor="none", label=label)


def _span(run):
    """The column's range over both splits: every curve is drawn across it."""
    x = np.concatenate([run.train[0][:, 0], run.test[0][:, 0]])
    return float(x.min()), float(x.max())


def _lines(axes, run, colors, roles, x, y, label):
    """The data, and the lines of the models in ``roles`` (the reference dashed, on top)."""
    _data(axes, x, y, label)
    grid = np.array(_span(run))
    for role in roles:
        model, name = run.models[role].model, run.names[role]
        k, b = float(model.coef_[0]), float(model.intercept_)
        dashed = role == "reference"
        axes.plot(grid, k * grid + b, color=colors[name], linewidth=1.6 if dashed else 3.0,
                  linestyle="--" if dashed else "-", label=_line_label(name, k, b), zorder=3 if dashed else 2)
    axes.set_xlabel(_text(run.feature))
    axes.set_ylabel(_text(run.target))
    axes.legend(fontsize=8, loc="upper left")


def _curve(axes, fitted, color, floor=None, best=None):
    unit, iterations, losses = fitted.curve
    axes.plot(iterations, losses, color=color, linewidth=2, drawstyle="steps-post" if unit == "trial" else "default")
    if best is not None:
        axes.scatter([best[0]], [best[1]], s=40, color=color, zorder=3, label=f"the best: {unit} {best[0]:,}")
    if floor is not None:
        axes.axhline(floor[1], color=FLOOR_COLOR, linewidth=1.2, linestyle="--", label=floor[0])
    if unit == "trial":  # blind guesses start orders of magnitude off
        axes.set_yscale("log")
    axes.set_xlabel(unit)
    axes.set_ylabel("training MSE" + (" (log scale)" if unit == "trial" else ""))
    if best is not None or floor is not None:
        axes.legend(fontsize=8)


def draw_knn(run, colors, seen):
    """KNN's answer all along the column, over the training data, and the test rows the lookup table misses."""
    knn, name = run.models["knn"].model, run.names["knn"]
    (X_train, y_train), (X_test, y_test) = run.train, run.test
    grid = np.linspace(*_span(run), GRID_POINTS)
    figure, axes = new_figure()
    _data(axes, X_train[:, 0], y_train, "training rows")
    axes.plot(grid, knn.predict(grid[:, np.newaxis]), color=colors[name], linewidth=1.6,
              label=f"{name}: the mean of the {knn.k} nearest")
    axes.scatter(X_test[seen, 0], y_test[seen], s=28, marker="o", facecolor="none", edgecolor=TOTAL_COLOR,
                 linewidth=1.0, label=f"test rows whose value occurs in training ({int(seen.sum())})")
    axes.scatter(X_test[~seen, 0], y_test[~seen], s=22, marker="x", color=TOTAL_COLOR, linewidth=1.0,
                 label=f"test rows the lookup table cannot answer ({int((~seen).sum())})")
    axes.set_xlabel(_text(run.feature))
    axes.set_ylabel(_text(run.target))
    axes.set_title(f"The {knn.k} nearest training rows' mean, all along {_text(run.feature)}")
    axes.legend(fontsize=8, loc="upper left")
    return figure


def draw_random_search(run, colors):
    fitted, name = run.models["random_search"], run.names["random_search"]
    best = run.fit[name]["best_trial"] + 1  # fit.json counts from 0, the curve from trial 1
    _, iterations, losses = fitted.curve
    figure, (left, right) = new_figure(ncols=2, figsize=WIDE)
    _curve(left, fitted, colors[name], best=(best, float(losses[list(iterations).index(best)])))
    left.set_title("Best training MSE so far")
    _lines(right, run, colors, ["random_search", "reference"], *_training(run), "training rows")
    right.set_title("The best guess beside the exact line")
    return figure


def draw_gradient_descent(run, colors):
    fitted, name = run.models["gd"], run.names["gd"]
    reference = run.names["reference"]
    figure, (left, right) = new_figure(ncols=2, figsize=WIDE)
    _curve(left, fitted, colors[name], floor=(f"{possessive(reference)} training MSE", run.fit[reference]["train_mse"]))
    left.set_title("Training MSE, step by step")
    _lines(right, run, colors, ["gd", "reference"], *_training(run), "training rows")
    right.set_title("The line reached beside the exact line")
    return figure


def draw_net(run, colors):
    fitted, name = run.models["net"], run.names["net"]
    reference = run.names["reference"]
    X_test, y_test = run.test
    figure, (left, right) = new_figure(ncols=2, figsize=WIDE)
    _curve(left, fitted, colors[name], floor=(f"{possessive(reference)} training MSE", run.fit[reference]["train_mse"]))
    left.set_title("The net's training MSE, step by step")
    _lines(right, run, colors, ["reference"], X_test[:, 0], y_test, "test rows")
    grid = np.linspace(*_span(run), GRID_POINTS)
    right.plot(grid, fitted.model.predict(grid[:, np.newaxis]), color=colors[name], linewidth=3.0,
               label=f"{name}: {fitted.model.k2_.size} sigmoids summed")
    right.legend(fontsize=8, loc="upper left")
    right.set_title("The net and the line, on the test rows")
    return figure


def _training(run):
    X, y = run.train
    return X[:, 0], y


PICTURES = {  # file name: how it is drawn (each a function of the run and the models' colours)
    "knn.png": lambda run, colors, seen: draw_knn(run, colors, seen),
    "random_search.png": lambda run, colors, seen: draw_random_search(run, colors),
    "gradient_descent.png": lambda run, colors, seen: draw_gradient_descent(run, colors),
    "net.png": lambda run, colors, seen: draw_net(run, colors),
    "activation.png": lambda run, colors, seen: draw_activation(run.models["net"].model),
    "pieces.png": lambda run, colors, seen: draw_pieces(run.models["net"].model, *run.train, [run.feature],
                                                        run.target),
}


def draw_all(run, seen, folder):
    """Draw every picture of the page into ``folder``; returns their file names."""
    colors = model_colors(run.model_order)
    for file, draw in PICTURES.items():
        save_figure(draw(run, colors, seen), folder / file)
    return list(PICTURES)
