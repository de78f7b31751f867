"""Stage `fit@<model>`: fit one model of models.yaml on the training split, cross-validate it, keep it.

    python -m stages.fit knn --class KNearestNeighbors --code fromzero/neighbors.py --settings knn \
        --train data/prepared/train.csv --out models/knn

dvc.yaml runs this once per entry of models.yaml (`foreach`), with the entry's class, its code and
the params keys its settings come from. It fits the model, fits it again on `seeds` - 1 further seeds
(a model whose constructor takes a seed), cross-validates it, and writes its folder
(project/model_store.py says what is in it). Nothing here names a model: what is special about one
is what its class declares (``abilities``, ``settings``, ``cost``; fromzero/base.py).
"""

import os
import sys
import time

import numpy as np

from fromzero.cross_validation import kfold_indices
from fromzero.errors import DivergenceError, SettingError
from fromzero.linear import mean_squared_error
from project import model_store
from project.errors import UserError
from project.models import parse_entry
from project.params import read_params
from project.splits import read_xy, seeded_sample
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
    return (X, y, None) if len(X) <= rows else (*seeded_sample(X, y, rows, seed), rows)


def fold_tasks(fits, X, y, folds, seed):
    """(one task a fold: fit on k - 1 folds, score on the k-th, returning its MSE; the rows sampled or None)."""
    X, y, sampled = sample(X, y, seed)

    def task(fold, train, test):
        def run():
            model = fits(X[train], y[train], f"fold {fold}/{folds}", "on a cross-validation fold")
            y_hat = contract.predictions(fits.entry, model, X[test], "on a cross-validation fold")
            return mean_squared_error(y[test], y_hat)
        return run

    return [task(fold, *rows) for fold, rows in enumerate(kfold_indices(len(y), folds, seed), 1)], sampled


def cross_validation(fits, X, y, folds, seed, run_all=None):
    """Fit on k - 1 folds, score on the k-th, for each fold: the MSE's summary (cv.json). ``run_all``: what runs
    the folds' tasks (a loop, by default)."""
    if folds > len(X) // 2:
        raise UserError(f"params.yaml: cv.folds = {folds} needs at least {2 * folds} training rows; "
                        f"the split has {len(X)}; lower cv.folds")
    tasks, sampled = fold_tasks(fits, X, y, folds, seed)
    mse = run_all(tasks) if run_all else [task() for task in tasks]
    summary = {"mse_mean": float(np.mean(mse)), "mse_std": float(np.std(mse, ddof=1)),
               "mse_min": float(np.min(mse)), "mse_max": float(np.max(mse))}
    return {**summary, "sampled_rows": sampled} if sampled else summary


# Seeds and folds are independent fits: above this much work (by ``cost``) a forked child runs about half of them
# on the other core, in order, and sends back what each gave (a seed's to_dict(), a fold's MSE) as an .npz (no
# pickle); what it did not finish (a failure, its death) the stage runs itself: the sequential loop's results.
PARALLEL_SECONDS = 0.5


def in_parallel(entry, tasks, costs, head):
    """``head()`` (the model's own fit) and the results of ``tasks`` (callables: a seed's returns a model, a
    fold's an MSE) in their order, the tasks shared with a forked child by their ``costs`` (the head's first)."""
    import io
    import signal

    from project.npz import NotOurArchive, npz_bytes, read_npz

    ours, theirs, load = [], [], [float(costs[0]), 0.0]  # each side keeps the tasks' order
    for index, cost in enumerate(costs[1:]):
        side = int(load[0] > load[1])
        (theirs if side else ours).append(index)
        load[side] += float(cost)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its tasks in order, then what they gave down the pipe; a failure sends nothing
        try:
            os.close(reader)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's to report
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sys.stderr, arrays = open(os.devnull, "w"), {}  # noqa: SIM115 (the parent says what is said)
            for index in theirs:
                result = tasks[index]()
                arrays.update({f"{index}.mse": result} if isinstance(result, float) else
                              {**{f"{index}/{key}": value for key, value in result.to_dict().items()},
                               f"{index}.done": True})
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(npz_bytes(arrays))
        finally:
            os._exit(0)
    os.close(writer)
    pipe, results = os.fdopen(reader, "rb"), {}
    try:
        first = head()
        for index in ours:
            try:
                results[index] = tasks[index]()
            except BaseException:  # the child's earlier tasks may fail first, as in the loop
                os.kill(child, signal.SIGKILL)
                [tasks[earlier]() for earlier in theirs if earlier < index]
                raise
        try:
            arrays = read_npz(io.BytesIO(pipe.read()), 1 << 34)
        except NotOurArchive:  # nothing sent: the child failed or died
            arrays = {}
        for index in theirs:
            params = {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith(f"{index}/")}
            results[index] = (float(arrays[f"{index}.mse"]) if f"{index}.mse" in arrays else
                              entry.model_class.from_dict(params) if f"{index}.done" in arrays else tasks[index]())
    finally:
        pipe.close()
        os.kill(child, signal.SIGKILL)  # done by now, or no longer wanted
        os.waitpid(child, 0)
    return first, [results[index] for index in range(len(tasks))]


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


def cost_note(entry, rows, seeds, folds, seconds):
    """One line on what the fit, its further seeds and its folds took on a large split (``seconds``: the fit's, then
    the seeds' and the folds', or the two together when they ran beside it on the other core)."""
    said = f"{folds} cross-validation folds (cv.folds) on a seeded sample of {CV_MAX_ROWS:,} rows"
    more, advice = (f"{seeds} more seed{'s' * (seeds != 1)} (seeds: {seeds + 1})", "; `seeds: 1` fits it once") \
        if seeds else ("no more seeds (it takes none)", "")
    head = f"note: fit@{entry.name}: {rows:,} training rows: the fit took {seconds[0]:.1f} s"
    if len(seconds) == 2:
        return f"{head}; {more} and {said} {seconds[1]:.1f} s more, beside it on the other core{advice}"
    return f"{head}, {more}{f' {seconds[1]:.1f} s' if seeds else ''}, {said} {seconds[2]:.1f} s{advice}"


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
    the_plan = plan(len(X), X.shape[1], len(extra_seeds), folds)
    bounds.check_plan(entry, model, the_plan, limits,
                      rows_plan=lambda n: plan(n, X.shape[1], len(extra_seeds), folds), data=str(args.train),
                      fewer=(plan(len(X), X.shape[1], 0, folds), "set seeds: 1") if extra_seeds else None)

    progress = StageProgress(f"fit@{entry.name}")
    fits = Fits(entry, params, progress)
    costs = [model.cost(rows, X.shape[1], predicted) for rows, predicted in the_plan.fits_]
    parallel = (None not in costs and sum(cost.seconds for cost in costs[1:]) >= PARALLEL_SECONDS
                and (os.cpu_count() or 1) > 1 and folds <= len(X) // 2)
    clock = [time.perf_counter()]

    def seed_fit(other):
        return fits(X, y, f"seed {other}", f"with seed {other}", seed=other)

    def head():
        fitted_model = fits(X, y, "fit", "on the training split")
        clock.append(time.perf_counter())
        return fitted_model

    try:
        if parallel:  # the model, its seeds and its folds at once: cross_validation hands over the folds
            done = {}

            def run_all(fold_tasks):
                done["model"], results = in_parallel(entry, [lambda other=other: seed_fit(other)
                                                              for other in extra_seeds] + fold_tasks,
                    [cost.seconds for cost in costs], head)
                done["others"] = dict(zip(extra_seeds, results))
                return results[len(extra_seeds):]

            cv = cross_validation(fits, X, y, folds, seed, run_all)
            model, others = done["model"], done["others"]
        else:
            model = head()
            others = {other: seed_fit(other) for other in extra_seeds}
            clock.append(time.perf_counter())
            cv = cross_validation(fits, X, y, folds, seed)
        clock.append(time.perf_counter())
    finally:
        progress.close()
    if len(X) > CV_MAX_ROWS:  # at this size the seeds and the folds cost real time: say how much
        print(cost_note(entry, len(X), len(extra_seeds), folds, np.diff(clock)), file=sys.stderr)
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
