"""What changed against the base, as data: the leaderboard, and whether each model's move is real.

``leaderboard`` ranks the models by test RMSE with their change against the base; ``paired_moves``
tells a real move from the noise of the split (a paired bootstrap of per-row squared errors on the
same test rows) and of the seed (the range the base reached over its seeds). No Markdown here:
tools/comment.py writes it. The scores and predictions come from tools/readings.py, checked.
"""

import math


def changed_rows(diff):
    """Rows (file, key, old, new, change) of a `dvc params/metrics diff --json`, changed only."""
    rows = []
    for path, entries in sorted(diff.items()):
        for key, entry in sorted(entries.items()):
            old, new = entry.get("old"), entry.get("new")
            if old == new:
                continue
            change = entry.get("diff")
            if isinstance(old, bool) or isinstance(new, bool):
                change = None  # DVC subtracts booleans; a flip is clearer without a number
            elif change is None and isinstance(old, (int, float)) and isinstance(new, (int, float)):
                change = new - old
            rows.append((path, key, old, new, change))
    return rows


def leaderboard(names, current, base, cv=None, moves=None, baseline=None):
    """The models ``names`` ranked by test RMSE, one dict each.

    Keys: model, rmse, base_rmse, base_mse, change (of the RMSE, vs base), vs_baseline (of the RMSE,
    vs models.yaml's ``baseline``), r2, mse, mse_low, mse_high, vs_reference (difference, low, high)
    or None, cv (mean, std) or None, and move (see ``paired_moves``) or None.
    """
    baseline_rmse = current.get(baseline, {}).get("rmse") if baseline is not None else None
    rows = []
    for model in names:
        if model not in current:
            continue
        scores = current[model]
        rmse = scores["rmse"]
        before = (base or {}).get(model, {})
        old = before.get("rmse")
        vs_reference = tuple(scores.get(key) for key in ("vs_reference", "vs_reference_low", "vs_reference_high"))
        folds = (cv or {}).get(model)
        rows.append({
            "model": model, "rmse": rmse, "base_rmse": old, "base_mse": before.get("mse"),
            "change": None if old in (None, 0) else (rmse - old) / old,
            "vs_baseline": None if not baseline_rmse else (rmse - baseline_rmse) / baseline_rmse,
            "r2": scores.get("r2"), "mse": scores["mse"],
            "mse_low": scores.get("mse_low"), "mse_high": scores.get("mse_high"),
            "vs_reference": vs_reference if None not in vs_reference else None,
            "cv": (folds["mse_mean"], folds.get("mse_std")) if folds and "mse_mean" in folds else None,
            "move": (moves or {}).get(model),
        })
    return sorted(rows, key=lambda row: row["rmse"])


def leader(board, baseline=None):
    """The best-ranked model that learned something (models.yaml's baseline only predicts the mean)."""
    return next((row["model"] for row in board if row["model"] != baseline), board[0]["model"])


def exempt_moves(board, gates):
    """{model: rise} of the models in ``gates.exempt`` whose test RMSE rose beyond the tolerance."""
    exempt, tolerance = gates.get("exempt") or [], gates["regression_tolerance"]
    return {row["model"]: row["change"] for row in board
            if row["model"] in exempt and row["change"] is not None and row["change"] > tolerance}


# ---- is a move real? -------------------------------------------------------------------------

def same_test_rows(base_predictions, predictions):
    """Whether two Predictions score the same test rows, with the same actual values, in the same order."""
    import numpy as np

    return (np.array_equal(base_predictions.rows, predictions.rows)
            and np.array_equal(base_predictions.actual, predictions.actual))


def paired_moves(base_predictions, predictions, current, base, settings, names=None):
    """{model: move} for the models whose test score moved against the base.

    A move is {"verdict": "yes, worse" | "yes, better" | "within noise" | "within seed noise" |
    "not paired", "difference", "low", "high"} (MSE now minus the base's on the same test rows,
    and its paired bootstrap interval), from fromzero.metrics.paired_bootstrap_difference.
    ``settings`` holds resamples, seed and confidence. A model that did not move,
    or that the base does not have, gets no entry. The predictions are tools/readings.Predictions.

    Two lucks are ruled out before a move is called real: the split's (the paired interval
    holds 0: "within noise") and the seed's (the model's MSE now lies within the range its
    base reached over its seeds, mse_seeds_min to mse_seeds_max: "within seed noise").
    """
    import numpy as np

    from fromzero.metrics import paired_bootstrap_difference

    if base_predictions is None or base is None:
        return {}
    paired = same_test_rows(base_predictions, predictions)
    moves = {}
    for model in names or list(predictions.models):
        if model not in predictions.models or model not in base:
            continue
        if not paired:  # other rows: every score moves, and no per-row comparison exists
            if current.get(model, {}).get("mse") != base[model].get("mse"):
                moves[model] = {"verdict": "not paired", "difference": None, "low": None, "high": None}
            continue
        now, before = predictions.models[model], base_predictions.models.get(model)
        if before is None or np.array_equal(now, before) or not (np.isfinite(now).all() and np.isfinite(before).all()):
            continue  # no base predictions of it, the same predictions on the same rows, or rows it did not predict
        with np.errstate(all="ignore"):  # 1e200 squared: an infinite difference, said as no verdict
            difference, low, high = paired_bootstrap_difference(
                predictions.actual, now, before,
                resamples=settings["resamples"], seed=settings["seed"], confidence=settings["confidence"])
        if not all(map(math.isfinite, (difference, low, high))):
            continue
        verdict = "yes, worse" if low > 0 else "yes, better" if high < 0 else "within noise"
        if verdict.startswith("yes") and within_seed_spread(current.get(model, {}), base[model]):
            verdict = "within seed noise"
        moves[model] = {"verdict": verdict, "difference": difference, "low": low, "high": high}
    return moves


def within_seed_spread(now, before):
    """Whether the test MSE now lies within the range the base reached over its seeds (False if it has none)."""
    low, high = before.get("mse_seeds_min"), before.get("mse_seeds_max")
    return low is not None and high is not None and now.get("mse") is not None and low <= now["mse"] <= high
