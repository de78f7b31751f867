"""The tutorial's neural network: a sum of sigmoids, trained with hand-written backprop.

    f(x) = Σ_j k2_j · σ(k1_j · x + b1_j) + b2

With one hidden unit this is exactly the tutorial's ``k2·σ(k1·x + b1) + b2``.
"""

import numpy as np

from fromzero.errors import DivergenceError
from fromzero.validation import check_fitted, check_x_y


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z), computed without overflow for any finite z.

    e^-z overflows for z < -709, so the negative half uses the equal form
    e^z / (1 + e^z), whose exponent is never positive.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sum_of_sigmoids(x, k1, b1, k2, b2):
    """f(x) for x of shape (n,) and k1, b1, k2 of shape (hidden,); returns (n,)."""
    return sigmoid_pieces(x, k1, b1, k2) @ np.ones(len(k2)) + b2


def sigmoid_pieces(x, k1, b1, k2):
    """Each unit's contribution k2_j·σ(k1_j·x + b1_j): shape (n, hidden)."""
    x = np.asarray(x, dtype=np.float64)
    return sigmoid(np.outer(x, k1) + b1) * k2


def loss_and_gradients(x, y, k1, b1, k2, b2):
    """MSE of the net on (x, y) and its partials, by the chain rule.

    Shapes: x, y (n,); k1, b1, k2 (hidden,); b2 scalar.
    Returns (loss, {"k1", "b1", "k2", "b2"}) with each gradient shaped like its parameter.
    """
    n = x.shape[0]
    z = np.outer(x, k1) + b1  # (n, hidden): each unit's input
    s = sigmoid(z)  # (n, hidden): each unit's output
    y_hat = s @ k2 + b2  # (n,)
    residual = y_hat - y
    loss = float(residual @ residual / n)
    g = 2.0 * residual / n  # dL/dy_hat, (n,)
    grad_k2 = s.T @ g  # dL/dk2_j = Σ_i g_i · s_ij
    grad_b2 = float(g.sum())  # dL/db2 = Σ_i g_i
    g_z = np.outer(g, k2) * s * (1.0 - s)  # dL/dz_ij = g_i · k2_j · σ'(z_ij), σ' = s(1 - s)
    grad_k1 = x @ g_z  # dL/dk1_j = Σ_i dL/dz_ij · x_i
    grad_b1 = g_z.sum(axis=0)  # dL/db1_j = Σ_i dL/dz_ij
    return loss, {"k1": grad_k1, "b1": grad_b1, "k2": grad_k2, "b2": grad_b2}


class SigmoidNet:
    """One hidden layer of ``hidden`` sigmoid units and a linear output.

    Trained by gradient descent on the MSE of standardised x and y (so one
    learning rate suits any units), then rewritten exactly in the original
    units: ``k1_``, ``b1_``, ``k2_`` (shape (hidden,)) and ``b2_``.

    ``batch_size`` 0 means full batch; otherwise each step uses the next
    ``batch_size`` rows of a reshuffled-every-epoch order, so a step costs the
    same at any data size.

    Training stops with DivergenceError as soon as the loss becomes non-finite,
    or at the end if the last loss is above the first: a net, unlike a line, may
    overshoot for a few steps at a good rate and recover, so a single rise is
    not taken as divergence. ``loss_history_`` holds the loss (original units,
    on the step's batch) before each step, shape (steps,).
    """

    def __init__(self, *, hidden=4, learning_rate=0.3, steps=2000, batch_size=0, seed=0):
        self.hidden = hidden
        self.learning_rate = learning_rate
        self.steps = steps
        self.batch_size = batch_size
        self.seed = seed

    def _init_params(self, rng):
        hidden = int(self.hidden)
        # Steep-enough units whose centres (-b1/k1) spread over the standardised data.
        k1 = rng.normal(0.0, 2.0, size=hidden)
        b1 = -k1 * rng.uniform(-1.5, 1.5, size=hidden)
        k2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), size=hidden)
        return {"k1": k1, "b1": b1, "k2": k2, "b2": 0.0}

    def fit(self, x, y):
        x, y = check_x_y(x, y)
        if int(self.hidden) < 1:
            raise ValueError(f"hidden must be at least 1, got {self.hidden}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if int(self.steps) < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        x_mean, x_std, y_mean, y_std = x.mean(), x.std(), y.mean(), y.std()
        if x_std == 0.0 or y_std == 0.0:
            raise ValueError("x or y is constant: nothing to learn")
        u, t = (x - x_mean) / x_std, (y - y_mean) / y_std
        rng = np.random.default_rng(self.seed)
        params = self._init_params(rng)
        n, batch = len(u), int(self.batch_size) or len(u)
        batch = min(batch, n)
        order, cursor = np.arange(n), n  # cursor == n forces a shuffle on the first mini-batch
        losses = np.empty(int(self.steps))
        for step in range(int(self.steps)):
            if batch < n:
                if cursor + batch > n:
                    order, cursor = rng.permutation(n), 0
                rows = order[cursor:cursor + batch]
                cursor += batch
                u_step, t_step = u[rows], t[rows]
            else:
                u_step, t_step = u, t
            with np.errstate(over="ignore", invalid="ignore"):  # caught just below
                loss, grads = loss_and_gradients(u_step, t_step, **params)
            loss *= y_std * y_std  # report in the target's own units
            if not np.isfinite(loss):
                raise DivergenceError(step, loss, "became non-finite")
            losses[step] = loss
            for name, grad in grads.items():
                params[name] = params[name] - self.learning_rate * grad
        if len(losses) > 1 and losses[-1] > losses[0]:
            raise DivergenceError(len(losses) - 1, losses[-1], "ended above where it started")
        # f = Σ k2·σ(k1·(x - x_mean)/x_std + b1)·y_std + b2·y_std + y_mean, so in x's units:
        self.k1_ = params["k1"] / x_std
        self.b1_ = params["b1"] - params["k1"] * x_mean / x_std
        self.k2_ = params["k2"] * y_std
        self.b2_ = float(params["b2"] * y_std + y_mean)
        self.loss_history_ = losses
        return self

    def predict(self, x):
        check_fitted(self, "k1_")
        return sum_of_sigmoids(check_x_y(x), self.k1_, self.b1_, self.k2_, self.b2_)
