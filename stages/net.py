"""Stage `net`: the tutorial's sum of sigmoids, trained by hand-written backprop (or autodiff).

    python -m stages.net --train data/prepared/train.csv --model models/net.json --cv models/net.cv.json \
        --metrics metrics/net.json --plot plots/net/loss.csv --figures plots/net
"""

import numpy as np

from fromzero.errors import DivergenceError
from fromzero.sigmoid_net import SigmoidNet, sigmoid, sigmoid_pieces
from stages import crossval
from stages.cli import StageError, check_work, divergence_message, stage_arguments, stage_main
from stages.files import loss_curve, read_xy, save_figure, write_columns, write_json, write_model
from stages.progress import progress

# `net.batch_size: auto`: full batch up to AUTO_FULL_BATCH_ROWS rows, mini-batches of AUTO_BATCH above.
# Measured here (2000 steps, one feature): at 20,000 rows the full batch took 14 s and mini-batches of
# 4,096 0.9 s, to a training MSE 0.03 % apart; at 10^5 rows 85 s against 1.4 s; at 5,000 rows both ~1.4 s.
AUTO_FULL_BATCH_ROWS = 8192
AUTO_BATCH = 4096


def batch_size(setting, rows, optimizer):
    if setting == "auto":  # L-BFGS needs the full batch: its line search compares whole-data losses
        return 0 if rows <= AUTO_FULL_BATCH_ROWS or optimizer == "lbfgs" else AUTO_BATCH
    return setting


def make_model(params, rows):
    net = params["net"]
    return SigmoidNet(hidden=net["hidden"], learning_rate=net["learning_rate"], steps=net["steps"],
                      batch_size=batch_size(net["batch_size"], rows, net["optimizer"]), gradients=net["gradients"],
                      optimizer=net["optimizer"], seed=params["seed"])


def draw_sigmoid():
    from stages.figures import MODEL_COLORS, new_figure

    z = np.linspace(-10, 10, 401)
    figure, axes = new_figure(figsize=(6.0, 3.5))
    axes.plot(z, sigmoid(z), color=MODEL_COLORS["net"], linewidth=2.5)
    axes.axhline(0.5, color="#999999", linewidth=0.8, linestyle="--")
    axes.set_xlabel("z")
    axes.set_ylabel(r"$\sigma(z) = 1\,/\,(1 + e^{-z})$")
    axes.set_title("The sigmoid: a smooth step from 0 to 1")
    return figure


def draw_pieces(model, X, y, features, target):
    """The trained net as the sum of its pieces: each k2_j·σ(k1_j·x + b1_j), then the total.

    With one feature the pieces are drawn over it; with several, over the data's
    median row moved along the feature the net leans on most.
    """
    from stages.figures import MODEL_COLORS, new_figure, scatter_sample

    along = int(np.argmax(np.abs(model.k1_ * X.std(axis=0)[:, None]).sum(axis=1)))
    grid = np.linspace(X[:, along].min(), X[:, along].max(), 400)
    rows = np.tile(np.median(X, axis=0), (len(grid), 1))
    rows[:, along] = grid
    pieces = sigmoid_pieces(rows, model.k1_, model.b1_, model.k2_)
    figure, (top, bottom) = new_figure(nrows=2, sharex=True, figsize=(7.0, 7.0))
    for j in range(pieces.shape[1]):
        label = f"unit {j + 1}: {model.k2_[j]:.3g}·σ(…)"
        if X.shape[1] == 1:
            sign = "+" if model.b1_[j] >= 0 else "−"
            label = f"{model.k2_[j]:.3g}·σ({model.k1_[0, j]:.3g}·x {sign} {abs(model.b1_[j]):.3g})"
        top.plot(grid, pieces[:, j], linewidth=2, label=label)
    top.axhline(0.0, color="#999999", linewidth=0.8)
    top.set_ylabel(f"contribution to {target}")
    top.set_title("Each hidden unit: a scaled, shifted sigmoid")
    top.legend(fontsize=8)
    x_shown, y_shown = scatter_sample(X[:, along], y)
    bottom.scatter(x_shown, y_shown, s=10, alpha=0.35, color="#4c72b0", edgecolor="none", label="training data")
    bottom.plot(grid, pieces.sum(axis=1) + model.b2_, color=MODEL_COLORS["net"], linewidth=2.5,
                label=f"sum of the pieces + {model.b2_:.3g}")
    other = "" if X.shape[1] == 1 else " (other features at their median)"
    bottom.set_xlabel(features[along] + other)
    bottom.set_ylabel(target)
    bottom.set_title("Their sum: a curve no single piece could draw")
    bottom.legend(fontsize=8)
    return figure


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "cv", "metrics", "plot", "figures")
    net, data = params["net"], params["data"]
    X, y = read_xy(args.train, params)
    model = make_model(params, len(X))
    # A step holds a few (batch, hidden) arrays: about 40 bytes a row·unit; it costs about 20 ns a
    # row·unit·feature, for the fit and for each cross-validation fold's fit (measured).
    batch = model.batch_size or len(X)
    check_work("net.hidden", net["hidden"], batch, 40, what=f"{batch} rows a step")
    rows = batch + min(batch, crossval.MAX_ROWS) * params["cv"]["folds"]
    check_work("net.hidden", net["hidden"], rows * X.shape[1], 0, 20e-9 * net["steps"],
               what=f"{batch} rows a step × {X.shape[1]} features, for the fit and {params['cv']['folds']} folds")
    try:
        model.fit(X, y, progress=progress("net"))
    except DivergenceError as error:
        raise StageError(divergence_message(error, "net.learning_rate", net["learning_rate"])) from None
    folds = crossval.cross_validation("net", lambda: make_model(params, len(X)), X, y, params,
                                      rate=("net.learning_rate", net["learning_rate"]))

    write_columns(args.plot, loss_curve(model.loss_history_), digits=8)
    write_json(args.cv, folds)
    write_model(args.model, "net", model)
    write_json(args.metrics, {"net": {"train_mse": model.train_mse_}})
    save_figure(draw_sigmoid(), args.figures / "sigmoid.png")
    save_figure(draw_pieces(model, X, y, data["features"], data["target"]), args.figures / "pieces.png")


if __name__ == "__main__":
    raise SystemExit(main())
