"""Input checks shared by the estimators, with scikit-learn's messages (ValueError, never assert).

scikit-learn is not imported here: it costs about a second, and the pipeline's loop
imports this module on every run. Only the rare paths (predict before fit, a
column-vector y) borrow scikit-learn's own exception and warning classes.
"""

import numbers
import sys
import warnings
from collections.abc import Mapping

import numpy as np


def check_X(X, *, estimator=None, n_features=None):
    """``X`` as a finite float64 array of shape (n, d).

    A 1-D ``X`` is one feature (the tutorial's y = k·x + b): shape (n,) becomes
    (n, 1). ``estimator`` (an object or a name) is named in the messages;
    ``n_features``, when given, is the width the model was fitted on.
    """
    name = _name(estimator)
    X = _as_float64(X, "X")
    one_d = X.ndim == 1
    if X.ndim == 0:
        raise ValueError(f"Expected 2D array, got scalar array instead:\narray={X}.\nReshape your data either "
                         "using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
                         "if it contains a single sample.")
    if one_d:
        X = X[:, np.newaxis]
    if X.ndim != 2:
        raise ValueError(f"Found array with dim {X.ndim}, while dim <= 2 is required by {name}.")
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required by {name}.")
    if X.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required by {name}.")
    _check_finite(X, "X")
    if n_features is not None and X.shape[1] != n_features:
        one_d_hint = " A 1-D X is one feature. Reshape your data with X.reshape(1, -1) if it is a single sample."
        hint = one_d_hint if one_d else ""
        raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting {n_features} features as input."
                         + hint)
    return X


def check_y(y, n_samples, *, estimator=None):
    """``y`` as a finite float64 array of shape (n_samples,); a column vector (n, 1) is flattened with a warning."""
    if y is None:
        raise ValueError(f"{_name(estimator, 'estimator')} requires y to be passed, but the target y is None")
    y = _as_float64(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                      "to (n_samples, ), for example using ravel().", _data_conversion_warning(), stacklevel=3)
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if y.shape[0] != n_samples:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n_samples}, {y.shape[0]}]")
    _check_finite(y, "y")
    return y


def check_X_y(X, y, *, estimator=None):
    """(X (n, d), y (n,)) checked for ``fit``: as ``check_X`` and ``check_y``, y required."""
    if y is None:
        check_y(y, 0, estimator=estimator)  # scikit-learn asks for y before it looks at X
    X = check_X(X, estimator=estimator)
    return X, check_y(y, X.shape[0], estimator=estimator)


def check_fitted(estimator):
    """Raise scikit-learn's NotFittedError unless ``fit`` (or ``from_dict``) has run."""
    if not hasattr(estimator, "n_features_in_"):
        raise _not_fitted_error()(f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
                                  "appropriate arguments before using this estimator.")


def check_int(name, value, low, high=None):
    """``value`` as an int in [low, high]: a whole number (numpy's too), not a bool; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (
            high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {bounds}, got {value!r}")
    return int(value)


def check_positive(name, value, *, zero=False):
    """``value`` as a finite float > 0 (>= 0 with ``zero``), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or not (
            value >= 0 if zero else value > 0):
        raise ValueError(f"{name} must be a finite number {'>= 0' if zero else '> 0'}, got {value!r}")
    return float(value)


def params_array(owner, params, key, *, ndim, length=None):
    """``params[key]`` of a ``to_dict()`` mapping as a finite float64 array, for ``from_dict``; else ValueError."""
    if not isinstance(params, Mapping):
        raise ValueError(f"not a {owner} parameter mapping: {type(params).__name__}")
    try:
        value = np.asarray(params[key], dtype=np.float64)
    except KeyError:
        raise ValueError(f"not a {owner} parameter dict: missing {key!r}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{owner} parameter {key!r} is not numeric: {error}") from None
    if ndim > 0 and value.size == 0:
        raise ValueError(f"{owner} parameter {key!r} is empty")
    if value.ndim != ndim or (length is not None and value.shape[0] != length):
        wanted = "a number" if ndim == 0 else f"{ndim}-D" + (f" with {length} values" if length is not None else "")
        raise ValueError(f"{owner} parameter {key!r} must be {wanted}; got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{owner} parameter {key!r} contains NaN or infinite values")
    return value


def params_int(owner, params, key, low):
    """``params[key]`` (an int, or a whole 0-d array as a .npz file holds it) as an int of at least ``low``,
    for ``from_dict``; else ValueError."""
    value = params.get(key) if isinstance(params, Mapping) else None
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value)
    try:
        return check_int(f"{owner} parameter {key!r}", value, low)
    except ValueError:
        if value is None:
            raise ValueError(f"not a {owner} parameter dict: missing {key!r}") from None
        raise


def portable(values, digits=10):
    """Fitted parameters (a float or an array) at ``digits`` significant digits, for ``to_dict``.

    Far more than any prediction needs, far fewer than the ~16 whose last bits differ with the CPU's
    BLAS kernel and the order of its sums: the same data gives the same stored model on every machine
    (the pipeline's dvc.lock depends on it). Rounded through decimal text, so it is exact and the
    same everywhere; meant for weights (a few thousand values), not for data.
    """
    array = np.asarray(values, dtype=np.float64)
    rounded = np.array([float(f"{value:.{digits}g}") for value in array.ravel()]).reshape(array.shape)
    return float(rounded) if array.ndim == 0 else rounded


def _as_float64(value, name):
    sparse = sys.modules.get("scipy.sparse")  # a scipy sparse matrix exists only if scipy.sparse was imported
    if sparse is not None and sparse.issparse(value):
        raise TypeError(f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to "
                        "convert to a dense numpy array.")
    array = np.asarray(value)
    if array.dtype.kind == "c":  # float64 would silently keep the real part
        raise ValueError(f"Complex data not supported\n{array}\n")
    if array.dtype.kind in "USV":
        raise ValueError("dtype='numeric' is not compatible with arrays of bytes/strings. Convert your data to "
                         "numeric values explicitly instead.")
    return array.astype(np.float64, copy=False)


def _check_finite(array, name):
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):  # one pass, no temporary: the common case
            return
    if np.isnan(array).any():
        raise ValueError(f"Input {name} contains NaN.")
    if np.isinf(array).any():
        raise ValueError(f"Input {name} contains infinity or a value too large for dtype('float64').")


def _name(estimator, default="the model"):
    if estimator is None:
        return default
    return estimator if isinstance(estimator, str) else type(estimator).__name__


class _NotFittedError(ValueError, AttributeError):
    """scikit-learn's NotFittedError (a ValueError and an AttributeError), should scikit-learn be absent."""


def _not_fitted_error():
    try:
        from sklearn.exceptions import NotFittedError  # only on this rare path: importing it costs ~1 s
    except ImportError:
        return _NotFittedError
    return NotFittedError


def _data_conversion_warning():
    try:
        from sklearn.exceptions import DataConversionWarning
    except ImportError:
        return UserWarning
    return DataConversionWarning
