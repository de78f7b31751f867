"""The sigmoid, the tutorial's smooth step: shared by the net and the autodiff engine."""

import numpy as np


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z), computed without overflow for any finite z.

    e^-z overflows for z < -709, so the negative half uses the equal form
    e^z / (1 + e^z), whose exponent is never positive.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
