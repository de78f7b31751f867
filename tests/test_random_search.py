"""Tier 1: random search over d + 1 integer coefficients."""

import numpy as np
import pytest

from fromzero.errors import SettingError

import fromzero.random_search as random_search
from fromzero.linear import mean_squared_error, predict_linear
from fromzero.random_search import RandomSearchLinear
from tests.test_linear import boston_xy


@pytest.mark.parametrize("d", [1, 2, 12])
def test_reproducible_from_its_seed(d):
    X, y, _, _ = boston_xy(d)
    first = RandomSearchLinear(trials=100, seed=42).fit(X, y)
    again = RandomSearchLinear(trials=100, seed=42).fit(X, y)
    other = RandomSearchLinear(trials=100, seed=43).fit(X, y)
    np.testing.assert_array_equal(first.trial_losses_, again.trial_losses_)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert first.intercept_ == again.intercept_
    assert not np.array_equal(first.trial_losses_, other.trial_losses_)


@pytest.mark.parametrize("d", [1, 2, 12])
def test_the_loss_history_is_the_best_so_far_and_ends_at_the_minimum(d):
    X, y, _, _ = boston_xy(d)
    model = RandomSearchLinear(trials=300, seed=1).fit(X, y)
    best = model.loss_history_  # what the loss curve draws: the best training MSE after each trial
    assert best.shape == model.trial_losses_.shape == (300,) and model.n_iter_ == 300
    assert RandomSearchLinear.abilities.iteration == "trial"
    np.testing.assert_array_equal(best, np.minimum.accumulate(model.trial_losses_))
    assert np.all(np.diff(best) <= 0)
    assert best[-1] == model.best_loss_ == model.trial_losses_.min()
    assert model.trial_losses_[model.best_trial_] == model.best_loss_
    assert best[model.best_trial_] == model.best_loss_ and (model.best_trial_ == 0 or best[model.best_trial_ - 1] >
                                                            model.best_loss_)  # the first trial to reach it
    assert mean_squared_error(y, model.predict(X)) == pytest.approx(model.best_loss_, rel=1e-12)


def test_each_trials_loss_is_the_mse_of_its_own_draw_whatever_the_chunking(monkeypatch):
    X, y, _, _ = boston_xy(2)
    whole = RandomSearchLinear(trials=50, low=-5, high=5, seed=3).fit(X, y)
    draws = np.random.default_rng(3).integers(-5, 5, size=(50, 3), endpoint=True)
    expected = [mean_squared_error(y, predict_linear(X, draw[:2], draw[2])) for draw in draws]
    np.testing.assert_allclose(whole.trial_losses_, expected, rtol=1e-12)
    monkeypatch.setattr(random_search, "CHUNK_VALUES", 5 * len(y))  # 4 trials per chunk, a short last one
    chunked = RandomSearchLinear(trials=50, low=-5, high=5, seed=3).fit(X, y)
    np.testing.assert_allclose(chunked.trial_losses_, whole.trial_losses_, rtol=1e-12)
    assert chunked.best_trial_ == whole.best_trial_


def test_the_draws_depend_on_the_seed_not_on_the_rows_or_the_chunks(monkeypatch):
    monkeypatch.setattr(random_search, "DRAW_BLOCK", 8)  # 30 trials: blocks of 8, 8, 8 and 6
    X, y, _, _ = boston_xy(2)
    rng = np.random.default_rng(4)
    draws = np.vstack([rng.integers(-9, 9, size=(size, 3), endpoint=True) for size in (8, 8, 8, 6)])
    expected = [mean_squared_error(y, predict_linear(X, draw[:2], draw[2])) for draw in draws]
    for values in (1, 2, 5, 100):  # 1, 2, 4 and 8 trials per chunk
        monkeypatch.setattr(random_search, "CHUNK_VALUES", values * len(y))
        model = RandomSearchLinear(trials=30, low=-9, high=9, seed=4).fit(X, y)
        np.testing.assert_allclose(model.trial_losses_, expected, rtol=1e-12)
        assert (*model.coef_, model.intercept_) == tuple(draws[model.best_trial_])


def test_one_feature_draws_k_then_b_as_the_line_did(line_data):
    x, y = line_data
    model = RandomSearchLinear(trials=20, seed=5).fit(x, y)
    k, b = np.random.default_rng(5).integers(-100, 100, size=(20, 2), endpoint=True)[model.best_trial_]
    assert (model.coef_[0], model.intercept_) == (k, b)


@pytest.mark.parametrize("d", [1, 12])
def test_guesses_are_integers_in_the_inclusive_range(d):
    X, y, _, _ = boston_xy(d)
    model = RandomSearchLinear(trials=5, low=7, high=7, seed=0).fit(X, y)
    assert model.coef_.tolist() == [7.0] * d and model.intercept_ == 7.0
    seen = set()
    for seed in range(20):
        model = RandomSearchLinear(trials=3, low=-2, high=2, seed=seed).fit(X, y)
        weights = np.append(model.coef_, model.intercept_)
        assert np.all(weights == np.round(weights)) and np.all((-2 <= weights) & (weights <= 2))
        seen.update(weights.tolist())
    assert seen == {-2.0, -1.0, 0.0, 1.0, 2.0}  # both ends included


def test_a_range_out_of_order_is_a_setting_error_naming_low(line_data):
    # Each setting alone is checked by its declaration (tests/test_contract.py); the two together here.
    with pytest.raises(SettingError, match=r"low = 5 is above high = -5: the range must be ordered; lower low") as raised:
        RandomSearchLinear(low=5, high=-5).fit(*line_data)
    assert (raised.value.setting, raised.value.value, raised.value.advice) == ("low", 5, "lower")


def test_progress_wraps_the_loop(line_data):
    wrapped = []

    def progress(chunks):  # as stages/progress.py's wrapper (a tqdm bar on a terminal)
        wrapped.append(list(chunks))
        return wrapped[-1]

    model = RandomSearchLinear(trials=7).fit(*line_data, progress=progress)
    assert wrapped == [[0]] and model.trial_losses_.shape == (7,)  # 200 rows: all 7 trials in one chunk
