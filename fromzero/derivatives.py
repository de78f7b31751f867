"""Derivatives the simplest way: nudge each parameter a little and watch the loss.

    dL/dp ≈ (L(p + h) - L(p - h)) / (2h)      (central difference, error O(h²))

It needs no calculus, only the loss, but costs two loss evaluations per
parameter, and its error is set by the trade-off between the O(h²) truncation
and the rounding in L(p ± h) (about machine epsilon · |L| / h). It is the oracle
the hand-derived and automatic gradients are tested against.
"""

import numpy as np


def finite_difference_gradient(loss, params, h=1e-6):
    """Central-difference gradient of ``loss`` at ``params``.

    ``params`` is a dict of named parameters, each a numpy array (any shape) or
    a float; ``loss(params)`` takes such a dict and returns a float. Returns a
    dict with the same keys, each gradient shaped like its parameter (a float
    for a float). Costs 2 · (number of scalars) calls of ``loss``.
    """
    gradients = {}
    for name, value in params.items():
        scalar = np.ndim(value) == 0
        flat = np.array(value, dtype=np.float64).ravel()  # a copy: ``params`` is never changed
        gradient = np.empty_like(flat)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + h
            up = loss({**params, name: _shaped(flat, value, scalar)})
            flat[i] = original - h
            down = loss({**params, name: _shaped(flat, value, scalar)})
            flat[i] = original
            gradient[i] = (up - down) / (2.0 * h)
        gradients[name] = float(gradient[0]) if scalar else gradient.reshape(np.shape(value))
    return gradients


def _shaped(flat, like, scalar):
    """``flat`` back in the shape (and float-ness) of the parameter it stands for."""
    return float(flat[0]) if scalar else flat.reshape(np.shape(like)).copy()
