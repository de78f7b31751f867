"""Tier 1: every model in the registry keeps the one model contract."""

import inspect
import json

import numpy as np
import pytest

from fromzero.registry import MODEL_NAMES, MODELS, ModelSpec, model_from_dict
from tests.test_linear import boston_xy

FAST = {"net": {"steps": 200}}  # fewer steps: the contract, not the fit, is under test here


def make(name, **settings):
    return MODELS[name].model_class(**{**FAST.get(name, {}), **settings})


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


def test_the_registry_lists_every_model_once_in_order():
    assert MODEL_NAMES == ("baseline", "least_squares", "knn", "random_search", "gd", "net")
    assert all(isinstance(spec, ModelSpec) and spec.name == name for name, spec in MODELS.items())
    colors = [spec.color for spec in MODELS.values()]
    assert len(set(color.lower() for color in colors)) == len(colors)
    assert all(len(color) == 7 and color.startswith("#") for color in colors)
    assert {name for name, spec in MODELS.items() if spec.reference} == {"baseline", "least_squares"}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_settings_are_keyword_only_and_only_stored(name):
    signature = inspect.signature(MODELS[name].model_class)
    assert all(parameter.kind is inspect.Parameter.KEYWORD_ONLY for parameter in signature.parameters.values())
    model = MODELS[name].model_class()
    assert not [attribute for attribute in vars(model) if attribute.endswith("_")]  # nothing fitted yet
    with pytest.raises(ValueError, match="not fitted"):
        model.predict(np.ones((2, 1)))


@pytest.mark.parametrize("d", [1, 2, 12])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fit_predict_and_the_dict_round_trip(name, d):
    X, y, X_test, _ = boston_xy(d)
    model = make(name)
    assert model.fit(X, y) is model
    assert model.n_features_in_ == d
    predicted = model.predict(X_test)
    assert predicted.shape == (len(X_test),) and predicted.dtype == np.float64
    with pytest.raises(ValueError):
        model.predict(np.ones((3, d + 1)))

    params = model.to_dict()
    assert plain(params), params
    assert params["n_features_in"] == d
    rebuilt = model_from_dict(name, json.loads(json.dumps(params)))
    assert type(rebuilt) is type(model)
    np.testing.assert_array_equal(rebuilt.predict(X_test), predicted)  # JSON keeps every bit of a float
    assert json.dumps(rebuilt.to_dict(), sort_keys=True) == json.dumps(params, sort_keys=True)  # a fixed point
    # As the stages write it: floats at 10 significant digits.
    rebuilt = model_from_dict(name, json.loads(json.dumps(rounded(params))))
    np.testing.assert_allclose(rebuilt.predict(X_test), predicted, rtol=1e-7)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_one_dimensional_X_is_one_feature(name):
    X, y, X_test, _ = boston_xy(1)
    as_column = make(name).fit(X, y).predict(X_test)
    as_vector = make(name).fit(X[:, 0], y).predict(X_test[:, 0])
    np.testing.assert_array_equal(as_vector, as_column)
