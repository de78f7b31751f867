import numpy as np
import pytest

from fromzero.errors import DivergenceError
from fromzero.gradient_descent import GradientDescentLine, largest_stable_learning_rate
from tests.test_linear import lstsq_line


def test_standardized_descent_converges_to_lstsq(boston_split):
    x, y, _, _ = boston_split
    model = GradientDescentLine(learning_rate=0.01, steps=2000, standardize=True, seed=42).fit(x, y)
    k, b = lstsq_line(x, y)
    assert model.converged_
    assert model.k_ == pytest.approx(k, rel=1e-6)
    assert model.b_ == pytest.approx(b, rel=1e-6)


def test_raw_descent_at_the_tutorials_rate_has_not_converged_after_2000_steps(boston_split):
    # The tutorial's own run: the loss falls but k and b are still far from the optimum.
    x, y, _, _ = boston_split
    model = GradientDescentLine(learning_rate=0.01, steps=2000, standardize=False, seed=42).fit(x, y)
    k, _ = lstsq_line(x, y)
    assert not model.converged_
    assert model.n_steps_ == 2000
    assert np.all(np.diff(model.loss_history_) <= 1e-9 * model.loss_history_[:-1])
    assert abs(model.k_ - k) > 0.1 * abs(k)


def test_descent_stops_early_once_converged(line_data):
    x, y = line_data
    model = GradientDescentLine(learning_rate=0.1, steps=100_000, standardize=True).fit(x, y)
    assert model.converged_
    assert model.n_steps_ < 1000
    assert len(model.loss_history_) == model.n_steps_ + 1


def test_same_seed_same_descent_and_seed_changes_the_start(line_data):
    x, y = line_data
    first = GradientDescentLine(steps=50, seed=3).fit(x, y)
    again = GradientDescentLine(steps=50, seed=3).fit(x, y)
    other = GradientDescentLine(steps=50, seed=4).fit(x, y)
    np.testing.assert_array_equal(first.loss_history_, again.loss_history_)
    assert first.loss_history_[0] != other.loss_history_[0]


@pytest.mark.parametrize("learning_rate, standardize", [(1.5, True), (0.1, False), (1e6, True)])
def test_too_large_a_rate_raises_divergence_with_its_step(line_data, learning_rate, standardize):
    x, y = line_data
    with pytest.raises(DivergenceError) as caught:
        GradientDescentLine(learning_rate=learning_rate, steps=5000, standardize=standardize).fit(x, y)
    assert caught.value.step >= 1
    assert caught.value.reason in ("grew", "became non-finite")


@pytest.mark.parametrize("standardize", [False, True])
def test_the_stable_rate_limit_separates_converging_from_diverging(boston_split, standardize):
    x, y, _, _ = boston_split
    z = (x - x.mean()) / x.std() if standardize else x
    limit = largest_stable_learning_rate(z)
    GradientDescentLine(learning_rate=0.98 * limit, steps=3000, standardize=standardize).fit(x, y)
    with pytest.raises(DivergenceError) as caught:
        GradientDescentLine(learning_rate=1.02 * limit, steps=3000, standardize=standardize).fit(x, y)
    assert caught.value.stable_below == pytest.approx(limit)
    if standardize:
        assert limit == pytest.approx(1.0)  # both curvatures of the standardised loss are 2


@pytest.mark.parametrize("kwargs, match", [({"learning_rate": 0}, "learning_rate"), ({"steps": 0}, "steps")])
def test_invalid_settings_raise_value_error(line_data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GradientDescentLine(**kwargs).fit(*line_data)
