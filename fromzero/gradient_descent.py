"""The tutorial's gradient descent on the line (a plane for d > 1), with its hand-derived partials."""

from typing import NamedTuple

import numpy as np

from fromzero.base import Abilities, Cost
from fromzero.errors import DivergenceError, SettingError
from fromzero.linear import LinearPrediction
from fromzero.settings import SEED, Flag, Real, Whole
from fromzero.validation import check_X, check_X_y

EPS = np.finfo(np.float64).eps


def check_descent(step, loss, previous_loss, slack=0.0):
    """Raise DivergenceError when a loss is non-finite or grew by more than ``slack`` since the last step.

    On a convex quadratic a rate below the stable limit never increases the
    loss, so growth means the rate is too large. ``slack`` is the rounding error
    the two computed losses may carry (``moment_rounding``): once the fit is
    exact to rounding, the computed loss only jitters by that much.
    """
    if not np.isfinite(loss):
        raise DivergenceError(step, loss, "became non-finite")
    if loss > previous_loss + slack:
        raise DivergenceError(step, loss, "grew")


class Moments(NamedTuple):
    """What the MSE of a plane needs to know about the data (z (n, d), y (n,)): one pass, then no more."""

    mean: np.ndarray  # (d,) mean of each column
    y_mean: float
    cov: np.ndarray  # (d, d) S = Zcᵀ Zc / n, Zc = Z - mean
    cross: np.ndarray  # (d,) s = Zcᵀ (y - y_mean) / n
    y_var: float


def moments(Z, y):
    Z, y = check_X_y(Z, y, estimator="moments")
    mean, y_mean = Z.mean(axis=0), float(y.mean())
    Zc, yc = Z - mean, y - y_mean
    return Moments(mean, y_mean, Zc.T @ Zc / len(y), Zc.T @ yc / len(y), float(yc @ yc) / len(y))


def moment_loss_and_gradient(coef, b, m):
    """The same (loss, grad_coef, grad_b) as linear_loss_and_gradient, from the data's moments.

    With e = b + mean·coef - y_mean (the mean residual), r = Zc @ coef + e - yc, so
        loss     = mean(r²)      = coefᵀ S coef - 2 coefᵀ s + var(y) + e²
        dL/dcoef = 2/n · Zᵀ r    = 2 (S coef - s) + 2 e · mean
        dL/db    = 2/n · Σ r     = 2 e
    The sums over rows don't change between steps, so a step costs (d + 1)²
    multiplications instead of 2·n·(d + 1): at 8·10^5 rows and d = 12, 2000 steps
    take 0.25 s instead of 30 s. Centring first keeps the rounding at the size of
    the loss, not of the raw columns' means. A test holds this against the
    tutorial's form, linear_loss_and_gradient, and central differences.
    """
    e = b + float(m.mean @ coef) - m.y_mean
    s_coef = m.cov @ coef
    loss = float(coef @ s_coef) - 2.0 * float(coef @ m.cross) + m.y_var + e * e
    return loss, 2.0 * (s_coef - m.cross) + 2.0 * e * m.mean, 2.0 * e


def moment_rounding(coef, b, m, abs_cov):
    """Bounds on the rounding error of moment_loss_and_gradient's (loss, grad_coef (d,), grad_b) at (coef, b).

    Each is a sum of about d + 3 products, so its computed value can be off by
    about (d + 4)·eps times the sum of the products' sizes, plus the error of e
    carried through e² and 2e·mean. At an exact fit the loss is a difference of
    numbers the size of var(y): it cannot be computed closer to 0 than ~eps·var(y).
    ``abs_cov`` is |S|, elementwise.
    """
    u = (coef.size + 4) * EPS
    c, mean, cross = np.abs(coef), np.abs(m.mean), np.abs(m.cross)
    a = abs_cov @ c  # (d,) Σ_j |S_ij·coef_j|
    e = b + float(m.mean @ coef) - m.y_mean
    e_err = u * (abs(b) + float(mean @ c) + abs(m.y_mean))
    loss_err = u * (float(c @ a) + 2.0 * float(c @ cross) + m.y_var + e * e) + 2.0 * abs(e) * e_err
    return loss_err, 2.0 * u * (a + cross + abs(e) * mean) + 2.0 * e_err * mean, 2.0 * e_err


def largest_stable_learning_rate(Z):
    """The rate below which descent on the plane's MSE converges: 2 / the loss's largest curvature.

    Z is (n, d) or (n,). The loss is quadratic in w = (coef, b) with Hessian
    H = 2/n·[Z, 1]ᵀ[Z, 1]; a step of rate η multiplies the error along an
    eigenvector of curvature λ by (1 - η·λ), which shrinks only while η < 2 / λ.
    """
    Z = check_X(Z, estimator="largest_stable_learning_rate")
    return _stable_rate(moments(Z, np.zeros(len(Z))))


def _stable_rate(m):
    d = m.mean.size
    hessian = np.empty((d + 1, d + 1))  # 2/n·[Z, 1]ᵀ[Z, 1] = 2·[[S + mean meanᵀ, mean], [meanᵀ, 1]]
    hessian[:d, :d] = 2.0 * (m.cov + np.outer(m.mean, m.mean))
    hessian[:d, d] = hessian[d, :d] = 2.0 * m.mean
    hessian[d, d] = 2.0
    return float(2.0 / np.linalg.eigvalsh(hessian)[-1])


class GradientDescentLinear(LinearPrediction):
    """Fit ``y = X @ coef + intercept`` by gradient descent on the mean squared error.

    With ``standardize`` the descent runs on z_j = (x_j - mean_j) / std_j (a
    constant column keeps std 1): the intercept decouples from the coefficients
    and every parameter's own curvature is 2, so one learning rate suits them
    all (correlated features still leave flatter directions: the Hessian is
    2·[[corr, 0], [0, 1]]); coef and intercept are mapped back to the original
    units afterwards.

    The descent runs on y / std(y) (always: scaling y changes no stable rate),
    so its partials are in units of the target's spread. It stops early,
    converged, once every partial is below ``tol`` in those units, whatever the
    target's own units, or once floating point allows no further progress: the
    loss stalls while each partial is within its own rounding error or too small
    to move its parameter. A ``tol`` above every partial at the start would stop
    the descent before its first step: ``fit`` refuses it.

    Attributes after ``fit``: ``coef_`` (d,), ``intercept_`` (original units),
    ``loss_history_`` (training MSE before each step, then the final one; shape
    (n_iter_ + 1,)), ``n_iter_`` (steps run), ``converged_``, ``n_features_in_``,
    and ``steps_needed_``: when the descent ran out of steps, about how many in
    all would bring every partial below ``tol`` at the rate they were shrinking
    (None if they had stopped shrinking; equal to ``n_iter_`` when converged).
    """

    # Too large a rate diverges; standardizing changes the largest stable rate.
    abilities = Abilities(iteration="step", converges=True, diverges_with=("learning_rate", "standardize"))
    settings = {"learning_rate": Real(0), "steps": Whole(1), "standardize": Flag(), "tol": Real(0, low_inclusive=True),
                "seed": SEED}

    def __init__(self, *, learning_rate=0.01, steps=100_000, standardize=True, tol=1e-10, seed=0):
        self.learning_rate = learning_rate
        self.steps = steps
        self.standardize = standardize
        self.tol = tol
        self.seed = seed

    def cost(self, n_samples, n_features, n_predictions=0):
        """The measured cost of one fit (a ``Cost``).

        A step works on the data's moments, (d + 1)² numbers whatever the rows (about 20 µs here, with
        its Python), and keeps one loss a step; the moments cost one pass over the data, about 40 ns a
        row plus 1.8 ns a row·(d + 1)² (measured, CPU time, 10^5 and 8·10^5 rows × 1 and 12 features).
        """
        steps = int(self.steps)
        return Cost(8.0 * steps + 8.0 * n_samples * (n_features + 1),
                    20e-6 * steps + n_samples * (40e-9 + 1.8e-9 * (n_features + 1) ** 2), "steps", "steps")

    def fit(self, X, y, *, progress=None):
        """``progress``, if given, wraps the loop over steps (e.g. a tqdm bar): ``progress(range(...))``."""
        X, y = check_X_y(X, y, estimator=self)
        self.checked_settings()
        d = X.shape[1]
        data = moments(X, y)
        # The descent runs on y / std(y), so its loss is in units of var(y) and `tol` is relative to the
        # target's own scale: a price in dollars or in units of 1e-40 stops at the same relative accuracy.
        y_scale = float(np.sqrt(data.y_var)) if data.y_var > 0 else 1.0
        data = data._replace(y_mean=data.y_mean / y_scale, cross=data.cross / y_scale, y_var=data.y_var / y_scale**2)
        if self.standardize:  # z = (x - shift) / scale: mean 0, std 1, so S becomes the correlations
            shift, scale = data.mean, np.sqrt(np.diag(data.cov))
            scale[scale == 0.0] = 1.0
            data = data._replace(mean=np.zeros(d), cov=data.cov / np.outer(scale, scale), cross=data.cross / scale)
        else:
            shift, scale = np.zeros(d), np.ones(d)
        # The tutorial starts from random.random() for each parameter; seeded here.
        start = np.random.default_rng(self.seed).random(d + 1)
        try:
            coef, b, losses, converged, partials = self._descend(start[:d], start[d], data, progress)
        except DivergenceError as error:  # said in the target's units, with the rate that would be stable
            raise DivergenceError(error.step, error.loss * y_scale * y_scale, error.reason, _stable_rate(data),
                                  value=self.learning_rate) from None
        # y / y_scale = Σ_j coef_j·(x_j - shift_j)/scale_j + b, so
        # y = Σ_j (y_scale·coef_j/scale_j)·x_j + y_scale·(b - Σ_j coef_j·shift_j/scale_j)
        self.coef_ = coef * y_scale / scale
        self.intercept_ = float(y_scale * b - self.coef_ @ shift)
        # A mean of squares, computed from moments: at an exact fit its rounding may dip below 0; it is not.
        self.loss_history_ = np.maximum(np.asarray(losses), 0.0) * (y_scale * y_scale)
        self.n_iter_ = len(losses) - 1
        self.converged_ = bool(converged)
        self.steps_needed_ = self.n_iter_ if converged else _steps_needed(partials, self.tol)
        self.n_features_in_ = d
        return self

    def _descend(self, coef, b, data, progress):
        """Steps until converged or out of steps: (coef, b, losses, converged, the largest partial at each
        step), on z's scale."""
        losses, partials, steps, rate, tol = [], [], int(self.steps), self.learning_rate, self.tol
        abs_cov, previous = np.abs(data.cov), np.inf
        with np.errstate(over="ignore", invalid="ignore"):  # a non-finite loss: check_descent catches it
            for step in (progress or iter)(range(steps + 1)):
                loss, grad_coef, grad_b = moment_loss_and_gradient(coef, b, data)
                largest = max(np.abs(grad_coef).max(), abs(grad_b))
                new_coef, new_b = coef - rate * grad_coef, b - rate * grad_b  # w <- w - η·dL/dw
                at_floor = False
                if not loss < previous:  # no progress: divergence, or the loss at its rounding floor
                    error, coef_error, b_error = moment_rounding(coef, b, data, abs_cov)
                    check_descent(step, loss, previous, 2.0 * error)  # either loss may be off by `error`
                    # At the floor when each partial is lost in its own rounding or too small to move its parameter.
                    at_floor = (np.all((np.abs(grad_coef) <= coef_error) | (new_coef == coef))
                                and (abs(grad_b) <= b_error or new_b == b))
                if step == 0 and largest < tol:
                    raise SettingError("tol", tol, f"tol = {tol:g} is above every partial derivative at the start "
                                       f"(the largest is {largest:.3g}, in units of the target's variance): the descent "
                                       "would stop before its first step", "lower")
                losses.append(loss)
                partials.append(largest)
                previous = loss
                converged = largest < tol or at_floor
                if converged or step == steps:
                    return coef, b, losses, converged, partials
                coef, b = new_coef, new_b


def _steps_needed(partials, tol):
    """About how many steps in all bring the largest partial below ``tol``, extrapolating its decay.

    Near the minimum of a quadratic the partials shrink geometrically, by the slowest direction's
    factor |1 - η·λ_min| a step; the log of the largest partial over the last half of the run is a line
    whose slope is that rate. None if they were not shrinking.
    """
    if not tol > 0:  # only the rounding floor stops it: no partial size to aim at
        return None
    tail = np.log(np.asarray(partials[len(partials) // 2:], dtype=np.float64))
    if len(tail) < 2 or not np.all(np.isfinite(tail)):
        return None
    slope = np.polyfit(np.arange(len(tail)), tail, 1)[0]
    if not slope < 0:
        return None
    return int(len(partials) - 1 + np.ceil((np.log(tol) - tail[-1]) / slope))
