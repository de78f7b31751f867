"""Input checks shared by the estimators (ValueError, never assert)."""

import numpy as np


def check_X_y(X, y=None, *, n_features=None):
    """Return ``X`` (and ``y``) as finite float64 arrays: X of shape (n, d), y of shape (n,).

    A 1-D ``X`` is one feature: shape (n,) becomes (n, 1). ``n_features``, when
    given, is the width the model was fitted on, and ``X`` must match it.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, np.newaxis]
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples,) or (n_samples, n_features); got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty: shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but the model was fitted on {n_features}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if y is None:
        return X
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n_samples,); got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y differ in length: {X.shape[0]} and {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    return X, y


def check_fitted(estimator, attribute):
    if not hasattr(estimator, attribute):
        raise ValueError(f"{type(estimator).__name__} is not fitted yet: call fit(X, y) first")
