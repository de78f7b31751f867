"""Tier 1: every model in models.yaml is a scikit-learn estimator, natively, and scikit-learn judges it.

The models do not inherit from scikit-learn: importing it costs about a second and the
pipeline's loop imports the library on every run. ``fromzero.base.Estimator`` gives them the
contract; scikit-learn's own ``parametrize_with_checks`` says whether it holds.

Two models declare scikit-learn's ``poor_score`` tag, as its DummyRegressor does, so the
"R² > 0.5 on the training data" part of check_regressors_train is skipped for them while
the rest of that check runs: MeanBaseline (R² 0 by construction) and RandomSearchLinear
(blind integer guesses). The reason sits beside the tag in each class.
"""

import importlib
import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import yaml
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from tests.conftest import ROOT

# Small settings, so that the checks (each fits a few times) stay in the default tier.
FAST = {"SigmoidNet": {"steps": 200}, "RandomSearchLinear": {"trials": 20}}

# Checks that contradict a documented design choice, each with its reason. Nothing else may fail.
EXPECTED_FAILURES = {
    "check_fit1d": "a 1-D X is one feature (the tutorial's y = k·x + b), so fit accepts it instead of raising",
}


def model_classes():
    """The classes named in models.yaml, in its order."""
    with open(ROOT / "models.yaml", encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)["models"]
    classes = []
    for entry in entries.values():
        module, _, name = entry["class"].partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes


def fast(cls):
    return cls(**FAST.get(cls.__name__, {}))


MODELS = model_classes()

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # "does not inherit from BaseEstimator": by design
    sklearn_checks = parametrize_with_checks([fast(cls) for cls in MODELS], xfail_strict=True,
                                             expected_failed_checks=lambda _: EXPECTED_FAILURES)


@sklearn_checks
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_importing_and_using_the_library_loads_neither_sklearn_nor_scipy():
    """Importing scikit-learn costs ~1 s here: only the rare paths (predict before fit, tags) may."""
    modules = sorted(f"fromzero.{path.stem}" for path in (ROOT / "fromzero").glob("*.py") if path.stem != "__init__")
    code = f"""
import sys
import numpy as np
import {', '.join(modules)}
from fromzero.base import clone
assert not {{'sklearn', 'scipy'}} & set(sys.modules), "imported"
x = np.linspace(0.0, 1.0, 20)
for cls in {[f"{cls.__module__}.{cls.__name__}" for cls in MODELS]}:
    module, _, name = cls.rpartition('.')
    model = clone(getattr(sys.modules[module], name)().set_params())
    model.fit(x, 2 * x).predict(x)
    type(model).from_dict(model.to_dict()).score(x, 2 * x)
    repr(model), model.get_params()
loaded = sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ---- the contract, one row per class of bad input, every model ------------------------------

def fitted(cls, d=2):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, d)).round(3)  # data of a few digits, as a CSV holds it
    return fast(cls).fit(X, (X.sum(axis=1) + rng.normal(scale=0.1, size=30)).round(3))


BAD_INPUT = [  # (what, call(model_class), exception, message with {name} for the class's name)
    ("predict before fit", lambda cls: cls().predict(np.ones((3, 2))), NotFittedError,
     "This {name} instance is not fitted yet. Call 'fit'"),
    ("to_dict before fit", lambda cls: cls().to_dict(), NotFittedError, "This {name} instance is not fitted yet"),
    ("fewer features", lambda cls: fitted(cls).predict(np.ones((3, 1))), ValueError,
     "X has 1 features, but {name} is expecting 2 features as input."),
    ("a 1-D X for a 2-feature model", lambda cls: fitted(cls).predict(np.ones(2)), ValueError,
     "X has 1 features, but {name} is expecting 2 features as input. A 1-D X is one feature. Reshape your data"),
    ("y None", lambda cls: cls().fit(np.ones((3, 2)), None), ValueError,
     "{name} requires y to be passed, but the target y is None"),
    ("no rows", lambda cls: cls().fit(np.ones((0, 2)), []), ValueError,
     r"Found array with 0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 1 is required by {name}."),
    ("no columns", lambda cls: cls().fit(np.ones((3, 0)), [1.0, 2.0, 3.0]), ValueError,
     r"Found array with 0 feature\(s\) \(shape=\(3, 0\)\) while a minimum of 1 is required by {name}."),
    ("complex X", lambda cls: cls().fit([[1 + 2j, 2.0], [3.0, 4.0], [5.0, 7.0]], [1.0, 2.0, 3.0]), ValueError,
     "Complex data not supported"),
    ("complex y", lambda cls: cls().fit(np.ones((3, 1)), [1j, 2.0, 3.0]), ValueError, "Complex data not supported"),
    ("NaN in X", lambda cls: cls().fit([[np.nan], [1.0], [2.0]], [1.0, 2.0, 3.0]), ValueError,
     r"Input X contains NaN."),
    ("inf in X at predict", lambda cls: fitted(cls).predict([[np.inf, 1.0]]), ValueError,
     r"Input X contains infinity or a value too large for dtype\('float64'\)."),
    ("NaN in y", lambda cls: cls().fit(np.ones((3, 1)), [1.0, np.nan, 3.0]), ValueError, r"Input y contains NaN."),
    ("y too short", lambda cls: cls().fit(np.ones((3, 1)), [1.0, 2.0]), ValueError,
     r"Found input variables with inconsistent numbers of samples: \[3, 2\]"),
    ("y 2-D", lambda cls: cls().fit(np.ones((3, 1)), np.ones((3, 2))), ValueError,
     r"y should be a 1d array, got an array of shape \(3, 2\) instead."),
    ("X 3-D", lambda cls: cls().fit(np.ones((3, 1, 1)), np.ones(3)), ValueError,
     "Found array with dim 3, while dim <= 2 is required by {name}."),
    ("strings", lambda cls: cls().fit([["a"], ["b"]], [1.0, 2.0]), ValueError,
     "dtype='numeric' is not compatible with arrays of bytes/strings"),
    ("a bad setting", lambda cls: cls().set_params(foo=1), ValueError, "Invalid parameter 'foo' for estimator"),
]


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("what, call, error, message", BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input_gets_sklearns_exception_and_message(cls, what, call, error, message):
    with pytest.raises(error, match=message.format(name=cls.__name__)):
        call(cls)


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_sparse_input_is_refused_without_importing_scipy_for_it(cls):
    from scipy import sparse

    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data is required"):
        cls().fit(sparse.csr_array(np.eye(3)), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        fitted(cls, d=3).predict(sparse.csr_matrix(np.eye(3)))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_settings_clone_and_repr(cls):
    model = cls()
    params = model.get_params()
    assert params == clone(model).get_params() and vars(model) == params  # the constructor only stores
    assert repr(model) == f"{cls.__name__}()"
    if params:
        name = sorted(params)[0]
        changed = model.set_params(**{name: "anything"})  # stored as given; fit would check it
        assert changed is model and repr(model) == f"{cls.__name__}({name}='anything')"


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_the_model_file_is_json_and_rebuilds_the_model(cls):
    """to_dict is plain JSON; written at 10 significant digits (as the stages do) it predicts the same."""
    model = fitted(cls, d=3)
    queries = np.random.default_rng(1).normal(size=(20, 3))
    text = json.dumps(model.to_dict())
    rounded = json.loads(text, parse_float=lambda value: float(f"{float(value):.10g}"))
    np.testing.assert_array_equal(cls.from_dict(json.loads(text)).predict(queries), model.predict(queries))
    expected = model.predict(queries)
    np.testing.assert_allclose(cls.from_dict(rounded).predict(queries), expected, rtol=0,
                               atol=1e-8 * np.abs(expected).max())
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(queries), model.predict(queries))
    for bad in ({}, {"n_features_in": 3}, {**model.to_dict(), "n_features_in": -1}):
        with pytest.raises(ValueError):
            cls.from_dict(bad)


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_iterative_models_name_their_loss_curve(cls):
    """What a generic stage reads: iteration_name, and for iterative models loss_history_ and n_iter_."""
    model = fitted(cls)
    if cls.iteration_name is None:
        assert not hasattr(model, "loss_history_")
        return
    assert cls.iteration_name in ("step", "trial")
    assert model.n_iter_ >= 1 and model.loss_history_.ndim == 1 and np.all(np.isfinite(model.loss_history_))
