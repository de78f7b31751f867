"""The line ``y = k·x + b``, grown to d inputs: ``y = X @ coef + intercept``.

Its loss, its hand-derived partials, and what every model whose answer is a line shares
(``LinearPrediction``). The models are in their own modules: least_squares.py ("method 1" of the
tutorial), random_search.py ("method 2"), gradient_descent.py.
"""

import numpy as np

from fromzero.base import Estimator
from fromzero.validation import check_fitted, params_array, params_int, portable


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
        return {"n_features_in": self.n_features_in_, "coef": portable(self.coef_),
                "intercept": portable(self.intercept_)}

    @classmethod
    def from_dict(cls, params):
        """A fitted model that predicts as the one whose ``to_dict()`` gave ``params``; ValueError if malformed."""
        d = params_int(cls.__name__, params, "n_features_in", 1)
        model = cls()
        model.coef_ = params_array(cls.__name__, params, "coef", ndim=1, length=d)
        model.intercept_ = float(params_array(cls.__name__, params, "intercept", ndim=0))
        model.n_features_in_ = d
        return model
