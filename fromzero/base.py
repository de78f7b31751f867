"""The contract every model keeps: scikit-learn's estimator, plus what it declares it can do.

A model is one class deriving from ``Estimator``. It must have:

- keyword-only constructor arguments, its *settings*, stored as given (``__init__`` does nothing
  else), each declared in ``settings`` with the values it may take (``fromzero.settings``):
  ``fit`` checks them, and the pipeline checks params.yaml against the same declarations;
- ``fit(X, y)`` -> self: X (n, d), y (n,); it ends by setting ``n_features_in_``;
- ``predict(X)`` -> (n,): finite numbers, and never changes the model;
- ``to_dict()`` -> {name: number or numpy array}: its fitted parameters, enough to predict, and
  ``from_dict(params)`` (a classmethod) that rebuilds it from such a mapping. The pipeline stores
  them as a .npz file (binary, exact, never pickled).

What a model may do beyond that is declared in ``abilities`` (an ``Abilities``), never guessed
from its attributes; each ability names what the class then provides. ``cost()``, if the class
overrides it, says what a fit would need, so the pipeline can refuse settings the machine cannot
afford before it starts. A setting that does not suit the data is a ``SettingError`` (see
``fromzero.errors``): the setting, its value, the problem and the advice, as fields.

scikit-learn itself is imported only in ``__sklearn_tags__``, which only scikit-learn calls.
"""

import copy
import inspect
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fromzero.validation import check_fitted, check_X, check_y

# What ``fit_facts()`` may report, and what each means (the pipeline writes them to metrics/fit.json).
FIT_FACTS = {
    "n_iter": "iterations run (steps or trials)",
    "converged": "whether the fit stopped on its tolerance rather than its cap",
    "steps_needed": "about how many steps in all would reach the tolerance (an unconverged fit)",
    "best_trial": "the 0-based trial whose guess won (a search)",
}


@dataclass(frozen=True)
class Abilities:
    """What a model's class can do beyond fit and predict; the pipeline asks this and nothing else.

    iteration      "step" or "trial" for a model fitted by a loop: ``fit`` takes ``progress`` (a wrapper
                   of its loop, e.g. a tqdm bar: ``fit(X, y, progress=None)``) and sets
                   ``loss_history_`` (the training loss at each iteration) and ``n_iter_``.
    converges      the loop stops on a tolerance: ``fit`` sets ``converged_`` and ``steps_needed_``
                   (None, or about how many steps in all would converge).
    diverges_with  settings that make the fit diverge (``DivergenceError``): the first is its rate, the
                   one to lower; the others change how stable it is, and are named beside it when changed.
    pieces         the model is a sum of simple pieces: ``pieces(X)`` (n, units), ``piece_label(j)``
                   and ``activation(z)``; the pipeline draws them.
    poor_score     by design it may not fit its training data well (a yardstick, a blind search):
                   scikit-learn's ``poor_score`` tag.
    """

    iteration: str | None = None
    converges: bool = False
    diverges_with: tuple = ()
    pieces: bool = False
    poor_score: bool = False


class Cost(NamedTuple):
    """What one fit on (n_samples, n_features), then predicting n_predictions rows, needs (``Estimator.cost``).

    ``bytes``: its peak memory; ``seconds``: its time on one core here. ``bytes_setting`` and
    ``seconds_setting``: the setting that sizes each (the one to lower), or None if no setting does.
    """

    bytes: float
    seconds: float
    bytes_setting: str | None = None
    seconds_setting: str | None = None


class Estimator:
    abilities = Abilities()
    settings = {}  # {constructor argument: fromzero.settings.Setting}

    @classmethod
    def _param_names(cls):
        if cls.__init__ is object.__init__:
            return []
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
        if any(p.kind != p.KEYWORD_ONLY for p in parameters):
            raise TypeError(f"{cls.__name__}.__init__ must take keyword-only settings (write `def __init__(self, "
                            f"*, ...)`), not {[p.name for p in parameters]}")
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

    def checked_settings(self):
        """{name: value} of every setting, each checked against its declaration in ``settings``.

        ``fit`` calls this first. A value outside what is declared is a SettingError.
        """
        return {name: self.settings[name].check(name, value) if name in self.settings else value
                for name, value in self.get_params().items()}

    def fit_facts(self):
        """What the fit says about itself, {key of FIT_FACTS: number or bool}, from what ``abilities`` declares."""
        facts = {}
        if self.abilities.iteration:
            facts["n_iter"] = int(self.n_iter_)
        if self.abilities.converges:
            facts["converged"] = bool(self.converged_)
            if self.steps_needed_ is not None:
                facts["steps_needed"] = int(self.steps_needed_)
        return facts

    def cost(self, n_samples, n_features, n_predictions=0):
        """A ``Cost``, or None: no estimate (the pipeline then sets no bound on the settings)."""
        return None

    def __repr__(self):
        init = inspect.signature(type(self).__init__).parameters
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if repr(value) != repr(init[name].default)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    regressor_tags=RegressorTags(poor_score=self.abilities.poor_score), input_tags=InputTags())

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


def pieces_along(model, X, points=200):
    """A model with ``abilities.pieces``, seen along one feature: (j, grid (points,), pieces (points, units),
    total (points,)).

    The feature j is the one along which the pieces vary most, the others held at their median over X
    (n, d); with one feature that is the feature itself. ``total`` is ``model.predict``: the pieces' sum
    plus the model's constant.
    """
    median = np.median(X, axis=0)

    def along(j, grid):
        rows = np.tile(median, (len(grid), 1))
        rows[:, j] = grid
        return rows

    grids = [np.linspace(X[:, j].min(), X[:, j].max(), points) for j in range(X.shape[1])]
    pieces = [model.pieces(along(j, grid)) for j, grid in enumerate(grids)]
    j = int(np.argmax([np.ptp(each, axis=0).sum() for each in pieces]))
    return j, grids[j], pieces[j], model.predict(along(j, grids[j]))


def clone(estimator):
    """A new unfitted estimator with the same settings (scikit-learn's ``clone``, for our models)."""
    return type(estimator)(**copy.deepcopy(estimator.get_params(deep=False)))
