"""Cross-validation of one model on the training split, written by the stage that fits the model.

One 102-row test split decides every ranking; the spread of a model's MSE over k
folds of the training split says how much of a difference is the luck of the
split. Each model's stage cross-validates it with the same settings it fits
with, so changing `lr` reruns gradient descent's folds and nothing else's;
`evaluate` gathers every model's folds into metrics/cv.json.
"""

import numpy as np

from fromzero.cross_validation import cross_validate
from fromzero.errors import DivergenceError
from stages.cli import StageError

# Cross-validation shows how much a score moves from one small split to another. On a large training split
# that spread is tiny and k refits cost k times the fit (exact KNN in 12 dimensions on 10^6 rows: minutes a
# fold), so above this many rows the folds are drawn from a seeded sample of them; the file says how many.
MAX_ROWS = 5000


def fit_rows(rows, params):
    """Rows the stage fits on in all: the model once on the training split, then each fold's model."""
    sampled = min(rows, MAX_ROWS)
    folds = params["cv"]["folds"]
    return rows + sampled * (folds - 1)  # folds fits, each on (folds - 1) / folds of the sample


def cross_validation(name, make_model, X, y, params, rate=None):
    """Fit ``make_model()`` on k - 1 folds, score it on the k-th, for each fold: the MSE's summary.

    Computed before the stage writes anything, so a fold that fails leaves every output as it was.
    ``rate``, for a model that can diverge, is its (key, value) in params.yaml, named when a fold does.
    """
    folds, seed = params["cv"]["folds"], params["seed"]
    if folds > len(X) // 2:
        raise StageError(f"params.yaml: cv.folds = {folds} needs at least {2 * folds} training rows; "
                         f"the split has {len(X)}; lower cv.folds")
    summary = {}
    if len(X) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), MAX_ROWS, replace=False))
        X, y, summary["sampled_rows"] = X[rows], y[rows], MAX_ROWS
    try:
        mse = cross_validate(make_model, X, y, folds=folds, seed=seed)
    except DivergenceError as error:
        key, value = rate or ("cv.folds", folds)
        raise StageError(f"params.yaml: {key} = {value:g} fits the training split but {name} diverges on a "
                         f"cross-validation fold (the loss {error.reason} at step {error.step}); "
                         f"lower {key}, e.g. to {value / 2:g}") from None
    summary.update(mse_mean=float(np.mean(mse)), mse_std=float(np.std(mse, ddof=1)),
                   mse_min=float(np.min(mse)), mse_max=float(np.max(mse)))
    return summary
