"""Tier 1: the plane's loss, its hand-derived partials, and least squares against its twins."""

import functools

import numpy as np
import pytest

from fromzero.least_squares import LeastSquares
from fromzero.linear import linear_loss_and_gradient, mean_squared_error, predict_linear
from tests.conftest import BOSTON_CSV

TWELVE = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "LSTAT"]
FEATURES = {1: ["RM"], 2: ["RM", "LSTAT"], 12: TWELVE}  # the tutorial's, docs/results.md's two, all but B


@functools.lru_cache(maxsize=None)
def boston_xy(d):
    """(X_train (n, d), y_train, X_test, y_test) for FEATURES[d], split as the load stage does."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(BOSTON_CSV, skiprows=1)
    train, test = train_test_split(np.arange(len(frame)), test_size=0.2, random_state=42)
    X, y = frame[FEATURES[d]].to_numpy(), frame["MEDV"].to_numpy()
    return X[train], y[train], X[test], y[test]


def lstsq(X, y):
    """(coef, intercept) by numpy.linalg.lstsq on [X, 1]: the oracle for every linear model."""
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    weights, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)
    return weights[:-1], weights[-1]


def central_differences(loss, w, h=1e-5):
    """dloss/dw_i ≈ (loss(w + h e_i) - loss(w - h e_i)) / 2h, exact for a quadratic up to rounding."""
    grad = np.empty_like(w)
    for i in range(w.size):
        step = np.zeros_like(w)
        step[i] = h * max(1.0, abs(w[i]))
        grad[i] = (loss(w + step) - loss(w - step)) / (2 * step[i])
    return grad


def test_mse_matches_the_tutorials_example_and_sklearn():
    from sklearn.metrics import mean_squared_error as sk_mse

    # The tutorial's example: [3, 6, 7] against [3, 4, 7] and [3, 6, 6].
    assert mean_squared_error([3, 6, 7], [3, 4, 7]) == pytest.approx(4 / 3)
    assert mean_squared_error([3, 6, 7], [3, 6, 6]) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=50), rng.normal(size=50)
    assert mean_squared_error(y, y_hat) == pytest.approx(sk_mse(y, y_hat), rel=1e-12)


@pytest.mark.parametrize("d", [1, 2, 12])
def test_least_squares_equals_sklearn_linear_regression(d):
    from sklearn.linear_model import LinearRegression

    X, y, X_test, _ = boston_xy(d)
    ours = LeastSquares().fit(X, y)
    theirs = LinearRegression().fit(X, y)
    assert ours.n_features_in_ == d and ours.coef_.shape == (d,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-9)
    np.testing.assert_allclose(ours.predict(X_test), theirs.predict(X_test), rtol=1e-9)


def test_least_squares_on_one_feature_is_the_tutorials_formula(line_data):
    x, y = line_data
    model = LeastSquares().fit(x, y)  # a 1-D x is one feature
    k = np.cov(x, y, bias=True)[0, 1] / x.var()
    assert model.coef_[0] == pytest.approx(k, rel=1e-10)
    assert model.intercept_ == pytest.approx(y.mean() - k * x.mean(), rel=1e-10)
    np.testing.assert_array_equal(model.predict(x), model.predict(x.reshape(-1, 1)))


@pytest.mark.parametrize("d", [1, 2, 12])
def test_partials_match_central_finite_differences(d):
    X, y, _, _ = boston_xy(d)
    rng = np.random.default_rng(d)
    for w in (np.zeros(d + 1), rng.normal(0.0, 3.0, d + 1), rng.uniform(-100, 100, d + 1)):
        loss, grad_coef, grad_b = linear_loss_and_gradient(w[:d], w[d], X, y)
        assert loss == pytest.approx(mean_squared_error(y, predict_linear(X, w[:d], w[d])), rel=1e-12)
        numeric = central_differences(lambda v: linear_loss_and_gradient(v[:d], v[d], X, y)[0], w)
        np.testing.assert_allclose(np.append(grad_coef, grad_b), numeric, rtol=1e-6, atol=1e-6)


def test_partials_on_a_hand_computed_case():
    # r = X @ [1, 2] + 1 - y = [1 + 2 + 1 - 4, 3 + 0 + 1 - 3] = [0, 1]
    loss, grad_coef, grad_b = linear_loss_and_gradient(np.array([1.0, 2.0]), 1.0,
                                                       np.array([[1.0, 1.0], [3.0, 0.0]]), np.array([4.0, 3.0]))
    assert loss == 0.5  # mean(r²)
    np.testing.assert_array_equal(grad_coef, [3.0, 0.0])  # 2/n·Xᵀr = [1·0 + 3·1, 1·0 + 0·1]
    assert grad_b == 1.0  # 2/n·Σr


def test_collinear_columns_still_give_the_least_squares_predictions():
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    X = np.column_stack([x, 2 * x, np.full(50, 4.0)])  # a doubled column and a constant one
    y = 3 * x + rng.normal(size=50)
    line = LeastSquares().fit(x, y)
    np.testing.assert_allclose(LeastSquares().fit(X, y).predict(X), line.predict(x), rtol=1e-9)


def test_least_squares_rejects_bad_input_and_unfitted_predict():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        LeastSquares().predict([1.0])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LeastSquares().fit([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[3, 2\]"):
        LeastSquares().fit(np.ones((3, 2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="Complex data not supported"):  # it used to fit the real part
        LeastSquares().fit([[1 + 2j, 2.0], [3.0, 4.0], [5.0, 7.0]], [1.0, 2.0, 3.0])
    model = LeastSquares().fit(np.arange(8.0).reshape(4, 2), np.arange(4.0))
    with pytest.raises(ValueError, match="X has 3 features, but LeastSquares is expecting 2 features as input"):
        model.predict(np.ones((3, 3)))


@pytest.mark.parametrize("bad, match", [
    ({"n_features_in": 2, "coef": [1.0], "intercept": 0.0}, "'coef' must be 1-D with 2 values"),
    ({"n_features_in": 1, "coef": [float("nan")], "intercept": 0.0}, "NaN or infinite"),
    ({"n_features_in": 1, "coef": [1.0]}, "missing 'intercept'"),
    ({"n_features_in": 0, "coef": [], "intercept": 0.0}, "n_features_in"),
    ({"n_features_in": 1, "coef": [[1.0]], "intercept": 0.0}, "'coef' must be 1-D"),
])
def test_from_dict_refuses_a_malformed_dict(bad, match):
    with pytest.raises(ValueError, match=match):
        LeastSquares.from_dict(bad)


@pytest.mark.parametrize("scale, shift", [(1e12, 0.0), (1e-13, 0.0), (1.0, 1e8), (1e99, 0.0)])
def test_least_squares_is_right_at_any_scale_or_offset_of_a_feature(boston_split, scale, shift):
    # lstsq's singular-value cut-off is relative: an unscaled column far from the intercept's was cut.
    x, y, _, _ = boston_split
    reference = LeastSquares().fit(x, y)
    moved = LeastSquares().fit(x * scale + shift, y)
    assert moved.coef_[0] * scale == pytest.approx(reference.coef_[0], rel=1e-6)
    assert moved.predict(x * scale + shift) == pytest.approx(reference.predict(x), rel=1e-5)  # 1e8: ~8 digits lost
