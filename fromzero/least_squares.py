"""The tutorial's "method 1": the line whose partials are all zero, solved exactly."""

import numpy as np

from fromzero.linear import LinearPrediction
from fromzero.validation import check_X_y


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
