"""Stage `evaluate`: every model of models.yaml on the held-out split, beside the baseline and the exact answer.

    python -m stages.evaluate --models models.yaml --fitted models --train data/prepared/train.csv \
        --test data/prepared/test.csv --metrics metrics --plots plots/evaluate --figures plots/figures

Each model is rebuilt from its folder (models/<name>/, written by its `fit@<name>` stage) and
predicts with its own ``predict``. Every score carries a bootstrap interval over the test rows, and
every model's MSE is compared with least squares' on the same rows (a paired bootstrap), so a
difference can be told from the luck of the split; a model fitted on several seeds gets the spread
of its test MSE over them. Writes, in long format (one row per model and point, so no plot
definition names a model):

    metrics/test_mse.json    mse.<model>: each model's test MSE, the summary `dvc exp show` leads with
    metrics/evaluate.json    details.test.<model>: test scores, intervals, the paired difference, the seed spread
    metrics/cv.json          details.cv.<model>: the cross-validation on the training split
    metrics/fit.json         details.fit.<model>: what the fit says about itself (training MSE, iterations)
    plots/evaluate/predictions.csv, response.csv, loss.csv; plots/figures/<model>/*.png

numpy only: this stage reruns on every experiment.
"""

import csv
import itertools
import os
import re

import numpy as np

from fromzero.metrics import bootstrap_mse_interval, paired_bootstrap_difference, regression_scores
from stages import cli
from stages.cli import StageError, check_work, path_option, stage_main, stage_parser
from stages.files import all_or_nothing, read_json, read_xy, write_bytes, write_columns, write_json
from stages.models import read_models
from stages.params import read_params

READS = ["seed", "data.target", "data.features", "evaluate.bootstrap", "evaluate.confidence"]
BASELINE, REFERENCE = "baseline", "least_squares"  # the yardsticks: every model is scored beside them
MAX_PREDICTION_ROWS = 5000  # plot data, not an archive: a seeded sample of a big test split
RESPONSE_POINTS = 100


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _score(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value >= 0


# What fit@<name> writes in models/<name>/, key by key (stages/fit.py; tests/test_faults.py holds the two
# equal): a key missing, unknown (an HTML key copied into metrics and the report) or of another type is refused.
CV_KEYS = {"mse_mean": _score, "mse_std": _score, "mse_min": _score, "mse_max": _score}
CV_OPTIONAL = {"sampled_rows": _count}
FIT_KEYS = {"train_mse": _score}
FIT_OPTIONAL = {"train_mse_sampled_rows": _count, "n_iter": _count, "steps_needed": _count, "best_trial": _count,
                "converged": lambda value: isinstance(value, bool)}
# Sizes no fit writes: a model of the most rows a fit keeps within its memory limit is far below this,
# and the file is refused before it is parsed (a 1 GB JSON file takes about 4 GB to read).
MAX_MODEL_BYTES = 256 << 20
MAX_SMALL_BYTES = 64 << 10  # cv.json, fit.json
MAX_CURVE_ROWS = 2001  # stages/files.py's loss_curve keeps at most 2000 points (+ the last)
MAX_FIGURE_BYTES = 16 << 20
MAX_SEEDS = 100  # params.yaml's seeds, at most
FIGURE_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,63}\.png")
PNG = b"\x89PNG\r\n\x1a\n"


class Fitted:
    """What ``fit@<name>`` left in models/<name>/, read and checked (StageError naming the file if not).

    Every file is held to what the fit stage writes: its keys and their types, finite numbers, its size;
    a file edited by hand is one line naming it and the command that writes it again.
    """

    def __init__(self, entry, folder):
        self.name, self.folder = entry.name, folder
        saved = self.json("model.json", MAX_MODEL_BYTES)
        if not isinstance(saved, dict) or set(saved) != {"model", "params"} or saved["model"] != entry.name \
                or not isinstance(saved["params"], dict):
            raise self.broken("model.json", f"does not hold model {entry.name!r} as {{\"model\", \"params\"}}")
        self.model = self.rebuild(entry, saved["params"], "model.json")
        self.cv = self.numbers("cv.json", CV_KEYS, CV_OPTIONAL)
        self.fit = self.numbers("fit.json", FIT_KEYS, FIT_OPTIONAL)
        seeds = self.json("seeds.json", MAX_MODEL_BYTES * MAX_SEEDS, missing=None) or {}
        if not isinstance(seeds, dict) or len(seeds) >= MAX_SEEDS or not all(
                isinstance(seed, str) and seed.isdigit() and seed.isascii() and isinstance(value, dict)
                for seed, value in seeds.items()):
            raise self.broken("seeds.json", f"is not a mapping of at most {MAX_SEEDS - 1} seeds (whole numbers) to "
                                            "fitted parameters")
        self.seeds = {seed: self.rebuild(entry, value, "seeds.json") for seed, value in sorted(seeds.items())}
        for seed, model in self.seeds.items():
            if model.n_features_in_ != self.model.n_features_in_:
                raise self.broken("seeds.json", f"seed {seed} was fitted on {model.n_features_in_} features, "
                                                f"model.json on {self.model.n_features_in_}")
        self.curve = self.read_curve()
        self.figures = self.read_figures()

    def broken(self, file, problem):
        return StageError(f"{self.folder / file}: {problem}; rerun `dvc repro -f fit@{self.name}`")

    def json(self, file, max_bytes, missing="error"):
        path = self.folder / file
        try:
            return read_json(path, max_bytes)
        except FileNotFoundError:
            if missing != "error":
                return missing
            raise StageError(f"{path}: not found; run `dvc repro fit@{self.name}` first") from None
        except IsADirectoryError:
            raise self.broken(file, "is a directory, not the file the fit writes") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise self.broken(file, f"not the JSON fit@{self.name} writes ({_short(error)})") from None

    def numbers(self, file, required, optional):
        """A flat JSON object with the keys the fit stage writes there, each of its type."""
        data = self.json(file, MAX_SMALL_BYTES)
        if not isinstance(data, dict):
            raise self.broken(file, "is not a JSON object")
        checks = {**required, **optional}
        for key, value in data.items():
            if key not in checks:
                raise self.broken(file, f"has a key the fit never writes ({_short(key)}); it writes "
                                        f"{', '.join(checks)}")
            if not checks[key](value):
                raise self.broken(file, f"{key} = {_short(value)} is not what the fit writes there "
                                        f"({'true or false' if key == 'converged' else 'a finite number >= 0'})")
        missing = [key for key in required if key not in data]
        if missing:
            raise self.broken(file, f"has no {missing[0]}")
        return data

    def rebuild(self, entry, params, file):
        try:
            return entry.model_class.from_dict(params)
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
            raise self.broken(file, f"model {self.name!r} cannot be rebuilt from it ({_short(error)})") from None

    def read_curve(self):
        path = self.folder / "curve.csv"
        if not path.exists():
            return None
        if not path.is_file():  # a FIFO would block, /dev/zero would be read until memory runs out
            raise self.broken("curve.csv", "is not a regular file")
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = list(itertools.islice(csv.reader(handle), MAX_CURVE_ROWS + 2))
            if len(rows) > MAX_CURVE_ROWS + 1:
                raise ValueError(f"more than the {MAX_CURVE_ROWS} points the fit keeps")
            if not rows or rows[0] not in (["step", "loss"], ["trial", "loss"]):
                raise ValueError("its header is not step,loss or trial,loss")
            values = np.array(rows[1:], dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != 2 or not np.isfinite(values).all():
                raise ValueError("expected two columns of finite numbers")
            if (values[:, 0] != np.round(values[:, 0])).any() or (values[:, 0] < 0).any() \
                    or (np.diff(values[:, 0]) <= 0).any() or (values[:, 1] < 0).any():
                raise ValueError("expected whole, increasing iterations and losses >= 0")
        except (UnicodeDecodeError, csv.Error, ValueError, OSError) as error:
            raise self.broken("curve.csv", f"not the loss curve the fit writes ({_short(error)})") from None
        return rows[0][0], values

    def read_figures(self):
        folder = self.folder / "figures"
        if not folder.exists():
            return []
        if not folder.is_dir():
            raise self.broken("figures", "is not a folder")
        figures = sorted(folder.iterdir())
        for figure in figures:
            if not FIGURE_NAME.fullmatch(figure.name) or not figure.is_file():
                raise self.broken(f"figures/{_short(figure.name, 40)[1:-1]}",
                                  "is not a picture the fit draws (lower-case .png files only)")
            with open(figure, "rb") as handle:
                head = handle.read(len(PNG))
                size = os.fstat(handle.fileno()).st_size
            if head != PNG or size > MAX_FIGURE_BYTES:
                raise self.broken(f"figures/{figure.name}", "is not a PNG file of the size the fit draws")
        return figures


def _short(value, limit=80):
    """A value or an error, quoted and cut to ``limit`` characters (never a whole 1 GB line in a message)."""
    text = repr(value) if not isinstance(value, BaseException) else str(value).splitlines()[0] if str(value) else \
        type(value).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def check_prediction_work(entry, fitted, n_train, n_test, n_response):
    """Refuse predictions that would need more than a stage's memory or time: ``model.work()``'s cost of
    predicting the test rows and the response curves with the model, and the test rows again with each of its
    further seeds (their spread), less that of the fit alone (which has run already). The most that fits is
    found on ``work()`` itself (a neighbour search does not grow in proportion to k)."""
    model = fitted.model
    if not hasattr(model, "work"):
        return
    n_features, seeds = model.n_features_in_, len(fitted.seeds)
    predictions = n_test * (1 + seeds) + n_response

    def need(candidate):
        fit_alone = candidate.work(n_train, n_features, 0)
        largest = candidate.work(n_train, n_features, max(n_test, n_response))  # one predict call at a time
        every = candidate.work(n_train, n_features, predictions)
        return largest["bytes"][1] - fit_alone["bytes"][1], every["seconds"][1] - fit_alone["seconds"][1]

    def fits(candidate):
        need_bytes, need_seconds = need(candidate)
        return need_bytes <= cli.WORK_BYTES and need_seconds <= cli.WORK_SECONDS

    if fits(model):
        return
    setting = model.work(n_train, n_features, predictions)["seconds"][0]
    value = model.get_params()[setting]
    key = setting if entry.params[0] == "seed" else f"{entry.params[0]}.{setting}"  # its section's key
    seeds_said = f", the test rows again on {seeds} more seeds" if seeds else ""
    most = cli.largest_that_fits(lambda v: fits(model.__class__(**{**model.get_params(), setting: v})), 1, value) \
        if isinstance(value, int) and not isinstance(value, bool) else 0
    raise StageError(f"params.yaml: {key} = {value!r} is too large for {entry.name}'s {predictions} predictions here "
                     f"(the {n_test} test rows, the response curves{seeds_said}), fitted on {n_train} rows × "
                     f"{n_features} feature{'s' * (n_features != 1)}: it would need about {cli.work_needs(*need(model))}"
                     + (f"; at most {most} on this data" if most >= 1 else
                        f"; at any {key}: use fewer rows, or leave {entry.name} out of models.yaml"))


def score_models(y_test, predictions, resamples, confidence, seed):
    """{model: {mse, rmse, mae, r2, mse_low, mse_high, vs_ls, vs_ls_low, vs_ls_high}} on the test rows."""
    metrics = {}
    for name, y_hat in predictions.items():
        scores = regression_scores(y_test, y_hat)
        scores["mse_low"], scores["mse_high"] = bootstrap_mse_interval(
            y_test, y_hat, resamples=resamples, seed=seed, confidence=confidence)
        if name != REFERENCE and REFERENCE in predictions:
            difference, low, high = paired_bootstrap_difference(
                y_test, y_hat, predictions[REFERENCE], resamples=resamples, seed=seed, confidence=confidence)
            # MSE minus least squares' on the same rows: below zero with `high` < 0 is a real win.
            scores["vs_ls"], scores["vs_ls_low"], scores["vs_ls_high"] = difference, low, high
        metrics[name] = scores
    return metrics


def seed_spread(fitted, X_test, y_test):
    """{"mse_seeds_median", "_min", "_max"}: the test MSE over the main seed and the fit's further seeds."""
    from fromzero.linear import mean_squared_error

    mse = [mean_squared_error(y_test, model.predict(X_test)) for model in [fitted.model, *fitted.seeds.values()]]
    return {"mse_seeds_median": float(np.median(mse)), "mse_seeds_min": float(np.min(mse)),
            "mse_seeds_max": float(np.max(mse)), "seeds": len(mse)}


def response_curves(X_train, models, features):
    """Each model's prediction along each feature, the others at their training median (long format).

    With one feature these are the fitted curves over the data's range.
    """
    median = np.median(X_train, axis=0)
    columns = {"model": [], "feature": [], "value": [], "predicted": []}
    for name, model in models.items():
        for j, feature in enumerate(features):
            grid = np.linspace(X_train[:, j].min(), X_train[:, j].max(), RESPONSE_POINTS)
            rows = np.tile(median, (RESPONSE_POINTS, 1))
            rows[:, j] = grid
            columns["model"] += [name] * RESPONSE_POINTS
            columns["feature"] += [feature] * RESPONSE_POINTS
            columns["value"] += list(grid)
            columns["predicted"] += list(model.predict(rows))
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
        unit, values = model.curve
        columns["model"] += [name] * len(values)
        columns["iteration"] += [int(value) for value in values[:, 0]]
        columns["unit"] += [unit] * len(values)
        columns["loss"] += list(values[:, 1])
    return columns


def parse_arguments(argv):
    parser = stage_parser(__doc__, READS)
    path_option(parser, "models", "the list of models (models.yaml)")
    path_option(parser, "fitted", "the folder of the fitted models, one folder each (models/)")
    path_option(parser, "train", "the training split (CSV): the range of the response curves")
    path_option(parser, "test", "the held-out split (CSV) every model is scored on")
    path_option(parser, "metrics", "the folder of the metrics it writes (test_mse, evaluate, cv, fit .json)")
    path_option(parser, "plots", "the folder of the plot data it writes (predictions, response, loss .csv)")
    path_option(parser, "figures", "the folder the models' own pictures are copied to, one folder each")
    return parser.parse_args(argv)


@stage_main
def main(argv=None):
    args = parse_arguments(argv)
    params = read_params(args.params, keys=READS)
    features, target = params["data"]["features"], params["data"]["target"]
    settings, seed = params["evaluate"], params["seed"]
    entries = read_models(args.models)
    X_train, _ = read_xy(args.train, features, target)
    X_test, y_test = read_xy(args.test, features, target)
    fitted = {name: Fitted(entry, args.fitted / name) for name, entry in entries.items()}
    for name, model in fitted.items():
        if model.model.n_features_in_ != X_test.shape[1]:
            raise StageError(f"{model.folder / 'model.json'}: fitted on other columns than data.features = "
                             f"{features}; rerun `dvc repro` so every model is fitted on the same columns")
    # Two bootstrap intervals a model (its MSE, and its difference from least squares): measured here, about
    # 11 ns a resample·row and 8 µs a resample (the 730 rows added to each interval's below).
    intervals = 2 * len(fitted) - 1
    check_work("evaluate.bootstrap", settings["bootstrap"], (len(y_test) + 730) * intervals, 0, 11e-9,
               what=f"{len(y_test)} test rows × {intervals} intervals")
    for name, model in fitted.items():  # a KNN's neighbour search over the test rows, priced before it runs
        check_prediction_work(entries[name], model, len(X_train), len(y_test), RESPONSE_POINTS * len(features))
    predictions = {}
    for name, model in fitted.items():
        predictions[name] = y_hat = model.model.predict(X_test)
        if not np.all(np.isfinite(y_hat)):  # a model file edited by hand can predict inf
            raise model.broken("model.json", "it predicts a non-finite value on the test split")
    metrics = score_models(y_test, predictions, settings["bootstrap"], settings["confidence"], seed)
    for name, scores in metrics.items():  # predictions far off the data's scale overflow a square
        if not all(value is None or np.isfinite(value) for value in scores.values()):
            raise fitted[name].broken("model.json", "its predictions are so far off that their squared errors overflow")
        if fitted[name].seeds:
            scores.update(seed_spread(fitted[name], X_test, y_test))

    with all_or_nothing():
        # The summary `dvc exp show` leads with (columns mse.<model>, short enough for one screen); every
        # other metric sits under "details", which the README's one-screen command drops.
        write_json(args.metrics / "test_mse.json", {"mse": {name: scores["mse"] for name, scores in metrics.items()}})
        write_json(args.metrics / "evaluate.json", {"details": {"test": metrics}})
        write_json(args.metrics / "cv.json", {"details": {"cv": {name: model.cv for name, model in fitted.items()}}})
        write_json(args.metrics / "fit.json", {"details": {"fit": {name: model.fit for name, model in fitted.items()}}})
        write_columns(args.plots / "predictions.csv", prediction_rows(y_test, predictions))
        write_columns(args.plots / "response.csv",
                      response_curves(X_train, {name: model.model for name, model in fitted.items()}, features))
        write_columns(args.plots / "loss.csv", loss_rows(fitted), digits=8)
        args.figures.mkdir(parents=True, exist_ok=True)  # DVC's output, even when no model has a picture
        for name, model in fitted.items():
            for figure in model.figures:
                write_bytes(args.figures / name / figure.name, figure.read_bytes())


if __name__ == "__main__":
    raise SystemExit(main())
