"""Tier 1: the yardstick predicts the training mean, as scikit-learn's DummyRegressor."""

import numpy as np
import pytest

from fromzero.baseline import MeanBaseline
from tests.test_linear import boston_xy


@pytest.mark.parametrize("d", [1, 2, 12])
def test_baseline_equals_sklearn_dummy_regressor(d):
    from sklearn.dummy import DummyRegressor

    X, y, X_test, _ = boston_xy(d)
    ours = MeanBaseline().fit(X, y)
    assert ours.n_features_in_ == d
    np.testing.assert_allclose(ours.predict(X_test), DummyRegressor().fit(X, y).predict(X_test), rtol=1e-12)


def test_baseline_on_a_hand_computed_case():
    model = MeanBaseline().fit([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]], [1.0, 2.0, 6.0])
    np.testing.assert_array_equal(model.predict(np.zeros((2, 2))), [3.0, 3.0])
    assert model.to_dict() == {"n_features_in": 2, "mean": 3.0}


def test_baseline_checks_its_input():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        MeanBaseline().predict([1.0])
    model = MeanBaseline().fit([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="X has 2 features, but MeanBaseline is expecting 1 features as input"):
        model.predict(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict([np.nan])


@pytest.mark.parametrize("bad", [{"n_features_in": 1}, {"n_features_in": 1, "mean": float("inf")},
                                 {"n_features_in": 0, "mean": 1.0}, {"mean": 1.0}, {"n_features_in": 1, "mean": [1.0]}])
def test_from_dict_refuses_a_malformed_dict(bad):
    with pytest.raises(ValueError):
        MeanBaseline.from_dict(bad)
