"""Scores of a regression, and how sure they are: bootstrap intervals over the test rows."""

import numpy as np

CHUNK_VALUES = 1 << 21  # resampled values held at once (16 MiB), whatever resamples x n is


def regression_scores(y, y_hat):
    """{"mse", "rmse", "mae", "r2"}; r2 is None when undefined (fewer than 2 rows, or y constant)."""
    y, y_hat = _paired(y, y_hat)
    residual = y_hat - y
    mse = float(residual @ residual) / y.size
    centred = y - y.mean()
    total = float(centred @ centred)
    r2 = 1.0 - mse * y.size / total if y.size >= 2 and total > 0 else None  # 1 - SS_res / SS_tot
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(residual))), "r2": r2}


def bootstrap_mse_interval(y, y_hat, *, resamples, seed, confidence=0.95):
    """(low, high): the percentile bootstrap interval of the test MSE.

    Each resample draws n rows with replacement and takes their mean squared
    error; the interval holds the central ``confidence`` share of those means.
    """
    y, y_hat = _paired(y, y_hat)
    means = _resampled_means((y_hat - y) ** 2, resamples, seed)
    return _percentiles(means, confidence)


def paired_bootstrap_difference(y, y_hat_a, y_hat_b, *, resamples, seed, confidence=0.95):
    """(MSE_a - MSE_b, low, high), resampling rows jointly for both models.

    Both models are scored on the same resampled rows, so the luck of the split
    (a few hard rows) cancels from the difference: an interval that excludes 0
    says model a and model b really differ on data like this. The point value
    is the difference on the test rows as they are.
    """
    y, y_hat_a = _paired(y, y_hat_a)
    y, y_hat_b = _paired(y, y_hat_b)
    difference = (y_hat_a - y) ** 2 - (y_hat_b - y) ** 2  # per row: a's squared error minus b's
    means = _resampled_means(difference, resamples, seed)
    return (float(difference.mean()), *_percentiles(means, confidence))


def _paired(y, y_hat):
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    if y.ndim != 1 or y.shape != y_hat.shape or y.size == 0:
        raise ValueError(f"y and y_hat must be non-empty, of shape (n,) and equal; got {y.shape} and {y_hat.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(y_hat))):
        raise ValueError("y or y_hat contains NaN or infinite values")
    return y, y_hat


def _resampled_means(values, resamples, seed):
    """Means of ``values`` over ``resamples`` bootstrap draws (rows with replacement), in bounded memory."""
    resamples, n = int(resamples), values.size
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, CHUNK_VALUES // n)  # depends only on n: the same seed gives the same draws
    for start in range(0, resamples, chunk):
        rows = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        means[start:start + len(rows)] = values[rows].mean(axis=1)
    return means


def _percentiles(means, confidence):
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)
