"""Stage `fit@<model>`: fit one model of models.yaml on the training split, cross-validate it, keep it.

    python -m stages.fit knn --class KNearestNeighbors --code fromzero/neighbors.py --settings knn \
        --train data/prepared/train.csv --out models/knn

dvc.yaml runs this once per entry of models.yaml (`foreach`), with the entry's class, its code and
the params keys its settings come from. It fits the model, fits it again on `seeds` - 1 further seeds
(a model whose constructor takes a seed), cross-validates it, and writes its folder
(project/model_store.py says what is in it). Nothing here names a model: what is special about one
is what its class declares (``abilities``, ``settings``, ``cost``; fromzero/base.py).
"""

import sys

import numpy as np

from fromzero.cross_validation import kfold_indices
from fromzero.errors import DivergenceError, SettingError
from fromzero.linear import mean_squared_error
from project import model_store
from project.errors import UserError
from project.models import parse_entry
from project.params import read_params
from project.splits import read_xy
from project.yamlfile import as_written, shown
from stages import bounds, contract
from stages.cli import name_stage, path_option, stage_main, stage_parser, time_limit
from stages.progress import StageProgress

COMMON = ["seed", "seeds", "data.target", "data.features", "cv.folds", "limits"]  # what every fit reads
# Cross-validation shows how much a score moves from one small split to another. On a large training split
# that spread is tiny and k refits cost k times the fit (exact KNN in 12 dimensions on 10^6 rows: minutes a
# fold), so above this many rows the folds and the training MSE use a seeded sample; cv.json says how many.
CV_MAX_ROWS = 5000


def parse_arguments(argv):
    parser = stage_parser(__doc__, [*COMMON, "and the keys given to --settings"])
    parser.add_argument("name", help="the model's name in models.yaml (its folder and its DVC stage)")
    parser.add_argument("--class", dest="class_name", required=True, help="the class, e.g. KNearestNeighbors")
    parser.add_argument("--code", required=True, help="the file that defines it, e.g. fromzero/neighbors.py")
    parser.add_argument("--settings", nargs="+", required=True, metavar="KEY",
                        help="the params keys its settings come from: its section, then a top-level key")
    path_option(parser, "train", "the training split (CSV) written by the load stage")
    path_option(parser, "out", "the model's folder, written whole")
    args = parser.parse_args(argv)
    args.entry = parse_entry(args.name, {"class": args.class_name, "code": args.code,
                                         "params": list(dict.fromkeys(args.settings))}, source="dvc.yaml")
    return args


class Fits:
    """Fits the entry's model on given rows; a setting the rows cannot take, or a divergence, is one line naming its key."""

    def __init__(self, entry, params, progress):
        self.entry, self.params, self.progress = entry, params, progress

    def __call__(self, X, y, label, where, **overrides):
        model = self.entry.build(self.params, **overrides)
        try:
            if model.abilities.iteration:
                returned = model.fit(X, y, progress=self.progress.phase(label))
            else:
                returned = model.fit(X, y)
        except DivergenceError as error:
            raise UserError(self.diverged(model, error, where)) from None
        except SettingError as error:  # a setting these rows cannot take (knn.k above the rows, ...)
            key = self.entry.key_of(error.setting)
            what = f"{key} = {shown(error.value)}" if key else ", ".join(self.entry.params)
            advice = f"{error.advice} {key or 'its settings'}" + (" or cv.folds" if "fold" in where else "")
            raise UserError(f"params.yaml: {what} does not suit {self.entry.name} {where} ({len(X)} rows): "
                            f"{error.problem}; {advice}") from None
        return contract.check_fitted(self.entry, returned, X)

    def diverged(self, model, error, where):
        rate, *others = model.abilities.diverges_with or (error.setting,)
        key = self.entry.key_of(rate) or rate
        value = model.get_params().get(rate, error.value)
        defaults = type(model)().get_params()
        changed = [f"{self.entry.key_of(name) or name} = {as_written(model.get_params()[name])}" for name in others
                   if name in defaults and model.get_params()[name] != defaults[name]]
        also = f" (with {', '.join(changed)}, which may cause it too)" if changed else ""
        if where != "on the training split":
            return (f"params.yaml: {key} = {value:g} fits the training split but {self.entry.name} diverges {where} "
                    f"({error.problem}); lower {key}, e.g. to {value / 2:g}{also}")
        advice = (f"on this data it must be below {error.stable_below:.3g}" if error.stable_below
                  else f"try a smaller {key}, e.g. {value / 10:g}")
        return f"params.yaml: {key} = {value:g} makes the fit diverge: {error.problem}; {advice}{also}"


def sample(X, y, seed, rows=CV_MAX_ROWS):
    """(X, y, how many rows were sampled or None): a seeded sample of a split larger than ``rows``."""
    if len(X) <= rows:
        return X, y, None
    chosen = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
    return X[chosen], y[chosen], rows


def cross_validation(fits, X, y, folds, seed):
    """Fit on k - 1 folds, score on the k-th, for each fold: the MSE's summary (cv.json)."""
    if folds > len(X) // 2:
        raise UserError(f"params.yaml: cv.folds = {folds} needs at least {2 * folds} training rows; "
                        f"the split has {len(X)}; lower cv.folds")
    X, y, sampled = sample(X, y, seed)
    mse = []
    for fold, (train, test) in enumerate(kfold_indices(len(y), folds, seed), 1):
        model = fits(X[train], y[train], f"fold {fold}/{folds}", "on a cross-validation fold")
        y_hat = contract.predictions(fits.entry, model, X[test], "on a cross-validation fold")
        mse.append(mean_squared_error(y[test], y_hat))
    summary = {"mse_mean": float(np.mean(mse)), "mse_std": float(np.std(mse, ddof=1)),
               "mse_min": float(np.min(mse)), "mse_max": float(np.max(mse))}
    return {**summary, "sampled_rows": sampled} if sampled else summary


def fit_summary(entry, model, X, y, seed):
    """What the fit says about itself (fit.json): the training MSE (on a sample of a large split), its facts."""
    X, y, sampled = sample(X, y, seed)
    summary = {"train_mse": mean_squared_error(y, contract.predictions(entry, model, X, "on the training split"))}
    if sampled:
        summary["train_mse_sampled_rows"] = sampled
    return {**summary, **model_store.check_facts(model.fit_facts())}


def plan(rows, features, seeds, folds):
    """What the stage will fit, priced by the model's ``cost``: the model (then predicting the sampled rows for
    the training MSE), ``seeds`` more, and one per fold on the cross-validation sample."""
    sampled = min(rows, CV_MAX_ROWS)
    fits = [(rows, sampled)] + [(rows, 0)] * seeds + [(sampled - sampled // folds, sampled // folds + 1)] * folds
    said = (f"{rows} training rows × {features} feature{'s' * (features != 1)} ({1 + seeds + folds} fits: the model, "
            f"{seeds} more seeds, {folds} folds)")
    return bounds.Plan(features, fits, said)


def unconverged_warning(entry, model):
    """One line for a fit that ran out of iterations before converging (None if it converged or cannot)."""
    if not model.abilities.converges or model.converged_:
        return None
    key = entry.key_of("steps") or "its steps"
    needed = model.steps_needed_
    more = f"about {needed:,} would reach its tolerance" if needed else "its partials had stopped shrinking"
    return (f"warning: fit@{entry.name}: stopped at {key} = {model.n_iter_:,} steps before converging; {more} "
            f"(the report flags it; raise {key} or the learning rate)")


@stage_main
def main(argv=None):
    args = parse_arguments(argv)
    entry = args.entry
    name_stage(f"fit@{entry.name}")
    params = read_params(args.params, keys=[*COMMON, *entry.params], entries=[entry])
    limits = bounds.read_limits(params)
    time_limit(limits.seconds / 60)
    features, target = params["data"]["features"], params["data"]["target"]
    seed, folds = params["seed"], params["cv"]["folds"]
    X, y = read_xy(args.train, features, target)
    model = entry.build(params)
    extra_seeds = [seed + i for i in range(1, params["seeds"])] if "seed" in model.get_params() else []
    bounds.check_plan(entry, model, plan(len(X), X.shape[1], len(extra_seeds), folds), limits,
                      rows_plan=lambda n: plan(n, X.shape[1], len(extra_seeds), folds), data=str(args.train),
                      fewer=(plan(len(X), X.shape[1], 0, folds), "set seeds: 1") if extra_seeds else None)

    progress = StageProgress(f"fit@{entry.name}")
    fits = Fits(entry, params, progress)
    try:
        model = fits(X, y, "fit", "on the training split")
        others = {other: fits(X, y, f"seed {other}", f"with seed {other}", seed=other) for other in extra_seeds}
        cv = cross_validation(fits, X, y, folds, seed)
    finally:
        progress.close()
    fitted = model_store.FittedModel(entry.name, model, cv, fit_summary(entry, model, X, y, seed), others)
    try:
        model_store.write(args.out, fitted)
    except (TypeError, ValueError) as error:  # to_dict() gave what no .npz holds
        raise contract.broken(entry, f"to_dict() must give {{name: number or array}}: {error}") from None
    warning = unconverged_warning(entry, model)
    if warning:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
