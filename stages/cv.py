"""Stage `cv`: k-fold cross-validation of every model on the training split.

    python -m stages.cv --train data/prepared/train.csv --metrics metrics/cv.json

One 102-row test split decides every ranking; the spread of the MSE over folds
says how much of a difference between models is the luck of the split. Each
model is built from the same params its own stage reads.
"""

import numpy as np

from fromzero.cross_validation import cross_validate
from fromzero.errors import DivergenceError
from fromzero.registry import MODEL_NAMES
from stages import gd, knn, net, random_search, reference
from stages.cli import StageError, stage_arguments, stage_main
from stages.files import read_xy, write_json


def model_factories(params, rows):
    """name -> a function making the unfitted model, as each model's stage configures it."""
    return {
        "baseline": lambda: reference.make_model("baseline"),
        "least_squares": lambda: reference.make_model("least_squares"),
        "knn": lambda: knn.make_model(params),
        "random_search": lambda: random_search.make_model(params),
        "gd": lambda: gd.make_model(params),
        "net": lambda: net.make_model(params, rows),
    }


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "metrics")
    folds, seed = params["cv"]["folds"], params["seed"]
    X, y = read_xy(args.train, params)
    if folds > len(X) // 2:
        raise StageError(f"params.yaml: cv.folds = {folds} needs at least {2 * folds} training rows, "
                         f"{args.train} has {len(X)}; lower cv.folds")
    if params["knn"]["k"] > len(X) - len(X) // folds - 1:
        raise StageError(f"params.yaml: knn.k = {params['knn']['k']} is more than a fold's "
                         f"{len(X) - len(X) // folds - 1} training rows; lower knn.k or cv.folds")
    factories = model_factories(params, len(X))
    results = {}
    for name in MODEL_NAMES:
        try:
            mse = cross_validate(factories[name], X, y, folds=folds, seed=seed)
        except DivergenceError as error:
            raise StageError(f"cv: {name} diverged on a fold of the training split ({error}); "
                             f"see `dvc repro {name}` for the parameter to change") from None
        results[name] = {"mse_mean": float(np.mean(mse)), "mse_std": float(np.std(mse, ddof=1)),
                         "mse_min": float(np.min(mse)), "mse_max": float(np.max(mse))}
    write_json(args.metrics, results)


if __name__ == "__main__":
    raise SystemExit(main())
