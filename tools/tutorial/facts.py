"""What the page computes from the outputs, beyond the metrics: the lookup table, KNN's ties, the gradients.

Each is a pure function of the split and the fitted models (numpy in, numbers out). Quantities that
only rounding sets (how far two gradients are apart) are said as a count of agreeing significant digits:
the last bits of a sum may differ between machines, the digits they agree to do not.
"""

import inspect
import math
from dataclasses import dataclass

import numpy as np

from fromzero.backprop import loss_and_gradients, net_loss, net_loss_and_gradients_autodiff
from fromzero.derivatives import finite_difference_gradient
from fromzero.lookup import lookup_table_report


@dataclass
class Lookup:
    missing: int  # test rows whose value never occurs in the training split
    dropped: int  # training rows the dict loses to a repeated key


def lookup(X_train, X_test):
    """What the tutorial's ``{x: price}`` dict does with this split (fromzero/lookup.py's report)."""
    dropped, miss_rate = lookup_table_report(X_train, X_test)
    return Lookup(missing=int(round(miss_rate * len(X_test))), dropped=dropped)


def seen_in_training(x_train, x_test):
    """(m,) booleans: whether each test value occurs exactly among the training values (one column)."""
    return np.isin(x_test, x_train)


@dataclass
class Ties:
    k: int
    rows: np.ndarray  # test rows whose k-th and (k+1)-th nearest training rows are equally far
    in_file_order: np.ndarray  # (m,) each test row's mean of the first k nearest in the split's order
    largest_move: float  # the largest |file order - shared| over the tied rows (0 without a tie)
    mse_in_file_order: float


def nearest_ties(x_train, y_train, x_test, y_test, k, shared):
    """The ties of the k nearest in one column, and what breaking them by the split's row order would give.

    A tie: the k-th and (k+1)-th smallest distances |x - x_i| are equal, so which rows are "the k
    nearest" is arbitrary. ``shared`` are the model's predictions (its tie rule averages every choice);
    the alternative takes the first rows in the training split's order, as a stable sort would.
    """
    x_train, y_train = np.asarray(x_train, dtype=np.float64), np.asarray(y_train, dtype=np.float64)
    tied, first = [], np.empty(len(x_test))
    for row, x in enumerate(np.asarray(x_test, dtype=np.float64)):
        distance = np.abs(x - x_train)
        order = np.argsort(distance, kind="stable")
        first[row] = y_train[order[:k]].mean()
        if k < len(order) and distance[order[k - 1]] == distance[order[k]]:
            tied.append(row)
    tied = np.array(tied, dtype=np.int64)
    alternative = np.where(np.isin(np.arange(len(x_test)), tied), first, shared)
    move = float(np.max(np.abs(first[tied] - shared[tied]))) if tied.size else 0.0
    residual = alternative - np.asarray(y_test, dtype=np.float64)
    return Ties(k, tied, alternative, move, float(residual @ residual) / len(residual))


def line(model):
    """(k, b) of a fitted model whose answer is a line in one column."""
    return float(model.coef_[0]), float(model.intercept_)


def agreeing_digits(a, b):
    """Significant digits to which two gradients agree, relative to the larger's largest entry (inf: equal)."""
    difference = max(float(np.max(np.abs(np.asarray(a[name]) - np.asarray(b[name])))) for name in a)
    scale = max(float(np.max(np.abs(np.asarray(a[name])))) for name in a)
    if difference == 0 or scale == 0:
        return math.inf if difference == 0 else 0
    return max(0, int(math.floor(-math.log10(difference / scale))))


@dataclass
class Gradients:
    parameters: dict  # {name: shape}
    largest: dict  # {name: the largest |partial| of that parameter, by hand}
    count: int  # scalars in all
    loss: float
    autodiff_digits: float  # significant digits autodiff agrees to with the hand-derived gradient
    difference_digits: float  # ... and central finite differences
    step: float  # the finite differences' h
    evaluations: int  # loss evaluations finite differences took


def net_gradients(net, X, y):
    """The fitted net's loss gradient on (X, y), three ways: the chain rule by hand, autodiff, finite differences."""
    params = {"k1": net.k1_, "b1": net.b1_, "k2": net.k2_, "b2": net.b2_}
    loss, hand = loss_and_gradients(X, y, **params)
    _, auto = net_loss_and_gradients_autodiff(X, y, **params)
    calls = []

    def counted_loss(values):
        calls.append(1)
        return net_loss(X, y, **values)

    numeric = finite_difference_gradient(counted_loss, params)
    step = inspect.signature(finite_difference_gradient).parameters["h"].default
    return Gradients(parameters={name: np.shape(value) for name, value in params.items()},
                     largest={name: float(np.max(np.abs(hand[name]))) for name in params},
                     count=sum(int(np.size(value)) for value in params.values()), loss=loss,
                     autodiff_digits=agreeing_digits(hand, auto), difference_digits=agreeing_digits(hand, numeric),
                     step=step, evaluations=len(calls))
