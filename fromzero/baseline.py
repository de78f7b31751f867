"""The yardstick: ignore the inputs and predict the training mean."""

import numpy as np

from fromzero.base import Abilities, Estimator
from fromzero.validation import check_fitted, check_X_y, params_array, params_int, portable


class MeanBaseline(Estimator):
    """Predicts mean(y) for every row: the best constant under squared error.

    A model that cannot beat it has learned nothing from X; its test MSE is
    about var(y), so 1 - MSE_model / MSE_baseline reads like R².

    Attributes after ``fit``: ``mean_``, ``n_features_in_``.
    """

    abilities = Abilities(poor_score=True)  # its R² on the training data is 0 by construction

    def fit(self, X, y):
        X, y = check_X_y(X, y, estimator=self)
        self.mean_ = float(y.mean())
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """X (n, d) -> (n,), every value the training mean."""
        return np.full(self._check_predict_input(X).shape[0], self.mean_)

    def to_dict(self):
        check_fitted(self)
        return {"n_features_in": self.n_features_in_, "mean": portable(self.mean_)}

    @classmethod
    def from_dict(cls, params):
        """A fitted baseline from what ``to_dict()`` wrote; ValueError if malformed."""
        model = cls()
        model.mean_ = float(params_array(cls.__name__, params, "mean", ndim=0))
        model.n_features_in_ = params_int(cls.__name__, params, "n_features_in", 1)
        return model
