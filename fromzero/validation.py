"""Input checks shared by the estimators (ValueError, never assert)."""

import numpy as np


def check_x_y(x, y=None):
    """Return ``x`` (and ``y``) as finite float64 vectors of one length.

    ``x`` is the single feature, shape (n_samples,) or (n_samples, 1).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"x must be one feature, shape (n,) or (n, 1); got shape {x.shape}")
    if x.size == 0:
        raise ValueError("x is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    if y is None:
        return x
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.shape != x.shape:
        raise ValueError(f"x and y differ in length: {x.shape[0]} and {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    return x, y


def check_fitted(estimator, attribute):
    if not hasattr(estimator, attribute):
        raise ValueError(f"{type(estimator).__name__} is not fitted yet: call fit(x, y) first")
