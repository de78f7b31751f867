"""The estimator contract every model shares: scikit-learn's, without importing scikit-learn.

A model's settings are its constructor's keyword arguments, stored as given
(``__init__`` does nothing else) and checked in ``fit``. From them this base
class gives ``get_params`` / ``set_params`` (so ``sklearn.base.clone``,
pipelines and searches work), a ``repr`` of the changed settings, ``score``
(R²) and scikit-learn's estimator tags. scikit-learn itself is imported only in
``__sklearn_tags__``, which only scikit-learn calls.

A subclass implements ``fit(X, y)`` (ending with ``n_features_in_``: the model
is fitted once it is set), ``predict(X)``, ``to_dict()`` and ``from_dict()``.
"""

import copy
import inspect

import numpy as np

from fromzero.validation import check_fitted, check_X, check_y


class Estimator:
    # A regressor that, by design, may not reach R² > 0.5 on its own training data (a yardstick,
    # a blind search): scikit-learn's `poor_score` tag, as its DummyRegressor sets it.
    poor_score = False
    # What one entry of ``loss_history_`` is, for iterative models: "step", "trial"; None otherwise.
    iteration_name = None

    @classmethod
    def _param_names(cls):
        if cls.__init__ is object.__init__:
            return []
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
        if any(p.kind != p.KEYWORD_ONLY for p in parameters):
            raise TypeError(f"{cls.__name__}.__init__ must take keyword-only settings, not {parameters}")
        return sorted(p.name for p in parameters)

    def get_params(self, deep=True):
        """The settings, {name: value}, as passed to the constructor (no nested estimators here)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Change settings (checked at the next ``fit``); returns self."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                 f"Valid parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        init = inspect.signature(type(self).__init__).parameters
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if repr(value) != repr(init[name].default)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    regressor_tags=RegressorTags(poor_score=self.poor_score), input_tags=InputTags())

    def __sklearn_is_fitted__(self):
        return hasattr(self, "n_features_in_")

    def score(self, X, y, sample_weight=None):
        """R² of ``predict(X)`` against y (n,): 1 - Σw(y - ŷ)² / Σw(y - ȳ)², as scikit-learn's r2_score.

        A constant y scores 1.0 if predicted exactly, else 0.0.
        """
        y_hat = self.predict(X)
        y = check_y(y, len(y_hat), estimator=self)
        w = np.ones_like(y) if sample_weight is None else check_y(sample_weight, len(y), estimator=self)
        residual, centred = y - y_hat, y - np.average(y, weights=w)
        ss_res, ss_tot = float(w @ (residual * residual)), float(w @ (centred * centred))
        if ss_tot == 0.0:
            return 1.0 if ss_res == 0.0 else 0.0
        return 1.0 - ss_res / ss_tot

    def _check_predict_input(self, X):
        """X for ``predict``: the model fitted, X finite and as wide as the training data."""
        check_fitted(self)
        return check_X(X, estimator=self, n_features=self.n_features_in_)


def clone(estimator):
    """A new unfitted estimator with the same settings (scikit-learn's ``clone``, for our models)."""
    return type(estimator)(**copy.deepcopy(estimator.get_params(deep=False)))
