"""The one list of models, models.yaml: every entry builds, fits, predicts and survives its own file.

scikit-learn's own checks of every class are in tests/test_estimator_checks.py; here, what the
pipeline relies on: the list is valid, settings come from params.yaml as the entry says, and a fitted
model rebuilt from what the fit stage writes (floats at 10 significant digits) predicts the same.
"""

import json

import numpy as np
import pytest

from stages.cli import UserError
from project.models import build_model, model_settings, parse_entry, read_models, setting_key
from project.params import read_params
from tests.conftest import ROOT
from tests.test_linear import boston_xy

ENTRIES = read_models(ROOT / "models.yaml")
FAST = {"net": {"steps": 200}}  # fewer steps: the contract, not the fit, is under test here


def params():
    return read_params(ROOT / "params.yaml", keys=["seed", "lr", "knn", "random_search", "gd", "net"])


def make(name, **settings):
    return build_model(ENTRIES[name], params(), **{**FAST.get(name, {}), **settings})


def plain(value):
    """True if ``value`` is made only of JSON's own Python types (no numpy scalars or arrays)."""
    if isinstance(value, dict):
        return all(type(key) is str and plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(plain(item) for item in value)
    return value is None or type(value) in (bool, int, float, str)


def rounded(value, digits=10):
    """What the stages' file writer does to a model dict: floats at 10 significant digits."""
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item, digits) for item in value]
    return float(f"{value:.{digits}g}") if type(value) is float else value


def test_the_list_names_the_tutorials_models_in_its_order():
    assert list(ENTRIES) == ["baseline", "least_squares", "knn", "random_search", "gd", "net"]
    assert ENTRIES["gd"].params == ("gd", "lr") and ENTRIES["baseline"].params == ("seed",)


def test_settings_come_from_the_section_the_top_level_key_and_the_seed():
    assert model_settings(ENTRIES["gd"], params()) == {"learning_rate": 0.01, "steps": params()["gd"]["steps"],
                                                       "standardize": True, "tol": params()["gd"]["tol"],
                                                       "seed": 42}
    assert model_settings(ENTRIES["knn"], params()) == {"k": 3}
    assert model_settings(ENTRIES["baseline"], params()) == {}
    assert setting_key(ENTRIES["gd"], params(), "learning_rate") == "lr"
    assert setting_key(ENTRIES["net"], params(), "learning_rate") == "net.learning_rate"
    assert setting_key(ENTRIES["knn"], params(), "learning_rate") is None


@pytest.mark.parametrize("name, entry, words", [
    ("Knn", {"class": "fromzero.neighbors:KNearestNeighbors", "params": ["knn"]}, "model name 'Knn' is not allowed"),
    ("a<b>", {"class": "x:Y", "params": ["seed"]}, "is not allowed"),
    ("knn", {"class": "fromzero.neighbors.KNearestNeighbors", "params": ["knn"]}, "must be module:Class"),
    ("knn", {"class": "fromzero.neighbors:KNearestNeighbors", "params": []}, "a list of one or two params.yaml keys"),
    ("knn", {"class": "fromzero.neighbors:KNearestNeighbors", "params": ["a", "b", "c"]}, "one or two"),
    ("knn", {"class": "fromzero.neighbors:KNearestNeighbors"}, "exactly the fields class and params"),
    ("knn", ["fromzero.neighbors:KNearestNeighbors"], "exactly the fields class and params"),
])
def test_a_bad_entry_is_one_line_naming_the_model_and_the_field(name, entry, words):
    with pytest.raises(UserError, match=None) as raised:
        parse_entry(name, entry)
    assert words in str(raised.value) and str(raised.value).startswith("models.yaml: ")


def test_a_class_that_does_not_import_or_a_setting_it_lacks_is_named():
    ghost = parse_entry("ghost", {"class": "fromzero.nowhere:Ghost", "params": ["seed"]})
    with pytest.raises(UserError, match="ghost: class 'fromzero.nowhere:Ghost' cannot be imported"):
        ghost.model_class
    knn = parse_entry("knn", {"class": "fromzero.neighbors:KNearestNeighbors", "params": ["knn", "lr"]})
    with pytest.raises(UserError, match="knn reads 'lr', but KNearestNeighbors takes no 'learning_rate'"):
        model_settings(knn, params())
    with pytest.raises(UserError, match=r"knn\.kk is not a setting of KNearestNeighbors"):
        model_settings(ENTRIES["knn"], {**params(), "knn": {"kk": 3}})


@pytest.mark.parametrize("d", [1, 2, 12])
@pytest.mark.parametrize("name", list(ENTRIES))
def test_fit_predict_and_the_file_round_trip(name, d):
    X, y, X_test, _ = boston_xy(d)
    model = make(name)
    assert model.fit(X, y) is model
    assert model.n_features_in_ == d
    predicted = model.predict(X_test)
    assert predicted.shape == (len(X_test),) and predicted.dtype == np.float64
    params_dict = model.to_dict()
    assert plain(params_dict), params_dict
    rebuilt = ENTRIES[name].model_class.from_dict(json.loads(json.dumps(params_dict)))
    assert type(rebuilt) is type(model)
    np.testing.assert_array_equal(rebuilt.predict(X_test), predicted)  # JSON keeps every bit of a float
    assert json.dumps(rebuilt.to_dict(), sort_keys=True) == json.dumps(params_dict, sort_keys=True)  # a fixed point
    # As the fit stage writes it: floats at 10 significant digits.
    rebuilt = ENTRIES[name].model_class.from_dict(json.loads(json.dumps(rounded(params_dict))))
    np.testing.assert_allclose(rebuilt.predict(X_test), predicted, rtol=1e-7)


@pytest.mark.parametrize("name", list(ENTRIES))
def test_a_one_dimensional_X_is_one_feature(name):
    X, y, X_test, _ = boston_xy(1)
    as_column = make(name).fit(X, y).predict(X_test)
    as_vector = make(name).fit(X[:, 0], y).predict(X_test[:, 0])
    np.testing.assert_array_equal(as_vector, as_column)
