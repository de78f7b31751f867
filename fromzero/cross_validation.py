"""k-fold cross-validation: every training row is a test row once, so one split's luck shows as spread."""

import numpy as np

from fromzero.base import clone
from fromzero.linear import mean_squared_error
from fromzero.validation import check_X_y


def kfold_indices(n, folds, seed):
    """[(train_idx, test_idx)] for ``folds`` folds of n rows: shuffled with ``seed``, sizes differ by at most 1.

    The test parts are disjoint and cover every row; each index array is sorted.
    """
    n, folds = int(n), int(folds)
    if not 2 <= folds <= n:
        raise ValueError(f"folds must be between 2 and the {n} rows, got {folds}")
    parts = np.array_split(np.random.default_rng(seed).permutation(n), folds)
    return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(part)) for i, part in enumerate(parts)]


def cross_validate(model, X, y, *, folds, seed):
    """Test MSE of each fold, shape (folds,): a fresh copy of ``model`` fitted on the other folds.

    ``model`` is an estimator, cloned (same settings, unfitted) for each fold, or
    a function returning a new one. X (n, d) or (n,), y (n,). Report the mean and
    the spread (std) over folds.
    """
    X, y = check_X_y(X, y, estimator="cross_validate")
    fresh = (lambda: clone(model)) if hasattr(model, "get_params") and not isinstance(model, type) else model
    scores = []
    for train, test in kfold_indices(len(y), folds, seed):
        fitted = fresh().fit(X[train], y[train])
        scores.append(mean_squared_error(y[test], fitted.predict(X[test])))
    return np.array(scores)
