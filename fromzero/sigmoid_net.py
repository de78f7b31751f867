"""The tutorial's neural network: a sum of sigmoids, trained with hand-written backprop.

    f(X) = σ(X @ k1 + b1) @ k2 + b2 = Σ_j k2_j · σ(Σ_i X_i · k1_ij + b1_j) + b2

X has shape (n, d); each of the ``hidden`` units has one input weight per
feature (a column of k1, shape (d, hidden)), a bias b1_j and an output weight
k2_j. With one feature and one hidden unit this is exactly the tutorial's
``k2·σ(k1·x + b1) + b2``.

The gradient can come from the chain rule written out by hand or from the
small automatic differentiation engine in ``fromzero.autodiff`` (both in
``fromzero.backprop``); both feed plain gradient descent or scipy's L-BFGS-B.
"""

import numpy as np

from fromzero.activations import sigmoid
from fromzero.backprop import (loss_and_gradients, net_loss, net_loss_and_gradients_autodiff, sigmoid_pieces,
                               sum_of_sigmoids)
from fromzero.base import Abilities, Cost, Estimator
from fromzero.errors import DivergenceError, SettingError
from fromzero.settings import SEED, Either, OneOf, Real, Whole
from fromzero.validation import check_fitted, check_X_y, params_array, params_int, portable

GRADIENTS = ("manual", "autodiff")
OPTIMIZERS = ("gd", "lbfgs")
# `batch_size="auto"`: full batch up to AUTO_FULL_BATCH_ROWS rows, mini-batches of AUTO_BATCH above.
# Measured here (2000 steps, one feature): at 20,000 rows the full batch took 14 s and mini-batches of
# 4,096 0.9 s, to a training MSE 0.03 % apart; at 10^5 rows 85 s against 1.4 s; at 5,000 rows both ~1.4 s.
AUTO_FULL_BATCH_ROWS = 8192
AUTO_BATCH = 4096
# L-BFGS stops when an iteration lowers the standardised MSE by less than this (in the target's
# units: less than 1e-7·var(y), about 1e-5 on Boston): the unregularised net's loss keeps creeping
# down as its units steepen, and scipy's default (2.2e-9) spends 2-3x the iterations on that creep.
LBFGS_FTOL = 1e-7


def auto_batch_size(setting, rows, optimizer):
    """The rows a gradient step uses (0: all of them) for a ``batch_size`` setting on ``rows`` rows."""
    if setting == "auto":  # L-BFGS needs the full batch: its line search compares whole-data losses
        return 0 if rows <= AUTO_FULL_BATCH_ROWS or optimizer == "lbfgs" else AUTO_BATCH
    return setting


class SigmoidNet(Estimator):
    """One hidden layer of ``hidden`` sigmoid units and a linear output.

    Trained on the MSE of standardised X (each feature: mean 0, std 1; a constant
    feature is only centred) and standardised y, so one learning rate suits any
    units; then rewritten exactly in the original units: ``k1_`` (d, hidden),
    ``b1_``, ``k2_`` (hidden,) and ``b2_``.

    ``gradients``: "manual" (the hand-written chain rule) or "autodiff"
    (``fromzero.autodiff``); the two agree to rounding.

    ``optimizer``:
    - "gd": ``steps`` steps of gradient descent at ``learning_rate``.
      ``batch_size`` 0 means full batch; N > 0 means each step uses the next N
      rows of an order reshuffled every epoch, so a step costs the same at any
      data size; "auto" is the full batch up to 8192 rows and mini-batches of
      4096 above. ``loss_history_`` (steps,) is the loss (original units, on the
      step's batch) before each step.
    - "lbfgs": scipy's L-BFGS-B on the full batch (``batch_size`` 0 or "auto"),
      at most ``steps`` iterations; ``learning_rate`` is not used: the line
      search picks each step. ``loss_history_`` holds the loss before the first
      iteration and after each one.

    ``train_mse_`` is the MSE on the whole training set after the fit;
    ``n_iter_`` the steps (gd) or iterations (lbfgs) run.

    Gradient descent raises DivergenceError when a loss becomes non-finite, or
    when the whole-training-set loss at the end is above the one at the start.
    A single rise is not divergence: a net at a good rate may overshoot for a
    few steps and recover, and a mini-batch's loss is noisy by nature.
    """

    # Too large a rate diverges; more units and smaller batches make a given rate less stable.
    abilities = Abilities(iteration="step", diverges_with=("learning_rate", "hidden", "batch_size"), pieces=True)
    settings = {"hidden": Whole(1), "learning_rate": Real(0), "steps": Whole(1),
                "batch_size": Either(OneOf("auto"), Whole(0)), "seed": SEED,
                "gradients": OneOf(*GRADIENTS), "optimizer": OneOf(*OPTIMIZERS)}
    activation = staticmethod(sigmoid)  # each unit's: the pipeline draws it (stages/figures.py)

    def __init__(self, *, hidden=4, learning_rate=0.3, steps=2000, batch_size="auto", seed=0,
                 gradients="manual", optimizer="gd"):
        self.hidden = hidden
        self.learning_rate = learning_rate
        self.steps = steps
        self.batch_size = batch_size
        self.seed = seed
        self.gradients = gradients
        self.optimizer = optimizer

    def _check_settings(self, rows):
        """The settings checked (SettingError); returns the batch size a step uses (0: the full batch)."""
        settings = self.checked_settings()
        if settings["optimizer"] == "lbfgs" and settings["batch_size"] not in (0, "auto"):
            raise SettingError("batch_size", self.batch_size, f"batch_size = {self.batch_size!r} does not go with "
                               "optimizer = 'lbfgs', which works on the full batch: use 'auto' or 0")
        return int(auto_batch_size(settings["batch_size"], rows, settings["optimizer"]))

    def _init_params(self, rng, n_features):
        hidden = int(self.hidden)
        # Steep-enough units (input weights ~ N(0, 2²/d), so Σ_i u_i·k1_ij has std about 2) whose
        # centres, the points p_j where X @ k1_j + b1_j = 0, spread over the standardised data.
        k1 = rng.normal(0.0, 2.0 / np.sqrt(n_features), size=(n_features, hidden))
        centres = rng.uniform(-1.5, 1.5, size=(n_features, hidden))
        b1 = -(centres * k1).sum(axis=0)
        k2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), size=hidden)
        return {"k1": k1, "b1": b1, "k2": k2, "b2": 0.0}

    def _loss_and_gradients(self):
        if self.gradients == "autodiff":
            return net_loss_and_gradients_autodiff
        return loss_and_gradients

    def fit(self, X, y, *, progress=None):
        """``progress``, if given, wraps gradient descent's loop over steps (e.g. a tqdm bar)."""
        X, y = check_X_y(X, y, estimator=self)
        batch = self._check_settings(len(X))
        X_mean, X_scale = X.mean(axis=0), X.std(axis=0)
        X_scale[np.all(X == X[0], axis=0)] = 1.0  # a constant feature: centred to 0, carries nothing
        y_mean, y_scale = y.mean(), y.std()
        y_scale = 1.0 if np.all(y == y[0]) else y_scale  # a constant target: the net learns to predict it
        U, t = (X - X_mean) / X_scale, (y - y_mean) / y_scale
        rng = np.random.default_rng(self.seed)
        params = self._init_params(rng, X.shape[1])
        to_original_units = y_scale * y_scale  # of a squared error
        if self.optimizer == "gd":
            params, losses, end = self._descend(self._loss_and_gradients(), U, t, params, batch, rng,
                                                to_original_units, progress or iter)
            n_iter = len(losses)
        else:
            params, losses, n_iter = self._lbfgs(self._loss_and_gradients(), U, t, params)
            end = net_loss(U, t, **params)
        self.loss_history_ = losses * to_original_units
        self.n_iter_ = n_iter
        self.train_mse_ = end * to_original_units  # the whole-set loss at the final parameters
        # f = σ(((X - m)/s) @ k1 + b1) @ k2·y_scale + b2·y_scale + y_mean, so in X's units:
        k1, b1 = params["k1"], params["b1"]
        self.k1_ = k1 / X_scale[:, np.newaxis]
        self.b1_ = b1 - (k1 * X_mean[:, np.newaxis] / X_scale[:, np.newaxis]).sum(axis=0)
        self.k2_ = params["k2"] * y_scale
        self.b2_ = float(params["b2"] * y_scale + y_mean)
        self.n_features_in_ = X.shape[1]
        return self

    def _descend(self, loss_and_grad, U, t, params, batch, rng, to_original_units, progress):
        """Gradient descent; returns (params, loss before each step on its batch, the whole set's loss at the end),
        in standardised units."""
        n, steps = len(U), int(self.steps)
        batch = min(batch or n, n)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite losses are caught below
            start = net_loss(U, t, **params)
            order, cursor = np.arange(n), n  # cursor == n forces a shuffle on the first mini-batch
            losses = np.empty(steps)
            for step in progress(range(steps)):
                if batch < n:
                    if cursor + batch > n:
                        order, cursor = rng.permutation(n), 0
                    rows = order[cursor:cursor + batch]
                    cursor += batch
                    U_step, t_step = np.take(U, rows, axis=0), t[rows]  # take: U[rows]'s values, 3x as fast
                else:
                    U_step, t_step = U, t
                loss, grads = loss_and_grad(U_step, t_step, **params)
                if not np.isfinite(loss):
                    raise DivergenceError(step, loss * to_original_units, "became non-finite",
                                          value=self.learning_rate)
                losses[step] = loss
                for name, grad in grads.items():
                    params[name] = params[name] - self.learning_rate * grad
            end = net_loss(U, t, **params)
        if not np.isfinite(end):
            raise DivergenceError(steps, end, "became non-finite", value=self.learning_rate)
        if end > start:  # judged on the whole training set, not on one noisy mini-batch
            raise DivergenceError(steps, end * to_original_units, "ended above where it started",
                                  value=self.learning_rate)
        return params, losses, end

    def _lbfgs(self, loss_and_grad, U, t, params):
        """scipy's L-BFGS-B on the flattened parameters; returns (params, loss per iteration, iterations)."""
        from scipy.optimize import minimize

        names = ("k1", "b1", "k2", "b2")
        shapes = [np.shape(params[name]) for name in names]
        sizes = [int(np.prod(shape)) for shape in shapes]

        def unflatten(theta):
            pieces = np.split(theta, np.cumsum(sizes)[:-1])
            out = {name: piece.reshape(shape) for name, piece, shape in zip(names, pieces, shapes)}
            out["b2"] = float(out["b2"])
            return out

        last = {}  # the most recent evaluation, so the callback need not recompute its loss

        def loss_and_flat_gradient(theta):
            with np.errstate(over="ignore", invalid="ignore"):  # a wild line-search trial: inf, rejected
                loss, grads = loss_and_grad(U, t, **unflatten(theta))
            last.update(theta=theta.copy(), loss=loss)
            return loss, np.concatenate([np.ravel(grads[name]) for name in names])

        theta = np.concatenate([np.ravel(params[name]) for name in names])
        losses = [net_loss(U, t, **unflatten(theta))]

        def record(theta_now):
            same = "theta" in last and np.array_equal(theta_now, last["theta"])
            losses.append(last["loss"] if same else net_loss(U, t, **unflatten(theta_now)))

        result = minimize(loss_and_flat_gradient, theta, jac=True, method="L-BFGS-B", callback=record,
                          options={"maxiter": int(self.steps), "ftol": LBFGS_FTOL})
        return unflatten(result.x), np.asarray(losses), int(result.nit)

    def pieces(self, X):
        """Each hidden unit's contribution k2_j·σ(X @ k1_j + b1_j), shape (n, hidden): predict(X) is their
        sum plus ``b2_``. The tutorial's "complex curves from simple pieces" (stages/figures.py draws it)."""
        X = self._check_predict_input(X)
        return sigmoid_pieces(X, self.k1_, self.b1_, self.k2_)

    def piece_label(self, j):
        """Unit j as a formula: with one feature the tutorial's k2·σ(k1·x + b1), numbers filled in."""
        if self.n_features_in_ != 1:
            return f"unit {j + 1}: {self.k2_[j]:.3g}·σ(…)"
        sign = "+" if self.b1_[j] >= 0 else "−"
        return f"{self.k2_[j]:.3g}·σ({self.k1_[0, j]:.3g}·x {sign} {abs(self.b1_[j]):.3g})"

    def cost(self, n_samples, n_features, n_predictions=0):
        """The measured cost (a ``Cost``) of one fit on (n_samples, n_features) and of predicting
        ``n_predictions`` rows.

        Measured here (CPU time, 10^3 to 10^6 rows): the loss on the whole training set (before, after,
        the training MSE) holds about 48 bytes a row·unit; autodiff's graph of a batch about 270 bytes a
        row·unit (480 under L-BFGS). A step costs about 45 ns a row·unit of its batch (65 with autodiff),
        1 ns a row·unit·feature, and a fixed 45 µs (the hand-derived gradient) or 165 µs (autodiff, which
        builds its graph each step); an L-BFGS iteration about a step plus 1.5 ms of scipy's own.
        """
        n, units, autodiff, lbfgs = n_samples, int(self.hidden), self.gradients == "autodiff", self.optimizer == "lbfgs"
        batch = min(int(auto_batch_size(self.batch_size, n, self.optimizer)) or n, n)
        graph = (480.0 if lbfgs else 270.0) if autodiff else 0.0
        memory = 48.0 * max(n, n_predictions) * units + graph * batch * units + 16.0 * n * (n_features + 1)
        step = (165e-6 if autodiff else 45e-6) + (65e-9 if autodiff else 45e-9) * batch * units \
            + 1e-9 * batch * units * n_features
        step += 1.5e-3 if lbfgs else 0.0
        whole_set = 45e-9 * (8 * n + n_predictions) * units * (1 + n_features / 45)
        return Cost(memory, step * int(self.steps) + whole_set, "hidden", "steps")

    def predict(self, X):
        """X (n, d) or (n,) for d = 1 -> (n,)."""
        return sum_of_sigmoids(self._check_predict_input(X), self.k1_, self.b1_, self.k2_, self.b2_)

    def to_dict(self):
        """The fitted parameters: k1 (d, hidden), b1 and k2 (hidden,), b2; at 10 significant digits."""
        check_fitted(self)
        return {"n_features_in": int(self.n_features_in_), "k1": portable(self.k1_), "b1": portable(self.b1_),
                "k2": portable(self.k2_), "b2": portable(self.b2_)}

    @classmethod
    def from_dict(cls, params):
        """A fitted net that predicts as the one whose ``to_dict()`` gave ``params``; ValueError if malformed."""
        d = params_int("SigmoidNet", params, "n_features_in", 1)
        b1 = params_array("SigmoidNet", params, "b1", ndim=1)
        k1 = params_array("SigmoidNet", params, "k1", ndim=2, length=d)
        k2 = params_array("SigmoidNet", params, "k2", ndim=1, length=b1.size)
        b2 = float(params_array("SigmoidNet", params, "b2", ndim=0))
        if b1.size < 1 or k1.shape != (d, b1.size):
            raise ValueError(f"SigmoidNet parameters of inconsistent shapes: n_features_in={d}, k1 {k1.shape}, "
                             f"b1 {b1.shape}, k2 {k2.shape}")
        model = cls(hidden=b1.size)
        model.k1_, model.b1_, model.k2_, model.b2_, model.n_features_in_ = k1, b1, k2, b2, d
        return model
