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


def largest_stable_learning_rate(x):
    """The rate below which descent on the line's MSE converges: 2 / the loss's largest curvature.

    The loss is quadratic in (k, b) with Hessian 2·[[mean x², mean x], [mean x, 1]];
    a step of rate η multiplies the error along an eigenvector of curvature λ
    by (1 - η·λ), which shrinks only while η < 2 / λ.
    """
    hessian = 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    return float(2.0 / np.linalg.eigvalsh(hessian)[-1])


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
        try:
            k, b, losses, converged = self._descend(k, b, z, y)
        except DivergenceError as error:
            error.stable_below = largest_stable_learning_rate(z)
            raise
        # y = k·(x - shift)/scale + b  =  (k/scale)·x + (b - k·shift/scale)
        self.k_ = float(k / scale)
        self.b_ = float(b - k * shift / scale)
        self.loss_history_ = np.asarray(losses)
        self.n_steps_ = len(losses) - 1
        self.converged_ = bool(converged)
        return self

    def _descend(self, k, b, z, y):
        """Steps until converged or out of steps: (k, b, losses, converged), on z's scale."""
        losses = []
        for step in range(int(self.steps)):
            with np.errstate(over="ignore", invalid="ignore"):  # check_descent catches it
                loss, dk, db = line_loss_and_gradient(k, b, z, y)
            check_descent(step, loss, losses[-1] if losses else np.inf)
            losses.append(loss)
            if max(abs(dk), abs(db)) < self.tol:
                return k, b, losses, True
            k, b = k - self.learning_rate * dk, b - self.learning_rate * db
        with np.errstate(over="ignore", invalid="ignore"):
            final_loss, dk, db = line_loss_and_gradient(k, b, z, y)
        check_descent(len(losses), final_loss, losses[-1])
        losses.append(final_loss)
        return k, b, losses, max(abs(dk), abs(db)) < self.tol

    def predict(self, x):
        check_fitted(self, "k_")
        return predict_line(check_x_y(x), self.k_, self.b_)
