import numpy as np
import pytest

from fromzero.linear import mean_squared_error
from fromzero.random_search import RandomSearchLine


def test_reproducible_from_its_seed(boston_split):
    x, y, _, _ = boston_split
    first = RandomSearchLine(trials=100, seed=42).fit(x, y)
    again = RandomSearchLine(trials=100, seed=42).fit(x, y)
    other = RandomSearchLine(trials=100, seed=43).fit(x, y)
    np.testing.assert_array_equal(first.loss_history_, again.loss_history_)
    assert (first.k_, first.b_) == (again.k_, again.b_)
    assert not np.array_equal(first.loss_history_, other.loss_history_)


def test_best_loss_never_increases_and_is_the_minimum(boston_split):
    x, y, _, _ = boston_split
    model = RandomSearchLine(trials=300, seed=1).fit(x, y)
    best = model.best_loss_history_
    assert np.all(np.diff(best) <= 0)
    assert best[-1] == model.best_loss_ == model.loss_history_.min()
    assert model.loss_history_[model.best_trial_] == model.best_loss_
    assert mean_squared_error(y, model.predict(x)) == pytest.approx(model.best_loss_)


def test_guesses_are_integers_in_the_inclusive_range(line_data):
    model = RandomSearchLine(trials=5, low=7, high=7, seed=0).fit(*line_data)
    assert (model.k_, model.b_) == (7.0, 7.0)
    model = RandomSearchLine(trials=50, low=-3, high=3, seed=0).fit(*line_data)
    assert float(model.k_).is_integer() and -3 <= model.k_ <= 3


def test_unordered_range_is_rejected(line_data):
    with pytest.raises(ValueError, match="low"):
        RandomSearchLine(low=5, high=-5).fit(*line_data)
