"""Tier 1: scores against scikit-learn's, and bootstrap intervals that behave."""

import tracemalloc

import numpy as np
import pytest

from fromzero.least_squares import LeastSquares
from fromzero.metrics import bootstrap_mse_interval, paired_bootstrap_difference, regression_scores
from fromzero.neighbors import KNearestNeighbors
from tests.test_linear import boston_xy


def test_scores_equal_sklearns():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=40), rng.normal(size=40)
    scores = regression_scores(y, y_hat)
    assert set(scores) == {"mse", "rmse", "mae", "r2"}
    assert scores["mse"] == pytest.approx(metrics.mean_squared_error(y, y_hat), rel=1e-12)
    assert scores["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, y_hat)), rel=1e-12)
    assert scores["mae"] == pytest.approx(metrics.mean_absolute_error(y, y_hat), rel=1e-12)
    assert scores["r2"] == pytest.approx(metrics.r2_score(y, y_hat), rel=1e-12)
    assert all(type(value) is float for value in scores.values())


def test_r2_is_none_where_undefined():
    assert regression_scores([3.0], [2.0]) == {"mse": 1.0, "rmse": 1.0, "mae": 1.0, "r2": None}
    assert regression_scores([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])["r2"] is None
    assert regression_scores([1.0, 3.0], [1.0, 3.0])["r2"] == 1.0


@pytest.fixture(scope="module")
def test_predictions():
    """(y_test, least squares' and KNN's predictions) on RM + LSTAT: a real pair to compare."""
    X, y, X_test, y_test = boston_xy(2)
    return y_test, LeastSquares().fit(X, y).predict(X_test), KNearestNeighbors(k=3).fit(X, y).predict(X_test)


def test_bootstrap_interval_contains_the_point_estimate_and_is_seeded(test_predictions):
    y, y_ls, y_knn = test_predictions
    for y_hat in (y_ls, y_knn):
        mse = regression_scores(y, y_hat)["mse"]
        low, high = bootstrap_mse_interval(y, y_hat, resamples=2000, seed=0)
        assert low < mse < high
        assert (low, high) == bootstrap_mse_interval(y, y_hat, resamples=2000, seed=0)
        assert (low, high) != bootstrap_mse_interval(y, y_hat, resamples=2000, seed=1)
        narrow = bootstrap_mse_interval(y, y_hat, resamples=2000, seed=0, confidence=0.5)
        assert low < narrow[0] < narrow[1] < high


def test_bootstrap_interval_matches_a_direct_resampling():
    rng = np.random.default_rng(5)
    y, y_hat = rng.normal(size=30), rng.normal(size=30)
    rows = np.random.default_rng(9).integers(0, 30, size=(500, 30))
    means = ((y_hat - y) ** 2)[rows].mean(axis=1)
    low, high = bootstrap_mse_interval(y, y_hat, resamples=500, seed=9, confidence=0.9)
    assert (low, high) == pytest.approx(tuple(np.quantile(means, [0.05, 0.95])), rel=1e-12)


def test_paired_difference(test_predictions):
    y, y_ls, y_knn = test_predictions
    difference, low, high = paired_bootstrap_difference(y, y_knn, y_ls, resamples=2000, seed=0)
    assert difference == pytest.approx(regression_scores(y, y_knn)["mse"] - regression_scores(y, y_ls)["mse"])
    assert low < difference < high
    # Resampling the rows jointly: the interval of the difference is narrower than the two MSEs' spreads.
    ls_low, ls_high = bootstrap_mse_interval(y, y_ls, resamples=2000, seed=0)
    assert high - low < ls_high - ls_low
    assert paired_bootstrap_difference(y, y_ls, y_ls, resamples=100, seed=0) == (0.0, 0.0, 0.0)
    swapped = paired_bootstrap_difference(y, y_ls, y_knn, resamples=2000, seed=0)
    assert swapped == pytest.approx((-difference, -high, -low))


def test_bootstrap_memory_is_bounded_at_a_million_rows():
    rng = np.random.default_rng(0)
    y = rng.normal(size=1_000_000)
    y_hat = y + rng.normal(size=1_000_000)
    tracemalloc.start()
    low, high = bootstrap_mse_interval(y, y_hat, resamples=20, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert low < regression_scores(y, y_hat)["mse"] < high
    assert peak < 100 * 2**20  # 20 x 10^6 resampled rows at once would be 160 MB of indices alone


@pytest.mark.parametrize("call", [
    lambda: bootstrap_mse_interval([1.0, 2.0], [1.0], resamples=10, seed=0),
    lambda: bootstrap_mse_interval([1.0, np.nan], [1.0, 2.0], resamples=10, seed=0),
    lambda: bootstrap_mse_interval([1.0, 2.0], [1.0, 2.0], resamples=0, seed=0),
    lambda: bootstrap_mse_interval([1.0, 2.0], [1.0, 2.0], resamples=10, seed=0, confidence=1.0),
    lambda: paired_bootstrap_difference([1.0, 2.0], [1.0, 2.0], [1.0], resamples=10, seed=0),
    lambda: regression_scores([], []),
])
def test_bad_input_is_a_value_error(call):
    with pytest.raises(ValueError):
        call()
