"""Stage `evaluate`: every model on the held-out split, beside a baseline and the exact line.

    python -m stages.evaluate --train data/prepared/train.csv --test data/prepared/test.csv \
        --models models --least-squares models/least_squares.json --metrics metrics/evaluate.json --predictions plots/evaluate/predictions.csv \
        --figure plots/evaluate/curves.png

`baseline` predicts the training mean; `least_squares` is the tutorial's "method 1"
(the closed-form line) fitted here on the same training rows.
"""

import numpy as np

from fromzero.linear import LeastSquaresLine, predict_line
from fromzero.neighbors import make_knn_regressor
from fromzero.sigmoid_net import sum_of_sigmoids
from stages.cli import stage_arguments, stage_main
from stages.files import read_feature_target, read_json, save_figure, write_csv, write_json

MAX_PREDICTION_ROWS = 5000


def fitted_models(models_dir, x_train, y_train):
    """name -> predict(x) for the six models, rebuilt from the stages' JSON."""
    least_squares = LeastSquaresLine().fit(x_train, y_train)
    knn = make_knn_regressor(read_json(models_dir / "knn.json")["k"]).fit(x_train.reshape(-1, 1), y_train)
    rs, gd, net = (read_json(models_dir / f"{name}.json") for name in ("random_search", "gd", "net"))
    baseline = float(np.mean(y_train))
    predictors = {
        "baseline": lambda x: np.full(len(x), baseline),
        "least_squares": least_squares.predict,
        "knn": lambda x: knn.predict(x.reshape(-1, 1)),
        "random_search": lambda x: predict_line(x, rs["k"], rs["b"]),
        "gd": lambda x: predict_line(x, gd["k"], gd["b"]),
        "net": lambda x: sum_of_sigmoids(x, np.array(net["k1"]), np.array(net["b1"]),
                                         np.array(net["k2"]), net["b2"]),
    }
    return predictors, {"k": least_squares.k_, "b": least_squares.b_}


def scores(y, y_hat):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    mse = mean_squared_error(y, y_hat)
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": mean_absolute_error(y, y_hat), "r2": r2_score(y, y_hat)}


def draw_curves(predictors, x_train, y_train, x_test, y_test, feature, target, metrics):
    from stages.figures import MODEL_COLORS, new_figure, scatter_sample

    figure, axes = new_figure(figsize=(8.0, 5.5))
    shown = scatter_sample(x_train, y_train)
    axes.scatter(*shown, s=10, alpha=0.25, color="#4c72b0", edgecolor="none", label="train")
    shown = scatter_sample(x_test, y_test, seed=1)
    axes.scatter(*shown, s=16, alpha=0.7, color="#4c72b0", marker="x", linewidth=0.8, label="test")
    grid = np.linspace(min(x_train.min(), x_test.min()), max(x_train.max(), x_test.max()), 500)
    for name, predict in predictors.items():
        reference = name in ("baseline", "least_squares")  # dashed, drawn on top of the models
        axes.plot(grid, predict(grid), "--" if reference else "-", color=MODEL_COLORS[name],
                  linewidth=1.5 if reference else 2, zorder=3 if reference else 2,
                  label=f"{name} (test RMSE {metrics[name]['rmse']:.2f})")
    axes.set_ylim(min(y_train.min(), y_test.min()) - 5, max(y_train.max(), y_test.max()) + 5)
    axes.set_xlabel(feature)
    axes.set_ylabel(target)
    axes.set_title("Every fitted model over the data")
    axes.legend(fontsize=8, loc="upper left")
    return figure


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "test", "models", "least-squares", "metrics",
                                   "predictions", "figure")
    data = params["data"]
    columns = (data["feature"], data["target"])
    x_train, y_train = read_feature_target(args.train, params)
    x_test, y_test = read_feature_target(args.test, params)
    predictors, least_squares = fitted_models(args.models, x_train, y_train)
    predictions = {name: predict(x_test) for name, predict in predictors.items()}
    metrics = {name: scores(y_test, y_hat) for name, y_hat in predictions.items()}

    import pandas as pd

    table = pd.DataFrame({data["feature"]: x_test, "actual": y_test, **predictions})
    if len(table) > MAX_PREDICTION_ROWS:  # plot data, not an archive: a seeded sample of a big test split
        table = table.sample(n=MAX_PREDICTION_ROWS, random_state=0).sort_index()
    write_csv(args.predictions, table, float_format="%.6g")
    write_json(args.least_squares, least_squares, digits=None)
    write_json(args.metrics, metrics)
    save_figure(draw_curves(predictors, x_train, y_train, x_test, y_test, *columns, metrics), args.figure)


if __name__ == "__main__":
    raise SystemExit(main())
