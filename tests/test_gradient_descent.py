"""Tier 1: gradient descent on the plane reaches least squares; its partials; its divergence limit."""

import numpy as np
import pytest

from fromzero.errors import DivergenceError
from fromzero.gradient_descent import (GradientDescentLinear, largest_stable_learning_rate, moment_loss_and_gradient,
                                       moments)
from fromzero.linear import linear_loss_and_gradient, mean_squared_error
from tests.test_linear import boston_xy, central_differences, lstsq


def standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.mark.parametrize("d", [1, 2, 12])
def test_standardized_descent_converges_to_lstsq(d):
    X, y, _, _ = boston_xy(d)
    rate = 0.9 * largest_stable_learning_rate(standardised(X))
    model = GradientDescentLinear(learning_rate=rate, steps=100_000, standardize=True, seed=42).fit(X, y)
    coef, intercept = lstsq(X, y)
    assert model.converged_ and model.n_steps_ < 5000
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-6)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-6)


@pytest.mark.parametrize("d", [1, 2, 12])
def test_default_steps_and_rate_reach_least_squares_within_one_percent(d):
    X, y, X_test, y_test = boston_xy(d)
    model = GradientDescentLinear(seed=42).fit(X, y)  # lr 0.01, 2000 steps, standardised: the params' defaults
    coef, intercept = lstsq(X, y)
    for X_, y_ in ((X, y), (X_test, y_test)):
        assert mean_squared_error(y_, model.predict(X_)) <= 1.01 * mean_squared_error(y_, X_ @ coef + intercept)
    assert model.loss_history_[-1] == pytest.approx(mean_squared_error(y, model.predict(X)), rel=1e-9)


@pytest.mark.parametrize("d", [1, 2, 12])
@pytest.mark.parametrize("standardize", [False, True])
def test_the_moment_form_gives_the_tutorials_partials(d, standardize):
    X, y, _, _ = boston_xy(d)
    Z = standardised(X) if standardize else X
    data = moments(Z, y)
    rng = np.random.default_rng(d)
    for w in (np.zeros(d + 1), rng.normal(0.0, 3.0, d + 1), rng.uniform(-100, 100, d + 1)):
        loss, grad_coef, grad_b = moment_loss_and_gradient(w[:d], w[d], data)
        expected_loss, expected_coef, expected_b = linear_loss_and_gradient(w[:d], w[d], Z, y)
        assert loss == pytest.approx(expected_loss, rel=1e-10)
        np.testing.assert_allclose(grad_coef, expected_coef, rtol=1e-9, atol=1e-9 * np.abs(expected_coef).max())
        assert grad_b == pytest.approx(expected_b, rel=1e-9, abs=1e-9)
        numeric = central_differences(lambda v: moment_loss_and_gradient(v[:d], v[d], data)[0], w)
        np.testing.assert_allclose(np.append(grad_coef, grad_b), numeric, rtol=1e-6, atol=1e-6)


def test_raw_descent_at_the_tutorials_rate_has_not_converged_after_2000_steps():
    # The tutorial's own run: the loss falls but k and b are still far from the optimum.
    X, y, _, _ = boston_xy(1)
    model = GradientDescentLinear(learning_rate=0.01, steps=2000, standardize=False, seed=42).fit(X, y)
    coef, _ = lstsq(X, y)
    assert not model.converged_
    assert model.n_steps_ == 2000
    assert np.all(np.diff(model.loss_history_) <= 1e-9 * model.loss_history_[:-1])
    assert abs(model.coef_[0] - coef[0]) > 0.1 * abs(coef[0])


def test_descent_stops_early_once_converged(line_data):
    x, y = line_data
    model = GradientDescentLinear(learning_rate=0.1, steps=100_000, standardize=True).fit(x, y)
    assert model.converged_
    assert model.n_steps_ < 1000
    assert len(model.loss_history_) == model.n_steps_ + 1


def test_same_seed_same_descent_and_seed_changes_the_start():
    X, y, _, _ = boston_xy(12)
    first = GradientDescentLinear(steps=50, seed=3).fit(X, y)
    again = GradientDescentLinear(steps=50, seed=3).fit(X, y)
    other = GradientDescentLinear(steps=50, seed=4).fit(X, y)
    np.testing.assert_array_equal(first.loss_history_, again.loss_history_)
    assert first.loss_history_[0] != other.loss_history_[0]


def test_a_constant_column_does_not_stop_standardised_descent():
    X, y, _, _ = boston_xy(2)
    X = np.column_stack([X, np.full(len(y), 3.0)])
    model = GradientDescentLinear(learning_rate=0.5, steps=10_000, seed=0).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.predict(X), X[:, :2] @ lstsq(X[:, :2], y)[0] + lstsq(X[:, :2], y)[1],
                               rtol=1e-6)


@pytest.mark.parametrize("learning_rate, standardize", [(1.5, True), (0.1, False), (1e6, True)])
def test_too_large_a_rate_raises_divergence_with_its_step(line_data, learning_rate, standardize):
    x, y = line_data
    with pytest.raises(DivergenceError) as caught:
        GradientDescentLinear(learning_rate=learning_rate, steps=5000, standardize=standardize).fit(x, y)
    assert caught.value.step >= 1
    assert caught.value.reason in ("grew", "became non-finite")


@pytest.mark.parametrize("d", [1, 12])
@pytest.mark.parametrize("standardize", [False, True])
def test_the_stable_rate_limit_separates_converging_from_diverging(d, standardize):
    X, y, _, _ = boston_xy(d)
    limit = largest_stable_learning_rate(standardised(X) if standardize else X)
    GradientDescentLinear(learning_rate=0.98 * limit, steps=3000, standardize=standardize).fit(X, y)
    with pytest.raises(DivergenceError) as caught:
        GradientDescentLinear(learning_rate=1.02 * limit, steps=3000, standardize=standardize).fit(X, y)
    assert caught.value.stable_below == pytest.approx(limit, rel=1e-9)
    if standardize and d == 1:
        assert limit == pytest.approx(1.0)  # both curvatures of the standardised loss are 2


def test_stable_rate_is_two_over_the_largest_hessian_eigenvalue():
    X, _, _, _ = boston_xy(2)
    design = np.column_stack([X, np.ones(len(X))])
    largest = np.linalg.eigvalsh(2.0 / len(X) * design.T @ design)[-1]
    assert largest_stable_learning_rate(X) == pytest.approx(2.0 / largest, rel=1e-9)


@pytest.mark.parametrize("kwargs, match", [({"learning_rate": 0}, "learning_rate"), ({"steps": 0}, "steps")])
def test_invalid_settings_raise_value_error(line_data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GradientDescentLinear(**kwargs).fit(*line_data)


def test_progress_wraps_the_loop_over_steps(line_data):
    seen = []

    def progress(steps):  # as stages/progress.py's wrapper (a tqdm bar on a terminal)
        for step in steps:
            seen.append(step)
            yield step

    model = GradientDescentLinear(steps=5, tol=0.0).fit(*line_data, progress=progress)
    assert seen == [0, 1, 2, 3, 4, 5] and model.n_steps_ == 5  # the loss before each step, then the final one
