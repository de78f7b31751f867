"""Tier 1: every model of models.yaml keeps the model contract (fromzero/base.py), and scikit-learn judges it.

The classes come from models.yaml, so a contributor's new model is held to all of this with no test
edited. The models do not inherit from scikit-learn (importing it costs about a second, and the
pipeline's loop imports the library on every run): ``fromzero.base.Estimator`` gives them the
contract; scikit-learn's own ``parametrize_with_checks`` says whether it holds. A model that declares
``abilities.poor_score`` (a yardstick, a blind search) is excused, as scikit-learn's DummyRegressor
is, from the "R² > 0.5 on its training data" part of one check.

Beyond scikit-learn's contract: what each ability promises, a declaration for every setting that
refuses what it should, a model file (.npz) that rebuilds the same predictions, and a cost that
names real settings.
"""

import inspect
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from fromzero.base import FIT_FACTS, Abilities, Cost, Estimator
from fromzero.errors import SettingError
from fromzero.settings import Either, Flag, OneOf, Real, Whole
from tests.conftest import ROOT

# Smaller settings where a model's defaults are slow, so that the checks (each fits a few times) stay fast.
FAST = {"steps": 200, "trials": 20}

# Checks that contradict a documented design choice, each with its reason. Nothing else may fail.
EXPECTED_FAILURES = {
    "check_fit1d": "a 1-D X is one feature (the tutorial's y = k·x + b), so fit accepts it instead of raising",
}


def model_classes():
    """The classes named in models.yaml, in its order."""
    from project.models import read_models

    return [entry.model_class for entry in read_models(ROOT / "models.yaml")]


def fast(cls):
    """The class with its slow settings (steps, trials) made small, where it has them."""
    return cls(**{name: value for name, value in FAST.items() if name in cls._param_names()})


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
    model = clone(getattr(sys.modules[module], name)())
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




# ---- what the contract adds to scikit-learn's ------------------------------------------------

@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_every_setting_is_keyword_only_with_a_default_and_a_declaration(cls):
    assert issubclass(cls, Estimator) and isinstance(cls.abilities, Abilities)
    names = cls._param_names()  # a TypeError unless every setting is keyword-only
    defaults = cls().get_params()  # every setting has a default
    assert set(cls.settings) == set(names) == set(defaults), "every setting declared, nothing else"
    assert cls().checked_settings() == defaults  # the defaults are allowed by their own declarations


def refused_values(setting):
    """Values a declaration must refuse (each a SettingError naming the setting)."""
    if isinstance(setting, Whole):
        return [setting.low - 1, 1.5, "3", True, None] + ([setting.high + 1] if setting.high is not None else [])
    if isinstance(setting, Real):
        return [float("nan"), float("inf"), "x", True] + ([setting.low] if setting.low is not None and
                                                         not setting.low_inclusive else [])
    if isinstance(setting, Flag):
        return [1, "yes", None]
    if isinstance(setting, OneOf):
        return ["", "not-an-option", 1]
    if isinstance(setting, Either):
        return [value for value in ["not-an-option", -1.5, None]
                if not any(_accepts(choice, value) for choice in setting.choices)]
    raise AssertionError(f"a declaration of an unknown kind: {setting!r}")


def _accepts(setting, value):
    try:
        setting.check("x", value)
    except SettingError:
        return False
    return True


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_fit_refuses_what_a_declaration_refuses_naming_the_setting(cls):
    X, y = np.linspace(0.0, 1.0, 12)[:, None], np.linspace(0.0, 2.0, 12)
    for name, setting in cls.settings.items():
        for value in refused_values(setting):
            with pytest.raises(SettingError) as raised:
                fast(cls).set_params(**{name: value}).fit(X, y)
            assert raised.value.setting == name and raised.value.advice in ("lower", "raise", "change")
            assert str(raised.value).startswith(f"{name} = ") and str(raised.value).endswith(f"{raised.value.advice} {name}")


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_each_ability_keeps_its_promise(cls):
    abilities, model = cls.abilities, fitted(cls)
    facts = model.fit_facts()
    assert set(facts) <= set(FIT_FACTS)
    if abilities.iteration:
        assert abilities.iteration in ("step", "trial")
        assert "progress" in inspect.signature(cls.fit).parameters
        seen = []
        fast(cls).fit(np.linspace(0, 1, 10), np.linspace(0, 2, 10), progress=lambda steps: seen.append(1) or steps)
        assert seen, "fit(progress=...) wraps its loop"
        assert model.loss_history_.ndim == 1 and np.all(np.isfinite(model.loss_history_))
        assert np.all(model.loss_history_ >= 0) and facts["n_iter"] == model.n_iter_ >= 1
    else:
        assert not hasattr(model, "loss_history_") and "n_iter" not in facts
    if abilities.converges:
        assert isinstance(model.converged_, bool) and facts["converged"] == model.converged_
    for name in abilities.diverges_with:
        assert name in cls.settings, f"diverges_with names {name!r}, which is no setting"
    if abilities.pieces:
        X = np.random.default_rng(2).normal(size=(7, 2))
        pieces = model.pieces(X)
        assert pieces.shape[0] == 7 and pieces.ndim == 2
        np.testing.assert_allclose(pieces.sum(axis=1) + model.b2_, model.predict(X))  # the pieces sum to it
        assert isinstance(model.piece_label(0), str) and np.all(np.isfinite(model.activation(np.linspace(-5, 5, 9))))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_the_cost_names_real_settings_and_grows_with_the_rows(cls):
    model = cls()
    small, large = model.cost(1_000, 3, 100), model.cost(1_000_000, 3, 100)
    if small is None:
        return
    assert isinstance(small, Cost) and small.bytes > 0 and small.seconds > 0
    assert large.bytes >= small.bytes and large.seconds > small.seconds
    for setting in (small.bytes_setting, small.seconds_setting):
        assert setting is None or setting in cls.settings


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_the_model_file_holds_exact_numbers_and_rebuilds_the_same_predictions(cls, tmp_path):
    """to_dict() -> .npz (as the pipeline stores it) -> from_dict() predicts the very same bytes, and nothing
    in the file needs pickle; the rebuilt model's to_dict is the same again (idempotent)."""
    from project.npz import read_npz, write_npz

    model = fitted(cls, d=3)
    queries = np.random.default_rng(1).normal(size=(20, 3))
    stored = cls.from_dict(model.to_dict())
    expected = model.predict(queries)  # the weights at 10 digits: predictions within ~1e-9 of their scale
    np.testing.assert_allclose(stored.predict(queries), expected, rtol=0, atol=1e-8 * np.abs(expected).max())
    with open(tmp_path / "model.npz", "wb") as handle:
        write_npz(handle, model.to_dict())
    assert dict(np.load(tmp_path / "model.npz", allow_pickle=False)).keys() == model.to_dict().keys()
    rebuilt = cls.from_dict(read_npz(tmp_path / "model.npz", 1 << 20))
    assert rebuilt.predict(queries).tobytes() == stored.predict(queries).tobytes()
    again = rebuilt.to_dict()
    assert again.keys() == model.to_dict().keys()
    assert all(np.array_equal(again[key], value) for key, value in model.to_dict().items())
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(queries), model.predict(queries))
    for bad in ({}, {"n_features_in": 3}, {**model.to_dict(), "n_features_in": -1}):
        with pytest.raises(ValueError):
            cls.from_dict(bad)
