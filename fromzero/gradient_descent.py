"""The tutorial's gradient descent on the line, with its hand-derived partials."""

import numpy as np

from fromzero.errors import DivergenceError
from fromzero.linear import line_loss_and_gradient, predict_line
from fromzero.validation import check_fitted, check_x_y


def check_descent(step, loss, previous_loss):
    """Raise DivergenceError when a loss is non-finite or grew since the last step.

    On a convex loss a small enough rate never increases it, so growth means the
    rate is too large; the slack absorbs rounding once the loss has converged.
    """
    if not np.isfinite(loss):
        raise DivergenceError(step, loss, "became non-finite")
    if loss > previous_loss * (1.0 + 1e-9) + 1e-300:
        raise DivergenceError(step, loss, "grew")


class GradientDescentLine:
    """Fit ``y = k·x + b`` by gradient descent on the mean squared error.

    With ``standardize`` the descent runs on z = (x - mean) / std, where the loss
    surface is round (both curvatures equal 2) and one learning rate suits both
    parameters; k and b are mapped back to the original units afterwards.

    The descent stops early once both partials are below ``tol`` in size.

    Attributes after ``fit``: ``k_``, ``b_`` (original units), ``loss_history_``
    (loss before each step, then the final loss; shape (n_steps_ + 1,)),
    ``n_steps_`` and ``converged_``.
    """

    def __init__(self, *, learning_rate=0.01, steps=2000, standardize=True, tol=1e-10, seed=0):
        self.learning_rate = learning_rate
        self.steps = steps
        self.standardize = standardize
        self.tol = tol
        self.seed = seed

    def fit(self, x, y):
        x, y = check_x_y(x, y)
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if int(self.steps) < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        shift, scale = (x.mean(), x.std()) if self.standardize else (0.0, 1.0)
        if scale == 0.0:
            raise ValueError("x is constant: it cannot be standardised")
        z = (x - shift) / scale
        # The tutorial starts from random.random() for both; seeded here.
        k, b = np.random.default_rng(self.seed).random(2)
        losses = []
        converged = False
        for step in range(int(self.steps)):
            with np.errstate(over="ignore", invalid="ignore"):  # check_descent catches it
                loss, dk, db = line_loss_and_gradient(k, b, z, y)
            check_descent(step, loss, losses[-1] if losses else np.inf)
            losses.append(loss)
            if max(abs(dk), abs(db)) < self.tol:
                converged = True
                break
            k, b = k - self.learning_rate * dk, b - self.learning_rate * db
        if not converged:
            final_loss, dk, db = line_loss_and_gradient(k, b, z, y)
            check_descent(len(losses), final_loss, losses[-1])
            losses.append(final_loss)
            converged = max(abs(dk), abs(db)) < self.tol
        # y = k·(x - shift)/scale + b  =  (k/scale)·x + (b - k·shift/scale)
        self.k_ = float(k / scale)
        self.b_ = float(b - k * shift / scale)
        self.loss_history_ = np.asarray(losses)
        self.n_steps_ = len(losses) - 1
        self.converged_ = bool(converged)
        return self

    def predict(self, x):
        check_fitted(self, "k_")
        return predict_line(check_x_y(x), self.k_, self.b_)
