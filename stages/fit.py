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
import re
import sys

import numpy as np

from fromzero.cross_validation import kfold_indices
from fromzero.errors import DivergenceError
from fromzero.linear import mean_squared_error
from stages import cli
from stages.cli import (StageError, divergence_message, largest_that_fits, name_stage, path_option, stage_main,
                        stage_parser, work_needs)
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
        changed = self.changed_settings(exclude=("learning_rate", "steps", "tol"))  # none of these diverges
        also = f" (with {', '.join(changed)}, which may cause it too)" if changed else ""
        if where == "on the training split":
            return divergence_message(error, key, value) + also
        return (f"params.yaml: {key} = {value:g} fits the training split but {self.entry.name} diverges {where} "
                f"(the loss {error.reason} at step {error.step}); lower {key}, e.g. to {value / 2:g}{also}")

    def changed_settings(self, exclude):
        """"key = value" of the settings other than those in ``exclude`` that differ from the class's defaults."""
        defaults = {name: parameter.default for name, parameter in
                    inspect.signature(self.entry.model_class).parameters.items()}
        return [f"{setting_key(self.entry, self.params, name)} = {_shown(value)}"
                for name, value in model_settings(self.entry, self.params).items()
                if name not in (*exclude, "seed") and name in defaults and value != defaults[name]
                and setting_key(self.entry, self.params, name)]

    def unsuited(self, error, where, rows):
        settings = model_settings(self.entry, self.params)
        argument = next((name for name in settings if str(error).startswith(name)), None)
        key = setting_key(self.entry, self.params, argument) if argument else None
        what = f"{key} = {value_of(self.params, key)!r}" if key else ", ".join(self.entry.params)
        text, advice = str(error), f"change {key or 'its settings'}"
        verb = re.search(rf"; (lower|raise|change) {argument}$", text) if argument else None
        if verb:  # the library's own advice, in the params key's name: "...; lower tol" -> "; lower gd.tol"
            text, advice = text[:verb.start()], f"{verb.group(1)} {key}"
        advice += " or cv.folds" if "fold" in where else ""
        return f"params.yaml: {what} does not suit {self.entry.name} {where} ({rows} rows): {text}; {advice}"


def _shown(value):
    """A setting's value as params.yaml writes it: true/false, numbers, quoted text."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


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


class FitPlan:
    """The fits the stage runs on ``rows`` × ``features``: the model (then predicting a sample of its rows, the
    training MSE), ``seeds`` more, and one per fold on the cross-validation sample, predicting its held-out rows."""

    def __init__(self, rows, features, seeds, folds):
        self.rows, self.features, self.seeds, self.folds = rows, features, seeds, folds

    def cost(self, model):
        """(peak bytes, seconds) by ``model.work()``: the times add up, the largest fit's memory is the peak."""
        rows, features, sample = self.rows, self.features, min(self.rows, CV_MAX_ROWS)
        costs = [model.work(rows, features, sample)] + [model.work(rows, features, 0)] * self.seeds \
            + [model.work(sample - sample // self.folds, features, sample // self.folds + 1)] * self.folds
        return max(cost["bytes"][1] for cost in costs), sum(cost["seconds"][1] for cost in costs)

    def fits(self, model):
        need_bytes, need_seconds = self.cost(model)
        return need_bytes <= cli.WORK_BYTES and need_seconds <= cli.WORK_SECONDS

    def __str__(self):
        return (f"{self.rows} training rows × {self.features} feature{'s' * (self.features != 1)} "
                f"({1 + self.seeds + self.folds} fits: the model, {self.seeds} more seeds, {self.folds} folds)")


def check_model_work(entry, params, model, rows, features, seeds, folds, data="the training split"):
    """Refuse settings whose fits here would need more than a stage's memory or time limit.

    ``model.work(n_samples, n_features, n_predictions)``, where the class has it, is the measured cost of
    a fit that then predicts that many rows: {"bytes": (setting, peak), "seconds": (setting, time)}; the
    stage's fits are FitPlan's. The line names the setting to lower, its value, what the work would need
    and the most that fits (found on ``work()`` itself, so every setting it prices counts: the gradient
    method, the batch, the seeds). The setting is the one ``work()`` says sizes the cost, unless a whole-number
    setting changed from its default is the cause (it alone, put back, makes the work fit). Settings changed
    from their defaults that raise the cost are named beside it; when no value of the setting fits, the line
    says how many training rows would.
    """
    if not hasattr(model, "work"):
        return
    plan = FitPlan(rows, features, seeds, folds)
    need_bytes, need_seconds = plan.cost(model)
    if need_bytes <= cli.WORK_BYTES and need_seconds <= cli.WORK_SECONDS:
        return
    kind, index = ("bytes", 0) if need_bytes > cli.WORK_BYTES else ("seconds", 1)
    settings = {name: value for name, value in model.get_params().items() if name != "seed"}
    defaults = {name: parameter.default for name, parameter in inspect.signature(type(model)).parameters.items()}

    def variant(**changes):
        return model.__class__(**{**model.get_params(), **changes})

    raised = [name for name, value in settings.items() if name in defaults and value != defaults[name]
              and plan.cost(variant(**{name: defaults[name]}))[index] < plan.cost(model)[index]]
    whole = [name for name in raised if _is_whole(settings[name]) and plan.fits(variant(**{name: defaults[name]}))]
    setting = whole[0] if whole else model.work(rows, features, 0)[kind][0]

    def key_of(name):
        return setting_key(entry, params, name) or f"{entry.params[0]}.{name}"

    key, value = key_of(setting), settings[setting]
    others = [f"{key_of(name)} = {settings[name]!r}" for name in raised if name != setting]
    named = f"{key} = {value!r}" + (f" with {', '.join(others)}" if others else "")
    needs = work_needs(need_bytes, need_seconds)
    if not _is_whole(value):
        raise StageError(f"params.yaml: {named} is too large for {plan}: it would need about {needs}")
    most = largest_that_fits(lambda v: plan.fits(variant(**{setting: v})), 1, value)
    if most >= 1:
        fewer_seeds = seeds and FitPlan(rows, features, 0, folds).fits(model)
        alternative = f" (or keep {key} and set seeds: 1)" if fewer_seeds else ""
        raise StageError(f"params.yaml: {named} is too large for {plan}: it would need about {needs}; at most "
                         f"{most} on this data{alternative}")
    most_rows = largest_that_fits(lambda n: FitPlan(n, features, seeds, folds).fits(model), 1, rows)
    raise StageError(f"{data}: {plan} are too many for {entry.name} at any {key}: it would need about {needs}; at "
                     f"most {most_rows} training rows fit (a sample of data.csv, or fewer data.features), or leave "
                     f"{entry.name} out of models.yaml")


def _is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


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
    name_stage(f"fit@{entry.name}")
    params = read_params(args.params, keys=[*COMMON, *entry.params], schema=settings_schema(entry))
    features, target = params["data"]["features"], params["data"]["target"]
    seed, folds = params["seed"], params["cv"]["folds"]
    X, y = read_xy(args.train, features, target)
    model = build_model(entry, params)
    seeded = "seed" in constructor_arguments(type(model))
    extra_seeds = [seed + i for i in range(1, params["seeds"])] if seeded else []
    check_model_work(entry, params, model, len(X), X.shape[1], len(extra_seeds), folds, data=args.train)

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
