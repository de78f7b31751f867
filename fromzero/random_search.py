"""The tutorial's "method 2": guess integer coefficients at random, keep the best guess."""

import numpy as np

from fromzero.linear import LinearPrediction
from fromzero.validation import check_int, check_X_y

CHUNK_VALUES = 1 << 21  # residuals held at once (16 MiB), whatever n and trials are
DRAW_BLOCK = 1 << 12  # guesses drawn at once: the draws depend on the seed, never on n


class RandomSearchLinear(LinearPrediction):
    """Monte Carlo search for ``y = X @ coef + intercept`` over d + 1 integers in [low, high].

    Attributes after ``fit``: ``coef_`` (d,), ``intercept_``, ``best_loss_``,
    ``best_trial_`` (0-based), ``loss_history_`` (the best training MSE so far
    after each trial, never increasing; shape (trials,)), ``trial_losses_``
    (each draw's own training MSE, (trials,)), ``n_iter_`` (trials run),
    ``n_features_in_``.
    """

    iteration_name = "trial"
    poor_score = True  # blind integer guesses: a short search over d + 1 coefficients may find no good fit

    def __init__(self, *, trials=100, low=-100, high=100, seed=0):
        self.trials = trials
        self.low = low
        self.high = high
        self.seed = seed

    def work(self, n_samples, n_features, n_predictions=0):
        """The measured cost of one fit: {"bytes": (setting, peak bytes), "seconds": (setting, seconds)}.

        Each trial is one pass over the rows, about 10 ns a row plus 0.8 ns a row·coefficient (measured
        here, CPU time, 10^5 and 8·10^5 rows × 1 and 12 features); the residuals are chunked to 16 MiB, a
        row's residual is kept once, and two float arrays of one value a trial are kept.
        """
        trials = int(self.trials)
        return {"bytes": ("trials", CHUNK_VALUES * 8.0 + 8.0 * n_samples + 16.0 * trials),
                "seconds": ("trials", trials * n_samples * (10e-9 + 0.8e-9 * (n_features + 1)))}

    def fit(self, X, y, *, progress=None):
        """``progress``, if given, wraps the loop over chunks of trials (e.g. a tqdm bar)."""
        X, y = check_X_y(X, y, estimator=self)
        trials, (n, d) = check_int("trials", self.trials, 1), X.shape
        bound = 2**62  # within numpy's int64 draws, with room for high - low
        low, high = check_int("low", self.low, -bound, bound), check_int("high", self.high, -bound, bound)
        if low > high:
            raise ValueError(f"low ({low}) must not exceed high ({high})")
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
        self.best_trial_ = best
        self.trial_losses_ = losses
        self.loss_history_ = np.minimum.accumulate(losses)
        self.n_iter_ = trials
        self.n_features_in_ = d
        return self


def _mse_of_each(guesses, X, y):
    """MSE of each guess (t, d + 1) on X (n, d), y (n,): one BLAS product, an (n, t) temporary."""
    guesses = guesses.astype(np.float64)
    d = X.shape[1]
    residual = X @ guesses[:, :d].T  # (n, t)
    residual += guesses[:, d]
    residual -= y[:, np.newaxis]
    return np.einsum("it,it->t", residual, residual) / len(y)
