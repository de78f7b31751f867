"""The tutorial's "method 2": guess integer k and b at random, keep the best guess."""

import numpy as np

from fromzero.linear import mean_squared_error, predict_line
from fromzero.validation import check_fitted, check_x_y


class RandomSearchLine:
    """Monte Carlo search for ``y = k·x + b`` over integer k, b in [low, high].

    Attributes after ``fit``: ``k_``, ``b_``, ``best_loss_``, ``best_trial_``
    (0-based), ``loss_history_`` (loss of each draw, shape (trials,)) and
    ``best_loss_history_`` (best loss so far after each draw, never increasing).
    """

    def __init__(self, *, trials=100, low=-100, high=100, seed=0):
        self.trials = trials
        self.low = low
        self.high = high
        self.seed = seed

    def fit(self, x, y):
        x, y = check_x_y(x, y)
        if int(self.trials) < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        rng = np.random.default_rng(self.seed)
        # Both draws at once, inclusive of `high` as random.randint is in the tutorial.
        guesses = rng.integers(self.low, self.high, size=(int(self.trials), 2), endpoint=True)
        # One vectorised pass per guess keeps memory at O(n) for a million rows.
        losses = np.array([mean_squared_error(y, predict_line(x, k, b)) for k, b in guesses])
        best = int(np.argmin(losses))  # first minimum, as the tutorial's strict "<"
        self.k_, self.b_ = float(guesses[best, 0]), float(guesses[best, 1])
        self.best_loss_ = float(losses[best])
        self.best_trial_ = best
        self.loss_history_ = losses
        self.best_loss_history_ = np.minimum.accumulate(losses)
        return self

    def predict(self, x):
        check_fitted(self, "k_")
        return predict_line(check_x_y(x), self.k_, self.b_)
