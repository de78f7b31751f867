"""The model contract (fromzero/base.py), held at the pipeline's edge: a model that breaks a promise is one line.

A model of the user's may return None from ``fit``, predict NaN, a column (n, 1) or one value
short, or report a loss that is no mean of squares. The stages check what they are about to use
and say which promise the class broke, naming it and its file, instead of a traceback three calls later.
"""

import numpy as np

from project.errors import UserError
from project.model_store import check_facts

LARGEST_PREDICTION = 1e150  # its square, summed over 10^6 rows, stays finite


def broken(entry, promise):
    return UserError(f"{entry.code}: {entry.class_name} breaks the model contract: {promise} (docs/contributing.md)")


def check_fitted(entry, returned, X):
    """``fit``'s return value: the fitted model itself, on X's width."""
    if not isinstance(returned, entry.model_class):
        raise broken(entry, f"fit() returned {type(returned).__name__}, not the model (end fit with `return self`)")
    if getattr(returned, "n_features_in_", None) != X.shape[1]:
        raise broken(entry, f"fit() must set n_features_in_ = {X.shape[1]} (the columns it was fitted on)")
    iteration = entry.model_class.abilities.iteration
    if iteration:
        try:
            losses = np.asarray(returned.loss_history_, dtype=np.float64)
        except (AttributeError, TypeError, ValueError):
            raise broken(entry, f"abilities.iteration = {iteration!r} promises loss_history_, an array of losses") \
                from None
        if losses.ndim != 1 or losses.size == 0 or not np.all(np.isfinite(losses)) or np.any(losses < 0):
            raise broken(entry, "loss_history_ must be a non-empty 1-D array of finite losses >= 0 (a mean of squares)")
    try:
        check_facts(returned.fit_facts())
    except (AttributeError, TypeError, ValueError) as error:
        raise broken(entry, str(error)) from None
    return returned


def predictions(entry, model, X, where):
    """``model.predict(X)``, held to the contract: shape (n,), finite, of a size whose squares stay finite."""
    y_hat = model.predict(X)
    if not isinstance(y_hat, np.ndarray) or y_hat.shape != (len(X),):
        shape = getattr(y_hat, "shape", type(y_hat).__name__)
        raise broken(entry, f"predict() on {len(X)} rows {where} returned {shape}, not an array of shape ({len(X)},)")
    try:
        y_hat = y_hat.astype(np.float64)
    except (TypeError, ValueError):
        raise broken(entry, f"predict() {where} returned {y_hat.dtype} values, not numbers") from None
    if not np.all(np.isfinite(y_hat)):
        raise broken(entry, f"predict() {where} returned a NaN or infinite value")
    if np.max(np.abs(y_hat), initial=0.0) > LARGEST_PREDICTION:
        raise broken(entry, f"predict() {where} returned {np.max(np.abs(y_hat)):.3g}, beyond ±1e150 (its squared "
                            "errors would overflow)")
    return y_hat
