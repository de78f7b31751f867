"""k-fold cross-validation: every training row is a test row once, so one split's luck shows as spread."""

import numpy as np

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


def cross_validate(make_model, X, y, *, folds, seed):
    """Test MSE of each fold, shape (folds,): a fresh ``make_model()`` fitted on the other folds.

    X (n, d) or (n,), y (n,). Report the mean and the spread (std) over folds.
    """
    X, y = check_X_y(X, y)
    scores = []
    for train, test in kfold_indices(len(y), folds, seed):
        model = make_model().fit(X[train], y[train])
        scores.append(mean_squared_error(y[test], model.predict(X[test])))
    return np.array(scores)
