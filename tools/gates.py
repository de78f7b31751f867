"""The report's gates: what `python -m tools.report --check` holds a change to.

Their keys are params.yaml's `gates`, declared and validated with the rest of the file in
project/schema.py (``gates_schema``); no pipeline stage reads them, so changing a gate reruns nothing
but check_params. This module only evaluates them, against the reference model models.yaml names
(``reference:``); where it names none, the gates that compare with it are skipped, and say so.

Each result is (passed, line): True, False, or None for a gate that was skipped. The lines are the
project's sentences; tools/comment.py shows the model names in them as data.
"""

from tools.markdown import fixed, number, percent, share  # every number bounded: .4g, never .4f of 1e308


def gate_results(registry, current, base, gates, confidence=0.95, source="metrics/evaluate.json",
                 base_source="the base's metrics/evaluate.json", base_problem=None):
    """[(passed, line)] for each declared gate and for regressions against the base.

    ``current`` and ``base`` are the test scores now and at the base ({model: {key: number}}, read by
    tools/readings.py; ``base`` None where the base has none), read from ``source`` and ``base_source``.
    ``base_problem``: why the base's scores could not be read (a failed gate: nothing is compared with
    a base that is broken).
    """
    results = _ratio_gates(registry.reference, current, gates, source)
    results += _beats_reference(registry.reference, current, gates, confidence, source)
    if base_problem is not None:
        return results + [(False, f"no model compared with the base: {base_problem}")]
    if base is None:
        return results
    return results + _regressions(list(registry.entries), current, base, gates, base_source)


def _ratio_gates(reference, current, gates, source):
    results = []
    for model, ratio in sorted(gates["max_mse_ratio"].items()):
        allowed = f"allowed ≤ {ratio:g}×"
        if reference is None:
            results.append((None, f"{model} test MSE at most {ratio:g}× the reference's: skipped, models.yaml "
                                  "names no reference model"))
        elif reference not in current:
            results.append((False, f"{model} test MSE at most {ratio:g}× that of {reference}: no score for "
                                   f"{reference} in {source}"))
        elif model not in current:
            results.append((False, f"{model} test MSE at most {ratio:g}× that of {reference}: no score for it in "
                                   f"{source}"))
        elif current[reference]["mse"] == 0:  # the reference is exact: only an exact model is within any ratio
            mse = current[model]["mse"]
            results.append((mse == 0, f"{model} test MSE is {number(mse)} where that of {reference} is 0 ({allowed})"))
        else:
            value = current[model]["mse"] / current[reference]["mse"]
            results.append((value <= ratio, f"{model} test MSE is {fixed(value, 4)}× that of {reference} ({allowed})"))
    return results


def _beats_reference(reference, current, gates, confidence, source):
    results = []
    for model in gates.get("beats_reference") or []:
        claim = f"{model} beats {reference or 'the reference'} with {percent(confidence)} confidence"
        scores = current.get(model, {})
        if reference is None:
            results.append((None, f"{claim}: skipped, models.yaml names no reference model"))
        elif scores.get("vs_reference_high") is None:
            results.append((False, f"{claim}: no paired interval for it in {source}; run `dvc repro`"))
        else:
            difference, low, high = scores["vs_reference"], scores["vs_reference_low"], scores["vs_reference_high"]
            results.append((high < 0, f"{claim}: test MSE minus that of {reference}: {difference:+.4g}, "
                                      f"interval [{low:+.4g}, {high:+.4g}] (must lie below 0)"))
    return results


def _regressions(names, current, base, gates, base_source):
    tolerance, exempt = gates["regression_tolerance"], gates.get("exempt") or []
    regressions = []
    for model in names:
        old = base.get(model, {}).get("rmse")
        if old is None or model not in current or model in exempt:
            continue
        now = current[model]["rmse"]
        if old == 0:  # no share of 0 measures a rise: any error where the base had none is one
            if now > 0:
                regressions.append((False, f"{model} test RMSE rose from 0 at the base ({base_source}: "
                                           f"details.test.{model}.rmse = 0) to {number(now)}: no tolerance of 0 "
                                           "allows any rise"))
            continue
        rise = (now - old) / old
        if rise > tolerance:
            regressions.append((False, f"{model} test RMSE rose {share(rise)} against the base "
                                       f"({old:.4g} → {now:.4g}; "
                                       f"tolerance {share(tolerance, 0, '')})"))
    held = f"no model's test RMSE rose by more than {share(tolerance, 0, '')} against the base" + \
        (f" (exempt: {', '.join(exempt)})" if exempt else "")
    return regressions or [(True, held)]
