"""Stage `evaluate`: every model of models.yaml on the held-out split, beside the baseline and the exact answer.

    python -m stages.evaluate --models models.yaml --fitted models --train data/prepared/train.csv \
        --test data/prepared/test.csv --metrics metrics --plots plots/evaluate

Each model is rebuilt from its folder (models/<name>/, project/model_store.py) and predicts with its
own ``predict``. Every score carries a bootstrap interval over the test rows, and every model's MSE
is compared with the reference's (models.yaml's `reference`, least squares) on the same rows, a
paired bootstrap, so a difference can be told from the luck of the split; a model fitted on several
seeds gets the spread of its test MSE over them. Writes, in long format (one row per model and point,
so no plot definition names a model):

    metrics/test_mse.json    mse.<model>: each model's test MSE, the summary `dvc exp show` leads with
    metrics/evaluate.json    details.test.<model>: test scores, intervals, vs_reference, the seed spread
                             (details.test_sampled_rows: the test rows scored, when a large split is sampled)
    metrics/cv.json          details.cv.<model>: the cross-validation on the training split
    metrics/fit.json         details.fit.<model>: what the fit says about itself (training MSE, iterations)
    plots/evaluate/predictions.csv, response.csv, loss.csv, and pieces.csv: a model that is a sum of pieces
                             (the net), each piece and their sum along a feature
"""

import sys

import numpy as np

from fromzero.linear import mean_squared_error
from fromzero.metrics import bootstrap_mse_interval, paired_bootstrap_difference, regression_scores
from project import model_store
from project.errors import UserError
from project.files import write_columns, write_json
from project.models import read_models
from project.params import read_params
from project.splits import read_xy, seeded_sample
from stages import bounds, contract
from stages.cli import path_option, stage_main, stage_parser, time_limit

READS = ["seed", "data.target", "data.features", "evaluate.bootstrap", "evaluate.confidence", "limits"]
MAX_PREDICTION_ROWS = 5000  # plot data, not an archive: a seeded sample of a big test split
# Every model is scored on the same test rows: all of them, unless their predictions would take more than
# SCORE_SECONDS by the models' own prices (``cost``); then a seeded sample of MAX_SCORED_ROWS rows
# (evaluate.json's details.test_sampled_rows, and a note on stderr). Exact KNN in 12 dimensions costs
# about 1 ms a query on 8·10^5 training rows here: 200,000 test rows would take minutes of neighbour
# searches, where an MSE over 10,000 rows is known to about 1.5 % (its bootstrap interval says how well).
SCORE_SECONDS = 20.0
MAX_SCORED_ROWS = 10_000
RESPONSE_POINTS = 100


def score_models(y_test, predictions, reference, resamples, confidence, seed):
    """{model: {mse, rmse, mae, r2, mse_low, mse_high[, vs_reference, vs_reference_low, vs_reference_high]}}."""
    metrics = {}
    for name, y_hat in predictions.items():
        scores = regression_scores(y_test, y_hat)
        scores["mse_low"], scores["mse_high"] = bootstrap_mse_interval(
            y_test, y_hat, resamples=resamples, seed=seed, confidence=confidence)
        if reference is not None and name != reference:
            difference, low, high = paired_bootstrap_difference(
                y_test, y_hat, predictions[reference], resamples=resamples, seed=seed, confidence=confidence)
            # MSE minus the reference's on the same rows: below zero with `high` < 0 is a real win. Said to the
            # precision of the MSEs themselves (5 digits): a model within rounding of the reference reads 0.
            quantum = 10.0 ** (np.floor(np.log10(max(scores["mse"], 1e-300))) - 4)
            scores["vs_reference"], scores["vs_reference_low"], scores["vs_reference_high"] = (
                float(np.round(value / quantum) * quantum) + 0.0 for value in (difference, low, high))
        metrics[name] = scores
    return metrics


def seed_spread(fitted, X_test, y_test, main_mse):
    """{"mse_seeds_median", "_min", "_max", "seeds"}: the test MSE over the main seed and the fit's further seeds."""
    mse = [main_mse] + [mean_squared_error(y_test, contract.predictions(fitted.entry, model, X_test, f"with seed {seed}"))
                        for seed, model in fitted.seeds.items()]
    return {"mse_seeds_median": float(np.median(mse)), "mse_seeds_min": float(np.min(mse)),
            "mse_seeds_max": float(np.max(mse)), "seeds": len(mse)}


def response_curves(X_train, fitted, features):
    """Each model's prediction along each feature, the others at their training median (long format).

    With one feature these are the fitted curves over the data's range.
    """
    median = np.median(X_train, axis=0)
    columns = {"model": [], "feature": [], "value": [], "predicted": []}
    for name, model in fitted.items():
        for j, feature in enumerate(features):
            grid = np.linspace(X_train[:, j].min(), X_train[:, j].max(), RESPONSE_POINTS)
            rows = np.tile(median, (RESPONSE_POINTS, 1))
            rows[:, j] = grid
            columns["model"] += [name] * RESPONSE_POINTS
            columns["feature"] += [feature] * RESPONSE_POINTS
            columns["value"] += list(grid)
            columns["predicted"] += list(contract.predictions(model.entry, model.model, rows, "along a feature"))
    return columns


def prediction_rows(y_test, predictions):
    """Test rows (a seeded sample of a big split) × models, long format: model, row, actual, predicted."""
    rows = np.arange(len(y_test))
    if len(rows) > MAX_PREDICTION_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(rows), MAX_PREDICTION_ROWS, replace=False))
    columns = {"model": [], "row": [], "actual": [], "predicted": []}
    for name, y_hat in predictions.items():
        columns["model"] += [name] * len(rows)
        columns["row"] += list(rows)
        columns["actual"] += list(y_test[rows])
        columns["predicted"] += list(y_hat[rows])
    return columns


def loss_rows(fitted):
    """Every iterative model's training loss, long format: model, iteration (its step or trial), unit, loss."""
    columns = {"model": [], "iteration": [], "unit": [], "loss": []}
    for name, model in fitted.items():
        if model.curve is None:
            continue
        unit, iterations, losses = model.curve
        columns["model"] += [name] * len(losses)
        columns["iteration"] += [int(value) for value in iterations]
        columns["unit"] += [unit] * len(losses)
        columns["loss"] += list(losses)
    return columns


def prediction_seconds(fitted, n_train, n_test, n_response):
    """What every model's predictions here would take, by its own ``cost`` (a model without one: nothing)."""
    total = 0.0
    for model in fitted.values():
        estimator, d = model.model, model.model.n_features_in_
        with_predictions = estimator.cost(n_train, d, n_test * (1 + len(model.seeds)) + n_response)
        fit_alone = estimator.cost(n_train, d, 0)
        if with_predictions is not None and fit_alone is not None:
            total += max(0.0, with_predictions.seconds - fit_alone.seconds)
    return total


def scored_rows(fitted, n_train, X_test, y_test, n_response, seed):
    """(X, y, whether sampled): the test rows every model is scored on: all of them, or a seeded sample of
    MAX_SCORED_ROWS when scoring them all would take more than SCORE_SECONDS (said on stderr)."""
    n = len(y_test)
    seconds = 0.0 if n <= MAX_SCORED_ROWS else prediction_seconds(fitted, n_train, n, n_response)
    if seconds <= SCORE_SECONDS:
        return X_test, y_test, False
    print(f"note: evaluate: every model is scored on a seeded sample of {MAX_SCORED_ROWS:,} of the {n:,} test rows "
          f"(metrics/evaluate.json: details.test_sampled_rows): their predictions would take about "
          f"{seconds:,.0f} s; the intervals are over the sample", file=sys.stderr)
    return (*seeded_sample(X_test, y_test, MAX_SCORED_ROWS, seed), True)


def check_prediction_work(fitted, n_train, n_test, n_response, limits):
    """Refuse (one line) a model whose predictions here would need more than the limits, before they run."""
    model, seeds = fitted.model, len(fitted.seeds)
    work = [(n_train, n_test + n_response)] + [(n_train, n_test)] * seeds
    said = (f"{fitted.name}'s {n_test * (1 + seeds) + n_response} predictions here (the {n_test} test rows, the "
            f"response curves{f', the test rows again on {seeds} more seeds' if seeds else ''}), fitted on "
            f"{n_train} rows × {model.n_features_in_} feature{'s' * (model.n_features_in_ != 1)}")
    bounds.check_plan(fitted.entry, model, bounds.Plan(model.n_features_in_, work, said), limits)


def pieces_rows(fitted, X_train, features):
    """The models whose abilities include `pieces`, each as its pieces and their sum along one feature (the one
    they vary most along, the others at their median), long format: model, piece, feature, value, contribution.
    The sum is the piece "sum + constant" (``predict``). Plot data DVC draws, as the other plots are."""
    from fromzero.base import pieces_along

    columns = {"model": [], "piece": [], "feature": [], "value": [], "contribution": []}
    for name, model in fitted.items():
        if not model.model.abilities.pieces:
            continue
        j, grid, pieces, total = pieces_along(model.model, X_train, points=RESPONSE_POINTS)
        for label, values in [*((model.model.piece_label(unit), pieces[:, unit]) for unit in range(pieces.shape[1])),
                              ("sum + constant", total)]:
            columns["model"] += [name] * len(grid)
            columns["piece"] += [label] * len(grid)
            columns["feature"] += [features[j]] * len(grid)
            columns["value"] += list(grid)
            columns["contribution"] += list(values)
    return columns


def parse_arguments(argv):
    parser = stage_parser(__doc__, READS)
    path_option(parser, "models", "the list of models (models.yaml)")
    path_option(parser, "fitted", "the folder of the fitted models, one folder each (models/)")
    path_option(parser, "train", "the training split (CSV): the range of the response curves")
    path_option(parser, "test", "the held-out split (CSV) every model is scored on")
    path_option(parser, "metrics", "the folder of the metrics it writes (test_mse, evaluate, cv, fit .json)")
    path_option(parser, "plots", "the folder of the plot data it writes (predictions, response, loss .csv)")
    return parser.parse_args(argv)


@stage_main
def main(argv=None):
    args = parse_arguments(argv)
    params = read_params(args.params, keys=READS)
    limits = bounds.read_limits(params)
    time_limit(limits.seconds / 60)
    features, target = params["data"]["features"], params["data"]["target"]
    settings, seed = params["evaluate"], params["seed"]
    registry = read_models(args.models)
    X_train, y_train = read_xy(args.train, features, target)
    X_test, y_test = read_xy(args.test, features, target)
    fitted = {}
    for entry in registry:
        fitted[entry.name] = model_store.read(args.fitted / entry.name, entry, len(X_train), X_train.shape[1])
        if fitted[entry.name].model.n_features_in_ != X_test.shape[1]:
            raise UserError(f"{args.fitted / entry.name}: fitted on other columns than data.features = {features}; "
                            "rerun `dvc repro` so every model is fitted on the same columns")
    X_test, y_test, sampled = scored_rows(fitted, len(X_train), X_test, y_test, RESPONSE_POINTS * len(features), seed)
    # Two bootstrap intervals a model (its MSE, and its difference from the reference): measured here, about
    # 11 ns a resample·row and 8 µs a resample (the 730 rows added to each interval's below).
    intervals = 2 * len(fitted) - (registry.reference is not None)
    bounds.check_units("evaluate.bootstrap", settings["bootstrap"], (len(y_test) + 730) * intervals, 11e-9, limits,
                       f"{len(y_test)} test rows × {intervals} intervals")
    for model in fitted.values():  # a KNN's neighbour search over the test rows, priced before it runs
        check_prediction_work(model, len(X_train), len(y_test), RESPONSE_POINTS * len(features), limits)
    predictions = {name: contract.predictions(model.entry, model.model, X_test, "on the test split")
                   for name, model in fitted.items()}
    metrics = score_models(y_test, predictions, registry.reference, settings["bootstrap"], settings["confidence"],
                           seed)
    for name, scores in metrics.items():
        if fitted[name].seeds:
            scores.update(seed_spread(fitted[name], X_test, y_test, scores["mse"]))

    # The summary `dvc exp show` leads with (columns mse.<model>, short enough for one screen); every other
    # metric sits under "details", which the README's one-screen command drops.
    write_json(args.metrics / "test_mse.json", {"mse": {name: scores["mse"] for name, scores in metrics.items()}})
    write_json(args.metrics / "evaluate.json", {"details": {"test": metrics, **(
        {"test_sampled_rows": len(y_test)} if sampled else {})}})
    write_json(args.metrics / "cv.json", {"details": {"cv": {name: model.cv for name, model in fitted.items()}}})
    write_json(args.metrics / "fit.json", {"details": {"fit": {name: model.fit for name, model in fitted.items()}}})
    write_columns(args.plots / "predictions.csv", prediction_rows(y_test, predictions))
    write_columns(args.plots / "response.csv", response_curves(X_train, fitted, features))
    write_columns(args.plots / "loss.csv", loss_rows(fitted), digits=8)
    write_columns(args.plots / "pieces.csv", pieces_rows(fitted, X_train, features))


if __name__ == "__main__":
    raise SystemExit(main())
