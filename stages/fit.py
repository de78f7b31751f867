"""Stage `fit@<model>`: fit one model of models.yaml on the training split, cross-validate it, keep it.

    python -m stages.fit knn --class fromzero.neighbors:KNearestNeighbors --settings knn \
        --train data/prepared/train.csv --out models/knn

dvc.yaml runs this once per entry of models.yaml (`foreach`), with the entry's class and the params
keys its settings come from. Everything the model leaves goes into its own folder, written all at
once (a failure anywhere leaves the old folder as it was):

    model.json   the fitted parameters (to_dict()), enough to rebuild it and predict
    cv.json      the MSE of each cross-validation fold on the training split, summarised
    fit.json     what the fit says about itself: training MSE, iterations run, converged
    seeds.json   the fitted parameters on `seeds` - 1 further seeds (a model whose fit uses a seed)
    curve.csv    the training loss at each iteration (a model with `loss_history_`)
    figures/     pictures its class has hooks for (stages/figures.py: the net's pieces)

`evaluate` gathers every model's folder into metrics/ and plots/. Nothing here names a model: what is
special about one rides on its class (its settings, `loss_history_`, `n_iter_`, `converged_`, a cost
estimate, a figure hook).
"""

import inspect
import sys

import numpy as np

from fromzero.cross_validation import kfold_indices
from fromzero.errors import DivergenceError
from fromzero.linear import mean_squared_error
from stages.cli import StageError, check_work, divergence_message, path_option, stage_main, stage_parser
from stages.files import all_or_nothing, loss_curve, read_xy, save_figure, write_columns, write_json, write_model
from stages.figures import model_figures
from stages.models import build_model, constructor_arguments, model_settings, parse_entry, setting_key
from stages.params import SCHEMA, model_setting, read_params
from stages.progress import StageProgress

COMMON = ["seed", "seeds", "data.target", "data.features", "cv.folds"]  # what every fit reads
# Cross-validation shows how much a score moves from one small split to another. On a large training split
# that spread is tiny and k refits cost k times the fit (exact KNN in 12 dimensions on 10^6 rows: minutes a
# fold), so above this many rows the folds are drawn from a seeded sample of them; cv.json says how many.
CV_MAX_ROWS = 5000
SUMMARY = {"n_iter_": "n_iter", "converged_": "converged", "steps_needed_": "steps_needed",
           "best_trial_": "best_trial"}  # where a class has them


def parse_arguments(argv):
    parser = stage_parser(__doc__, [*COMMON, "and the keys given to --settings"])
    parser.add_argument("name", help="the model's name in models.yaml (its folder and its DVC stage)")
    parser.add_argument("--class", dest="class_path", required=True, metavar="MODULE:CLASS",
                        help="the estimator, e.g. fromzero.neighbors:KNearestNeighbors")
    parser.add_argument("--settings", nargs="+", required=True, metavar="KEY",
                        help="the params keys its settings come from: its section, then a top-level key")
    path_option(parser, "train", "the training split (CSV) written by the load stage")
    path_option(parser, "out", "the model's folder, written all at once")
    args = parser.parse_args(argv)
    args.entry = parse_entry(args.name, {"class": args.class_path, "params": list(dict.fromkeys(args.settings))},
                             source="dvc.yaml")
    return args


def settings_schema(entry):
    """Checks for the entry's params: SCHEMA's where it has them, else any setting of its constructor."""
    schema = dict(SCHEMA)
    for key in entry.params:
        if key not in SCHEMA and not any(name.startswith(key + ".") for name in SCHEMA):
            schema.update({f"{key}.{name}": model_setting for name in constructor_arguments(entry.model_class)})
    return schema


def value_of(params, key):
    node = params
    for part in key.split("."):
        node = node[part]
    return node


class Fitter:
    """Fits the entry's model on given rows; a setting the rows cannot take, or a divergence, is one line naming its key."""

    def __init__(self, entry, params, progress):
        self.entry, self.params, self.progress = entry, params, progress

    def __call__(self, X, y, label, where, **overrides):
        model = build_model(self.entry, self.params, **overrides)
        takes_progress = "progress" in inspect.signature(model.fit).parameters
        try:
            return model.fit(X, y, progress=self.progress.phase(label)) if takes_progress else model.fit(X, y)
        except DivergenceError as error:
            raise StageError(self.diverged(error, where)) from None
        except ValueError as error:  # a setting these rows cannot take (knn.k above the rows, ...)
            raise StageError(self.unsuited(error, where, len(X))) from None

    def diverged(self, error, where):
        key = setting_key(self.entry, self.params, "learning_rate")
        if key is None:
            return f"params.yaml: {', '.join(self.entry.params)}: {self.entry.name}'s fit diverged {where} ({error})"
        value = value_of(self.params, key)
        if where == "on the training split":
            return divergence_message(error, key, value)
        return (f"params.yaml: {key} = {value:g} fits the training split but {self.entry.name} diverges {where} "
                f"(the loss {error.reason} at step {error.step}); lower {key}, e.g. to {value / 2:g}")

    def unsuited(self, error, where, rows):
        settings = model_settings(self.entry, self.params)
        argument = next((name for name in settings if str(error).startswith(name)), None)
        key = setting_key(self.entry, self.params, argument) if argument else None
        what = f"{key} = {value_of(self.params, key)!r}" if key else ", ".join(self.entry.params)
        lower = f"change {key or 'its settings'}" + (" or cv.folds" if "fold" in where else "")
        return f"params.yaml: {what} does not suit {self.entry.name} {where} ({rows} rows): {error}; {lower}"


def cross_validation(fitter, X, y, folds, seed):
    """Fit on k - 1 folds, score on the k-th, for each fold: the MSE's summary (a dict).

    The folds are fromzero.cross_validation's (its cross_validate is this loop; the stage runs it itself
    to label the progress bar and name a key when a fold fails).
    """
    if folds > len(X) // 2:
        raise StageError(f"params.yaml: cv.folds = {folds} needs at least {2 * folds} training rows; "
                         f"the split has {len(X)}; lower cv.folds")
    summary = {}
    if len(X) > CV_MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), CV_MAX_ROWS, replace=False))
        X, y, summary["sampled_rows"] = X[rows], y[rows], CV_MAX_ROWS
    mse = []
    for fold, (train, test) in enumerate(kfold_indices(len(y), folds, seed), 1):
        model = fitter(X[train], y[train], f"fold {fold}/{folds}", "on a cross-validation fold")
        mse.append(mean_squared_error(y[test], model.predict(X[test])))
    summary.update(mse_mean=float(np.mean(mse)), mse_std=float(np.std(mse, ddof=1)),
                   mse_min=float(np.min(mse)), mse_max=float(np.max(mse)))
    return summary


def check_model_work(entry, params, model, rows, features, seeds, folds):
    """Refuse settings whose fits here would need more than a stage's memory or time limit.

    ``model.work(n_samples, n_features, n_predictions)``, where the class has it, is the measured cost of
    a fit that then predicts that many rows: {"bytes": (setting, peak), "seconds": (setting, time)}.
    The stage fits the model once and predicts a sample of its rows (the training MSE), then ``seeds``
    more times, then once per fold on the cross-validation sample, predicting each fold's held-out rows:
    the times add up, the memory of the largest is the peak. The message names the setting's key.
    """
    if not hasattr(model, "work"):
        return
    sample = min(rows, CV_MAX_ROWS)
    costs = [model.work(rows, features, sample)] + [model.work(rows, features, 0)] * seeds \
        + [model.work(sample - sample // folds, features, sample // folds + 1)] * folds
    what = f"{rows} rows × {features} features ({1 + seeds + folds} fits: the model, {seeds} more seeds, {folds} folds)"
    for kind in ("bytes", "seconds"):
        setting = costs[0][kind][0]
        total = max(cost[kind][1] for cost in costs) if kind == "bytes" else sum(cost[kind][1] for cost in costs)
        key = setting_key(entry, params, setting)
        value = value_of(params, key)
        per_unit = total / value
        check_work(key, value, 1, per_unit if kind == "bytes" else 0, per_unit if kind == "seconds" else 0,
                   what=what)


def fit_summary(model, X, y, seed):
    """What the fit says about itself: {"train_mse", and n_iter, converged, best_trial where the class has them}.

    The training MSE is measured on a seeded sample of CV_MAX_ROWS rows of a larger split (a KNN's
    prediction costs a neighbour search: on 10^6 rows of 12 columns, all of them would take minutes).
    """
    summary = {}
    if len(X) > CV_MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), CV_MAX_ROWS, replace=False))
        X, y, summary["train_mse_sampled_rows"] = X[rows], y[rows], CV_MAX_ROWS
    summary["train_mse"] = mean_squared_error(y, model.predict(X))
    for attribute, key in SUMMARY.items():
        if hasattr(model, attribute):
            value = getattr(model, attribute)
            if value is not None:
                summary[key] = value.item() if isinstance(value, np.generic) else value
    return summary


def unconverged_warning(entry, params, model):
    """One line for a fit that ran out of iterations before converging (None if it converged)."""
    if getattr(model, "converged_", True):
        return None
    key = setting_key(entry, params, "steps") or "its steps"
    needed = getattr(model, "steps_needed_", None)
    more = f"about {needed:,} would reach its tolerance" if needed else "its partials had stopped shrinking"
    return (f"warning: fit@{entry.name}: stopped at {key} = {model.n_iter_:,} steps before converging; {more} "
            f"(the report flags it; raise {key} or the learning rate)")


def loss_columns(model):
    """The loss curve as CSV columns: {"step" or "trial" (the class's iteration_name), "loss"}."""
    curve = loss_curve(model.loss_history_)
    name = getattr(model, "iteration_name", "step")
    return {name: curve["step"] + 1 if name == "trial" else curve["step"], "loss": curve["loss"]}  # trial 1 first


@stage_main
def main(argv=None):
    args = parse_arguments(argv)
    entry = args.entry
    params = read_params(args.params, keys=[*COMMON, *entry.params], schema=settings_schema(entry))
    features, target = params["data"]["features"], params["data"]["target"]
    seed, folds = params["seed"], params["cv"]["folds"]
    X, y = read_xy(args.train, features, target)
    model = build_model(entry, params)
    seeded = "seed" in constructor_arguments(type(model))
    extra_seeds = [seed + i for i in range(1, params["seeds"])] if seeded else []
    check_model_work(entry, params, model, len(X), X.shape[1], len(extra_seeds), folds)

    progress = StageProgress(f"fit@{entry.name}")
    fitter = Fitter(entry, params, progress)
    try:
        model = fitter(X, y, "fit", "on the training split")
        others = {other: fitter(X, y, f"seed {other}", f"with seed {other}", seed=other) for other in extra_seeds}
        cv = cross_validation(fitter, X, y, folds, seed)
    finally:
        progress.close()

    with all_or_nothing():
        write_model(args.out / "model.json", entry.name, model)
        write_json(args.out / "cv.json", cv)
        write_json(args.out / "fit.json", fit_summary(model, X, y, seed))
        if others:
            write_json(args.out / "seeds.json", {str(other): fitted.to_dict() for other, fitted in others.items()},
                       digits=10)
        if hasattr(model, "loss_history_"):
            write_columns(args.out / "curve.csv", loss_columns(model), digits=8)
        for file_name, draw in model_figures(model):
            save_figure(draw(model, X, y, features, target), args.out / "figures" / file_name)
    warning = unconverged_warning(entry, params, model)
    if warning:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
