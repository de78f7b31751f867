"""The yardstick: ignore the inputs and predict the training mean."""

import numpy as np

from fromzero.validation import check_fitted, check_X_y


class MeanBaseline:
    """Predicts mean(y) for every row: the best constant under squared error.

    A model that cannot beat it has learned nothing from X; its test MSE is
    about var(y), so 1 - MSE_model / MSE_baseline reads like R².

    Attributes after ``fit``: ``mean_``, ``n_features_in_``.
    """

    def fit(self, X, y):
        X, y = check_X_y(X, y)
        self.mean_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        check_fitted(self, "mean_")
        X = check_X_y(X, n_features=self.n_features_in_)
        return np.full(X.shape[0], self.mean_)

    def to_dict(self):
        check_fitted(self, "mean_")
        return {"n_features_in": self.n_features_in_, "mean": self.mean_}

    @classmethod
    def from_dict(cls, params):
        model = cls()
        model.mean_ = float(params["mean"])
        model.n_features_in_ = int(params["n_features_in"])
        return model
