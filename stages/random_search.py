"""Stage `random_search`: the tutorial's Monte Carlo guesses at integer coefficients.

    python -m stages.random_search --train data/prepared/train.csv --model models/random_search.json \
        --cv models/random_search.cv.json --metrics metrics/random_search.json --plot plots/random_search/search.csv
"""

from fromzero.random_search import RandomSearchLinear
from stages import crossval
from stages.cli import check_work, stage_arguments, stage_main
from stages.files import loss_curve, read_xy, write_columns, write_json, write_model
from stages.progress import progress


def make_model(params):
    search = params["random_search"]
    return RandomSearchLinear(trials=search["trials"], low=search["low"], high=search["high"],
                              seed=params["seed"])


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "cv", "metrics", "plot")
    X, y = read_xy(args.train, params)
    # Each trial is one pass over the rows, for the fit and each fold's: about 2 ns per row·coefficient.
    rows = crossval.fit_rows(len(X), params)
    check_work("random_search.trials", params["random_search"]["trials"], rows * (X.shape[1] + 1), 0, 2e-9,
               what=f"{rows} rows (the fit and its cross-validation) × {X.shape[1] + 1} coefficients")
    model = make_model(params).fit(X, y, progress=progress("random_search"))
    folds = crossval.cross_validation("random_search", lambda: make_model(params), X, y, params)

    # Plot data, not an archive: at most 2,000 trials, evenly thinned, the first and last kept (10^7 trials
    # would otherwise be a 230 MB CSV in git).
    curve = loss_curve(model.loss_history_)
    write_columns(args.plot, {"trial": curve["step"] + 1, "loss": curve["loss"],
                              "best_loss": model.best_loss_history_[curve["step"]]})
    write_json(args.cv, folds)
    write_model(args.model, "random_search", model)
    write_json(args.metrics, {"random_search": {"train_mse": model.best_loss_, "trial": model.best_trial_ + 1}})


if __name__ == "__main__":
    raise SystemExit(main())
