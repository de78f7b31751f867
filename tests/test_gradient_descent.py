"""Tier 1: gradient descent on the plane reaches least squares; its partials; its divergence limit."""

import re

import numpy as np
import pytest

from fromzero.errors import DivergenceError
from fromzero.gradient_descent import (GradientDescentLinear, check_descent, largest_stable_learning_rate,
                                       moment_loss_and_gradient, moment_rounding, moments)
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
    assert model.converged_ and model.n_iter_ < 5000
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
    assert model.n_iter_ == 2000
    assert np.all(np.diff(model.loss_history_) <= 1e-9 * model.loss_history_[:-1])
    assert abs(model.coef_[0] - coef[0]) > 0.1 * abs(coef[0])


def test_descent_stops_early_once_converged(line_data):
    x, y = line_data
    model = GradientDescentLinear(learning_rate=0.1, steps=100_000, standardize=True).fit(x, y)
    assert model.converged_
    assert model.n_iter_ < 1000
    assert len(model.loss_history_) == model.n_iter_ + 1


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


@pytest.mark.parametrize("tol", [1e300, 1e3])
def test_a_tol_above_every_starting_partial_is_refused(line_data, tol):
    """Issue 18: `gd.tol: 1e300` reported converged at step 0 with the start's loss."""
    with pytest.raises(ValueError, match=re.escape(f"tol = {tol:g} is above every partial derivative at the start")):
        GradientDescentLinear(tol=tol).fit(*line_data)
    # Just below the largest starting partial: one step at least.
    start = GradientDescentLinear(steps=1, tol=0.0).fit(*line_data)
    assert start.n_iter_ == 1


def test_the_rule_for_tol_is_the_convergence_test_at_the_start(line_data):
    x, y = line_data
    data = moments((x - x.mean()) / x.std(), y / y.std())  # standardised, y in units of its spread, as it runs
    w = np.random.default_rng(0).random(2)  # the seeded start (seed 0)
    _, grad_coef, grad_b = moment_loss_and_gradient(w[:1], w[1], data)
    largest = max(abs(grad_coef[0]), abs(grad_b))
    assert GradientDescentLinear(tol=largest, steps=3).fit(x, y).n_iter_ >= 1  # equal: not below, so it steps
    with pytest.raises(ValueError, match="above every partial"):
        GradientDescentLinear(tol=np.nextafter(largest, np.inf)).fit(x, y)


def test_progress_wraps_the_loop_over_steps(line_data):
    seen = []

    def progress(steps):  # as stages/progress.py's wrapper (a tqdm bar on a terminal)
        for step in steps:
            seen.append(step)
            yield step

    model = GradientDescentLinear(steps=5, tol=0.0).fit(*line_data, progress=progress)
    assert seen == [0, 1, 2, 3, 4, 5] and model.n_iter_ == 5  # the loss before each step, then the final one


# ---- issue 18: exact fits, and reaching least squares on many features ------------------------

@pytest.mark.parametrize("d", [1, 3, 12])
@pytest.mark.parametrize("y_scale", [1e-3, 1.0, 1e3, 1e6])
def test_exact_and_near_exact_fits_succeed_and_match_lstsq(d, y_scale):
    """The loss from moments is a difference of numbers the size of var(y): at an exact fit it
    jitters by about eps·var(y), which the old relative slack (1e-9 of the loss) called divergence."""
    rng = np.random.default_rng(d)
    X = rng.normal(size=(100, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-5.0, 5.0, d)
    w = rng.normal(size=d)
    for noise in (0.0, 1e-12, 1e-6, 1e-3):
        y = y_scale * (X @ w + 1.7 + noise * rng.normal(size=100))
        model = GradientDescentLinear(learning_rate=0.1, steps=100_000, seed=0).fit(X, y)
        coef, intercept = lstsq(X, y)
        assert model.converged_
        # tol (1e-10) bounds the partials in y's units: the fit is that close to the optimum, or to rounding.
        np.testing.assert_allclose(model.predict(X), X @ coef + intercept, rtol=0, atol=1e-6 * y_scale)
        assert np.all(np.diff(model.loss_history_) <= 1e-12 * y_scale ** 2)


def test_a_y_in_the_millions_converges_at_its_rounding_floor():
    """Partials of 1e-10 cannot be computed for y ~ 1e6; the descent stops once floating point allows
    no further progress (partials within their rounding, or too small to move a parameter)."""
    X, y, _, _ = boston_xy(1)
    model = GradientDescentLinear(learning_rate=0.01, steps=100_000, seed=42).fit(X, y * 1e6)
    assert model.converged_ and model.n_iter_ < 5000
    coef, intercept = lstsq(X, y * 1e6)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9)


def test_check_descent_allows_a_rise_within_the_rounding_of_the_loss():
    check_descent(5, 1.0 + 1e-15, 1.0, slack=4e-16 * 20)
    with pytest.raises(DivergenceError, match="grew"):
        check_descent(5, 1.0 + 1e-12, 1.0, slack=4e-16 * 20)
    with pytest.raises(DivergenceError, match="non-finite"):
        check_descent(5, np.inf, 1.0, slack=np.inf)


def test_the_rounding_bound_covers_the_loss_at_an_exact_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = 1e6 * (X @ np.array([1.0, -2.0, 0.5]) + 3.0)
    data = moments(X, y)
    coef, b = lstsq(X, y)
    loss, _, _ = moment_loss_and_gradient(coef, b, data)
    error, coef_error, b_error = moment_rounding(coef, b, data, np.abs(data.cov))
    assert abs(loss) <= error < 1e-12 * data.y_var  # the true loss is ~0; the computed one is rounding
    assert coef_error.shape == (3,) and b_error >= 0


def test_rm_stops_where_it_did_and_twelve_columns_reach_least_squares():
    """Issue 18: at lr 0.01 the 12 columns other than B need 15,651 steps; the tutorial's 2000 left the
    test MSE 0.42 % above least squares. With a cap well above, descent stops on tol and matches."""
    X, y, X_test, y_test = boston_xy(1)
    assert GradientDescentLinear(learning_rate=0.01, steps=100_000, seed=42).fit(X, y).n_iter_ == 1209
    X, y, X_test, y_test = boston_xy(12)
    model = GradientDescentLinear(learning_rate=0.01, steps=100_000, seed=42).fit(X, y)
    assert model.converged_ and model.n_iter_ == 15_651 and GradientDescentLinear.abilities.iteration == "step"
    coef, intercept = lstsq(X, y)
    exact = mean_squared_error(y_test, X_test @ coef + intercept)
    assert mean_squared_error(y_test, model.predict(X_test)) == pytest.approx(exact, rel=1e-6)


# ---- issue 23: scale-free stopping, and a loss that is a mean of squares ----------------------

@pytest.mark.parametrize("scale", [1e-40, 1e-6, 1e6, 1e40])
def test_stopping_is_scale_free_in_the_target(scale):
    """MEDV × 1e-40 once stopped "converged" at a coefficient 1e29 times too large: tol was absolute.
    The descent runs on y / std(y), so any scale of the target takes the same steps to the same line."""
    X, y, _, _ = boston_xy(1)
    plain = GradientDescentLinear(learning_rate=0.01, seed=42).fit(X, y)
    scaled = GradientDescentLinear(learning_rate=0.01, seed=42).fit(X, y * scale)
    assert scaled.converged_ and scaled.n_iter_ == plain.n_iter_
    coef, intercept = lstsq(X, y * scale)
    np.testing.assert_allclose(scaled.coef_, coef, rtol=1e-6)
    np.testing.assert_allclose(scaled.loss_history_, plain.loss_history_ * scale**2, rtol=1e-6)


def test_an_exact_fit_never_records_a_negative_loss():
    """Y = 3·X1 − 2·X2 + 0.5·X3 + 7 (noise 1e-9): the loss from moments dipped to −2.3e-13 at the fit, and
    evaluate refused the curve. A mean of squares is never negative in what the model reports."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = X @ np.array([3.0, -2.0, 0.5]) + 7.0 + 1e-9 * rng.normal(size=400)
    model = GradientDescentLinear(learning_rate=0.01, seed=0).fit(X, y)
    assert model.converged_ and model.loss_history_.min() >= 0.0
    np.testing.assert_allclose(model.coef_, [3.0, -2.0, 0.5], rtol=1e-6)
