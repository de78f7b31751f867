"""The report's gates: what `python -m tools.report --check` holds a change to, read from params.yaml's `gates`.

They are validated here, where the report reads them; check_params calls ``schema()`` so a typo
fails `dvc repro` too. No pipeline stage reads them, so changing a gate reruns nothing but
check_params.
"""

import difflib

from project.params import non_negative_float, positive_float

REFERENCE = "least_squares"  # the yardstick of the ratio gates and of vs_ls in metrics/evaluate.json


def _unknown(model, names):
    close = difflib.get_close_matches(str(model), names, n=1)
    return f" (did you mean '{close[0]}'?)" if close and close[0] != model else ""


def ratio_per_model(names):
    def check(value):
        if not isinstance(value, dict) or not value:
            return None, f"a mapping of model name to a number > 0, models: {', '.join(names)}"
        checked = {}
        for model, ratio in value.items():
            if model not in names:
                return None, f"model names only, not '{model}'{_unknown(model, names)}; models: {', '.join(names)}"
            number, _ = positive_float(ratio)
            if number is None:
                return None, f"a number > 0 for each model, not {model}: {ratio!r}"
            checked[model] = number
        return checked, None
    return check


def model_list(names, allow_reference=True):
    allowed = [name for name in names if allow_reference or name != REFERENCE]

    def check(value):
        if not isinstance(value, list):
            return None, f"a list of model names (may be empty: []), models: {', '.join(allowed)}"
        for model in value:
            if model not in allowed:
                return None, f"model names other than {REFERENCE}, not '{model}'{_unknown(model, names)}; " \
                             f"models: {', '.join(allowed)}" if not allow_reference else \
                       f"model names, not '{model}'{_unknown(model, names)}; models: {', '.join(allowed)}"
        return value, None
    return check


def schema(names):
    """{dotted key: check} of the gates, for the models ``names`` (models.yaml's)."""
    return {
        "gates.max_mse_ratio": ratio_per_model(names),
        "gates.regression_tolerance": non_negative_float,
        "gates.beats_least_squares": model_list(names, allow_reference=False),
        "gates.exempt": model_list(names),
    }


def percent(confidence):
    return f"{confidence * 100:g} %"


def gate_results(names, current, base, gates, confidence=0.95, source="metrics/evaluate.json"):
    """[(passed, line)] for each declared gate and for regressions against the base.

    ``current`` and ``base`` are metrics/evaluate.json now and at the base revision (None if it has
    none); a model in ``gates["exempt"]`` is not held to the regression tolerance.
    """
    results = []
    reference = current[REFERENCE]["mse"]
    for model, ratio in sorted(gates["max_mse_ratio"].items()):
        if model not in current:
            results.append((False, f"{model} test MSE at most {ratio:g}× least squares': no score for it in {source}"))
            continue
        value = current[model]["mse"] / reference
        results.append((value <= ratio, f"{model} test MSE is {value:.4f}× least squares' (allowed ≤ {ratio:g}×)"))
    for model in gates.get("beats_least_squares") or []:
        scores = current.get(model, {})
        if scores.get("vs_ls_high") is None:
            results.append((False, f"{model} beats least squares with {percent(confidence)} confidence: "
                                   f"no paired interval for it in {source}; run `dvc repro`"))
            continue
        difference, low, high = scores["vs_ls"], scores["vs_ls_low"], scores["vs_ls_high"]
        results.append((high < 0, f"{model} beats least squares with {percent(confidence)} confidence: "
                                  f"test MSE minus least squares' {difference:+.4g}, interval "
                                  f"[{low:+.4g}, {high:+.4g}] (must lie below 0)"))
    if base is None:
        return results
    tolerance, exempt = gates["regression_tolerance"], gates.get("exempt") or []
    regressions = []
    for model in names:
        old = base.get(model, {}).get("rmse")
        if old is None or model not in current or model in exempt:
            continue
        rise = (current[model]["rmse"] - old) / old
        if rise > tolerance:
            regressions.append((False, f"{model} test RMSE rose {rise:+.2%} against the base "
                                       f"({old:.4g} → {current[model]['rmse']:.4g}; tolerance {tolerance:.0%})"))
    held = f"no model's test RMSE rose by more than {tolerance:.0%} against the base" + \
        (f" (exempt: {', '.join(exempt)})" if exempt else "")
    results += regressions or [(True, held)]
    return results
