"""Stage `net`: the tutorial's sum of sigmoids, trained by hand-written backprop.

    python -m stages.net --train data/prepared/train.csv --model models/net.json \
        --metrics metrics/net.json --plot plots/net/loss.csv --figures plots/net
"""

import numpy as np

from fromzero.errors import DivergenceError
from fromzero.sigmoid_net import SigmoidNet, sigmoid, sigmoid_pieces
from stages.cli import StageError, divergence_message, stage_arguments, stage_main
from stages.files import (loss_curve_frame, read_feature_target, save_figure, write_csv,
                          write_json)


def draw_sigmoid():
    from stages.figures import new_figure

    z = np.linspace(-10, 10, 401)
    figure, axes = new_figure(figsize=(6.0, 3.5))
    axes.plot(z, sigmoid(z), color="#e7298a", linewidth=2.5)
    axes.axhline(0.5, color="#999999", linewidth=0.8, linestyle="--")
    axes.set_xlabel("z")
    axes.set_ylabel(r"$\sigma(z) = 1\,/\,(1 + e^{-z})$")
    axes.set_title("The sigmoid: a smooth step from 0 to 1")
    return figure


def draw_pieces(model, x, y, feature, target):
    """The trained net as the sum of its pieces: each k2_j·σ(k1_j·x + b1_j), then the total."""
    from stages.figures import new_figure, scatter_sample

    grid = np.linspace(x.min(), x.max(), 400)
    pieces = sigmoid_pieces(grid, model.k1_, model.b1_, model.k2_)
    figure, (top, bottom) = new_figure(nrows=2, sharex=True, figsize=(7.0, 7.0))
    for j in range(pieces.shape[1]):
        sign = "+" if model.b1_[j] >= 0 else "−"
        top.plot(grid, pieces[:, j], linewidth=2,
                 label=f"{model.k2_[j]:.3g}·σ({model.k1_[j]:.3g}·x {sign} {abs(model.b1_[j]):.3g})")
    top.axhline(0.0, color="#999999", linewidth=0.8)
    top.set_ylabel(f"contribution to {target}")
    top.set_title("Each hidden unit: a scaled, shifted sigmoid")
    top.legend(fontsize=8)
    x_shown, y_shown = scatter_sample(x, y)
    bottom.scatter(x_shown, y_shown, s=10, alpha=0.35, color="#4c72b0", edgecolor="none", label="training data")
    bottom.plot(grid, pieces.sum(axis=1) + model.b2_, color="#e7298a", linewidth=2.5,
                label=f"sum of the pieces + {model.b2_:.3g}")
    bottom.set_xlabel(feature)
    bottom.set_ylabel(target)
    bottom.set_title("Their sum: a curve no single piece could draw")
    bottom.legend(fontsize=8)
    return figure


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "metrics", "plot", "figures")
    net, data = params["net"], params["data"]
    x, y = read_feature_target(args.train, params)
    model = SigmoidNet(hidden=net["hidden"], learning_rate=net["learning_rate"], steps=net["steps"],
                       batch_size=net["batch_size"], seed=params["seed"])
    try:
        model.fit(x, y)
    except DivergenceError as error:
        raise StageError(divergence_message(error, "net.learning_rate", net["learning_rate"])) from None

    write_csv(args.plot, loss_curve_frame(model.loss_history_), float_format="%.8g")
    write_json(args.model, {"k1": model.k1_.tolist(), "b1": model.b1_.tolist(),
                            "k2": model.k2_.tolist(), "b2": model.b2_}, digits=None)
    write_json(args.metrics, {"net": {"train_mse": model.loss_history_[-1]}})
    save_figure(draw_sigmoid(), args.figures / "sigmoid.png")
    save_figure(draw_pieces(model, x, y, data["feature"], data["target"]), args.figures / "pieces.png")


if __name__ == "__main__":
    raise SystemExit(main())
