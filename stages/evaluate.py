"""Stage `evaluate`: every model on the held-out split, beside the baseline and the exact answer.

    python -m stages.evaluate --train data/prepared/train.csv --test data/prepared/test.csv \
        --model baseline=models/baseline.json ... --model net=models/net.json \
        --cv baseline=models/baseline.cv.json ... --cv net=models/net.cv.json \
        --metrics metrics/evaluate.json --cv-metrics metrics/cv.json \
        --predictions plots/evaluate/predictions.csv --response plots/evaluate/response.csv

Each model is rebuilt from its file and predicts with its own ``predict``.
Every score carries a bootstrap interval over the test rows, and every model's
MSE is compared with least squares' on the same rows (a paired bootstrap), so a
difference can be told from the luck of the split; each model's cross-validation
on the training split, written by its own stage, is gathered into metrics/cv.json.
numpy only: this stage reruns on every experiment.
"""

import numpy as np

from fromzero.metrics import bootstrap_mse_interval, paired_bootstrap_difference, regression_scores
from fromzero.registry import MODEL_NAMES, model_from_dict
from stages.cli import StageError, check_work, stage_arguments, stage_main
from stages.files import read_json, read_xy, write_columns, write_json

MAX_PREDICTION_ROWS = 5000  # plot data, not an archive: a seeded sample of a big test split
RESPONSE_POINTS = 100


def model_paths(pairs, option="--model"):
    """``name=path`` arguments -> {name: path}, every registry model exactly once."""
    paths = dict(pair.split("=", 1) for pair in pairs)
    if sorted(paths) != sorted(MODEL_NAMES) or len(paths) != len(pairs):
        raise StageError(f"dvc.yaml: evaluate needs one {option} name=path for each of {', '.join(MODEL_NAMES)}; "
                         f"got {', '.join(pairs)}")
    return {name: paths[name] for name in MODEL_NAMES}


def read_stage_output(path, name):
    """A JSON file that stage ``name`` wrote; StageError if it is missing or not what that stage writes."""
    try:
        return read_json(path)
    except FileNotFoundError:
        raise StageError(f"{path}: not found; run `dvc repro {name}` first") from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise StageError(f"{path}: not the JSON stage {name} writes ({error}); rerun `dvc repro -f {name}`") from None


def read_model(path, name):
    """The fitted model ``name`` from a file ``write_model`` wrote."""
    saved = read_stage_output(path, name)
    if not isinstance(saved, dict) or saved.get("model") != name:
        raise StageError(f"{path}: does not hold model {name!r}; check dvc.yaml, or rerun `dvc repro -f {name}`")
    try:
        return model_from_dict(name, saved["params"])
    except (KeyError, TypeError, ValueError) as error:
        raise StageError(f"{path}: model {name!r} cannot be rebuilt from it ({error}); "
                         f"rerun `dvc repro -f {name}`") from None


def score_models(y_test, predictions, settings, seed):
    """{model: {mse, rmse, mae, r2, mse_low, mse_high, vs_ls, vs_ls_low, vs_ls_high}} on the test rows."""
    resamples, confidence = settings["bootstrap"], settings["confidence"]
    metrics = {}
    for name, y_hat in predictions.items():
        scores = regression_scores(y_test, y_hat)
        scores["mse_low"], scores["mse_high"] = bootstrap_mse_interval(
            y_test, y_hat, resamples=resamples, seed=seed, confidence=confidence)
        if name != "least_squares":
            difference, low, high = paired_bootstrap_difference(
                y_test, y_hat, predictions["least_squares"], resamples=resamples, seed=seed, confidence=confidence)
            # MSE minus least squares' on the same rows: below zero with `high` < 0 is a real win.
            scores["vs_ls"], scores["vs_ls_low"], scores["vs_ls_high"] = difference, low, high
        metrics[name] = scores
    return metrics


def response_curves(X_train, models, features):
    """Each model's prediction along each feature, the others held at their training median.

    With one feature these are the fitted curves over the data's range.
    """
    median = np.median(X_train, axis=0)
    columns = {"feature": [], "value": []}
    columns.update({name: [] for name in models})
    for j, feature in enumerate(features):
        grid = np.linspace(X_train[:, j].min(), X_train[:, j].max(), RESPONSE_POINTS)
        rows = np.tile(median, (RESPONSE_POINTS, 1))
        rows[:, j] = grid
        columns["feature"] += [feature] * RESPONSE_POINTS
        columns["value"] += list(grid)
        for name, model in models.items():
            columns[name] += list(model.predict(rows))
    return columns


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "test", "metrics", "cv-metrics", "predictions",
                                   "response", repeated=("model", "cv"))
    features = params["data"]["features"]
    X_train, _ = read_xy(args.train, params)
    X_test, y_test = read_xy(args.test, params)
    paths = model_paths(args.model)
    models = {name: read_model(path, name) for name, path in paths.items()}
    cross_validation = {name: read_stage_output(path, name) for name, path in model_paths(args.cv, "--cv").items()}
    wrong_width = [name for name, model in models.items() if model.n_features_in_ != X_test.shape[1]]
    if wrong_width:
        raise StageError(f"{paths[wrong_width[0]]}: fitted on other columns than data.features = "
                         f"{features}; rerun `dvc repro` so every model is fitted on the same columns")
    # Two bootstrap intervals a model (its MSE, and its difference from least squares): ~7 ns a resample·row.
    intervals = 2 * len(models) - 1
    check_work("evaluate.bootstrap", params["evaluate"]["bootstrap"], len(y_test) * intervals, 0, 7e-9,
               what=f"{len(y_test)} test rows × {intervals} intervals")
    predictions = {name: model.predict(X_test) for name, model in models.items()}
    for name, y_hat in predictions.items():  # a model file edited by hand can predict inf
        if not np.all(np.isfinite(y_hat)):
            raise StageError(f"{paths[name]}: predicts a non-finite value on the test split; "
                             f"rerun `dvc repro -f {name}`")
    metrics = score_models(y_test, predictions, params["evaluate"], params["seed"])
    for name, scores in metrics.items():  # predictions far off the data's scale overflow a square
        if not all(value is None or np.isfinite(value) for value in scores.values()):
            raise StageError(f"{paths[name]}: its predictions are so far off that their squared errors "
                             f"overflow; rerun `dvc repro -f {name}`")
    response = response_curves(X_train, models, features)

    rows = np.arange(len(y_test))
    if len(rows) > MAX_PREDICTION_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(rows), MAX_PREDICTION_ROWS, replace=False))
    write_columns(args.predictions, {"row": rows, "actual": y_test[rows],
                                     **{name: y_hat[rows] for name, y_hat in predictions.items()}})
    write_columns(args.response, response)
    write_json(args.metrics, metrics)
    write_json(args.cv_metrics, cross_validation)


if __name__ == "__main__":
    raise SystemExit(main())
