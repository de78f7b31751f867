"""The tutorial's "method 2": guess integer coefficients at random, keep the best guess."""

import numpy as np

from fromzero.base import Abilities, Cost
from fromzero.errors import SettingError
from fromzero.linear import LinearPrediction
from fromzero.settings import SEED, Whole
from fromzero.validation import check_X_y

CHUNK_VALUES = 1 << 23  # residuals held at once (64 MiB), whatever n and trials are: at 8·10^5 rows, 8 trials
# a pass over X (at 2 trials, 16 MiB, it took 1.6 times as long; each trial's MSE is the same either way)
DRAW_BLOCK = 1 << 12  # guesses drawn at once: the draws depend on the seed, never on n


class RandomSearchLinear(LinearPrediction):
    """Monte Carlo search for ``y = X @ coef + intercept`` over d + 1 integers in [low, high].

    Attributes after ``fit``: ``coef_`` (d,), ``intercept_``, ``best_loss_``,
    ``best_trial_`` (0-based), ``loss_history_`` (the best training MSE so far
    after each trial, never increasing; shape (trials,)), ``trial_losses_``
    (each draw's own training MSE, (trials,)), ``n_iter_`` (trials run),
    ``n_features_in_``.
    """

    # Blind integer guesses: a short search over d + 1 coefficients may find no good fit (poor_score).
    abilities = Abilities(iteration="trial", poor_score=True)
    # |low|, |high| <= 10^9: d·1e9·1e50 (the largest value a loaded CSV holds) still squares finitely.
    settings = {"trials": Whole(1), "low": Whole(-10**9, 10**9), "high": Whole(-10**9, 10**9), "seed": SEED}

    def __init__(self, *, trials=100, low=-100, high=100, seed=0):
        self.trials = trials
        self.low = low
        self.high = high
        self.seed = seed

    def cost(self, n_samples, n_features, n_predictions=0):
        """The measured cost of one fit (a ``Cost``).

        Each trial is one pass over the rows, about 10 ns a row plus 0.8 ns a row·coefficient (measured
        here, CPU time, 10^5 and 8·10^5 rows × 1 and 12 features); the residuals are chunked to 16 MiB, a
        row's residual is kept once, and two float arrays of one value a trial are kept.
        """
        trials = int(self.trials)
        return Cost(CHUNK_VALUES * 8.0 + 8.0 * n_samples + 16.0 * trials,
                    trials * n_samples * (10e-9 + 0.8e-9 * (n_features + 1)), "trials", "trials")

    def fit(self, X, y, *, progress=None):
        """``progress``, if given, wraps the loop over chunks of trials (e.g. a tqdm bar)."""
        X, y = check_X_y(X, y, estimator=self)
        settings = self.checked_settings()
        trials, low, high, (n, d) = settings["trials"], settings["low"], settings["high"], X.shape
        if low > high:
            raise SettingError("low", low, f"low = {low} is above high = {high}: the range must be ordered", "lower")
        rng = np.random.default_rng(self.seed)
        losses = np.empty(trials)
        best, best_guess = 0, None
        # Trials per chunk: a power of two, so chunks tile the draw blocks exactly.
        chunk = min(DRAW_BLOCK, 1 << (max(1, CHUNK_VALUES // n).bit_length() - 1))
        for start in (progress or iter)(range(0, trials, chunk)):
            if start % DRAW_BLOCK == 0:
                # Inclusive of `high`, as random.randint is in the tutorial; row t is trial t's
                # (coef_1 .. coef_d, intercept). For d = 1 this is the tutorial's (k, b).
                block = rng.integers(low, high, size=(min(DRAW_BLOCK, trials - start), d + 1),
                                     endpoint=True)
            guesses = block[start % DRAW_BLOCK:][:chunk]
            losses[start:start + len(guesses)] = _mse_of_each(guesses, X, y)
            first = start + int(np.argmin(losses[start:start + len(guesses)]))
            if best_guess is None or losses[first] < losses[best]:  # strict "<": the first minimum wins
                best, best_guess = first, guesses[first - start]
        self.coef_, self.intercept_ = best_guess[:d].astype(np.float64), float(best_guess[d])
        self.best_loss_ = float(losses[best])
        self.best_trial_ = int(best)
        self.trial_losses_ = losses
        self.loss_history_ = np.minimum.accumulate(losses)
        self.n_iter_ = trials
        self.n_features_in_ = d
        return self


    def fit_facts(self):
        return {**super().fit_facts(), "best_trial": self.best_trial_}


def _mse_of_each(guesses, X, y):
    """MSE of each guess (t, d + 1) on X (n, d), y (n,): one BLAS product, an (n, t) temporary."""
    guesses = guesses.astype(np.float64)
    d = X.shape[1]
    residual = X @ guesses[:, :d].T  # (n, t)
    residual += guesses[:, d]
    residual -= y[:, np.newaxis]
    return np.einsum("it,it->t", residual, residual) / len(y)
