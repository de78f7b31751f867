"""The line ``y = k·x + b``, grown to d inputs: ``y = X @ coef + intercept``.

Its loss, its hand-derived partials, and its exact fit ("method 1" of the tutorial).
"""

import numpy as np

from fromzero.base import Estimator
from fromzero.validation import check_fitted, check_X_y, params_array, params_int


def mean_squared_error(y, y_hat):
    """The tutorial's loss: mean of (y_hat - y)^2 over the samples."""
    residual = np.asarray(y_hat, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return float(residual @ residual) / residual.size


def predict_linear(X, coef, intercept):
    """X (n, d) @ coef (d,) + intercept -> (n,)."""
    return X @ np.asarray(coef, dtype=np.float64) + intercept


def linear_loss_and_gradient(coef, intercept, X, y):
    """MSE of the plane and its partials: the tutorial's two formulas as one matrix product.

    r        = X @ coef + b - y                    residuals, (n,)
    loss     = mean(r^2)
    dL/dcoef = 2/n · Xᵀ r    (d,)   for d = 1 this is the tutorial's 2·mean(r·x)
    dL/db    = 2/n · Σ r            the tutorial's 2·mean(r)
    Shapes: coef (d,), X (n, d), y (n,). Returns (loss, grad_coef (d,), grad_intercept).
    """
    n = X.shape[0]
    residual = X @ coef  # the one temporary (n,) array; the rest is in place
    residual += intercept
    residual -= y
    # Dot products run in BLAS: several times faster than mean(r * r) at a million rows.
    return float(residual @ residual) / n, 2.0 / n * (residual @ X), 2.0 / n * float(residual.sum())


class LinearPrediction(Estimator):
    """predict / to_dict / from_dict shared by the models whose answer is ``coef_`` and ``intercept_``."""

    def predict(self, X):
        """X (n, d) or (n,) for d = 1 -> (n,)."""
        return predict_linear(self._check_predict_input(X), self.coef_, self.intercept_)

    def to_dict(self):
        check_fitted(self)
        return {"n_features_in": self.n_features_in_, "coef": [float(c) for c in self.coef_],
                "intercept": float(self.intercept_)}

    @classmethod
    def from_dict(cls, params):
        """A fitted model that predicts as the one whose ``to_dict()`` gave ``params``; ValueError if malformed."""
        d = params_int(cls.__name__, params, "n_features_in", 1)
        model = cls()
        model.coef_ = params_array(cls.__name__, params, "coef", ndim=1, length=d)
        model.intercept_ = float(params_array(cls.__name__, params, "intercept", ndim=0))
        model.n_features_in_ = d
        return model


class LeastSquares(LinearPrediction):
    """The tutorial's "method 1": set every partial to zero and solve.

    dL/dcoef = 0 and dL/db = 0 are the normal equations [X, 1]ᵀ[X, 1] w = [X, 1]ᵀ y;
    numpy.linalg.lstsq solves them through an SVD of [X, 1] (never forming the
    product, which squares the condition number). With d = 1 this is the
    tutorial's k = cov(x, y) / var(x), b = mean(y) - k·mean(x). Collinear or
    constant columns get lstsq's minimum-norm weights (the predictions are unique).

    The columns are centred and scaled to unit spread before the solve, and the
    weights mapped back: lstsq's cut-off for small singular values is relative
    to the largest, so a column of a very different scale or far from zero (RM
    in units of 1e12, or RM + 1e8) would otherwise be cut as if it were noise.

    Attributes after ``fit``: ``coef_`` (d,), ``intercept_``, ``n_features_in_``.
    """

    def fit(self, X, y):
        X, y = check_X_y(X, y, estimator=self)
        X_mean, y_mean = X.mean(axis=0), y.mean()
        X_scale = X.std(axis=0)
        X_scale[X_scale == 0.0] = 1.0  # a constant column: centred to zero, it carries nothing
        # With centred columns the intercept drops out: solve for the slopes, then b = ȳ - x̄·w.
        weights, *_ = np.linalg.lstsq((X - X_mean) / X_scale, y - y_mean, rcond=None)
        self.coef_ = weights / X_scale
        self.intercept_ = float(y_mean - X_mean @ self.coef_)
        self.n_features_in_ = X.shape[1]
        return self
