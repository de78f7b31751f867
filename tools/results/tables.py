"""One configuration's part of docs/results.md: the command, the table, and two lines of facts.

Per model: the test MSE with its bootstrap interval, the median over seeds with their range, the paired
difference from the reference (models.yaml's ``reference``, e.g. least squares) with its verdict, and the
cross-validated MSE. Model names are models.yaml's (lower-case letters, digits and _: never markup).
"""

from tools.results.runs import CONFIGURATIONS


def number(value, sign=False, digits=3):
    """``digits`` significant digits, thousands grouped, large values as 2.56e6; ``sign`` writes +/-."""
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1e5:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    elif size >= 10 ** digits:
        text = f"{value:,.0f}"
    else:
        text = f"{value:#.{digits}g}".rstrip(".")  # 35.0, not 35: the digits are significant
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
    return f"+{text}" if sign and value > 0 else text


def interval(low, high, sign=False, digits=3):
    return f"[{number(low, sign, digits)}, {number(high, sign, digits)}]"


def digits_apart(*values):
    """The fewest significant digits (3 to 6) that write different values differently."""
    for digits in range(3, 7):
        if len({number(value, digits=digits) for value in values}) == len(set(values)):
            return digits
    return 6


def verdict(row, reference_mse):
    """better / worse / within noise against the reference, by the paired interval and by the seeds' range.

    Better: the paired interval of (MSE - the reference's MSE) lies below 0, and every seed's MSE is
    below the reference's; worse: the mirror image; otherwise within the noise of the split or of
    the seeds. "same predictions" when the difference is exactly 0 on every resample.
    """
    if "vs_reference" not in row:
        return "–"
    if row["vs_reference"] == row["vs_reference_low"] == row["vs_reference_high"] == 0:
        return "same predictions"
    low, high = row.get("mse_seeds_min"), row.get("mse_seeds_max")
    if row["vs_reference_high"] < 0 and (high is None or reference_mse is None or high < reference_mse):
        return "**better**"
    if row["vs_reference_low"] > 0 and (low is None or reference_mse is None or low > reference_mse):
        return "worse"
    return "within noise"


def seeds_cell(row):
    if "seeds" not in row:
        return "– (no seed)"
    if row["mse_seeds_min"] == row["mse_seeds_max"]:
        return f"{number(row['mse_seeds_median'])} (all {row['seeds']} equal)"
    digits = digits_apart(row["mse_seeds_min"], row["mse_seeds_median"], row["mse_seeds_max"])
    return f"{number(row['mse_seeds_median'], digits=digits)} " \
           f"{interval(row['mse_seeds_min'], row['mse_seeds_max'], digits=digits)}"


def fits_line(fit, models):
    """One sentence on the iterative fits: steps run and convergence, trials."""
    parts = []
    for model in models:
        facts = fit.get(model, {})
        if "n_iter" not in facts:
            continue
        if "best_trial" in facts:
            parts.append(f"{model} kept trial {facts['best_trial'] + 1:,} of {facts['n_iter']:,}")
        elif facts.get("converged") is True:
            parts.append(f"{model} converged in {facts['n_iter']:,} steps")
        elif facts.get("converged") is False:
            needed = f" (about {facts['steps_needed']:,} needed)" if facts.get("steps_needed") else ""
            parts.append(f"{model} stopped unconverged after {facts['n_iter']:,} steps{needed}")
        else:
            parts.append(f"{model} ran {facts['n_iter']:,} steps")
    return "Fits (main seed): " + "; ".join(parts) + "." if parts else ""


def spread_line(test, models):
    """The seeded models' spread over seeds, and where the main seed falls in it."""
    parts = []
    for model in models:
        row = test[model]
        if "seeds" in row and row["mse_seeds_min"] != row["mse_seeds_max"]:
            low, high = row["mse_seeds_min"], row["mse_seeds_max"]
            digits = digits_apart(low, high)
            where = "the best" if row["mse"] == low else "the worst" if row["mse"] == high else "inside the range"
            apart = f"{number(100 * (high - low) / low)} % apart; " if low > 0 else ""
            parts.append(f"{model} {number(low, digits=digits)} to {number(high, digits=digits)} "
                         f"({apart}the main seed's is {where})")
    seeds = next((row["seeds"] for row in test.values() if "seeds" in row), None)
    return f"Test MSE over the {seeds} seeds: " + "; ".join(parts) + "." if parts else ""


def possessive(name):
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def render(name, entry, found_settings, models, reference=None):
    """The generated part of one configuration: the command, the table and two lines of facts."""
    test, cv = entry["test"], entry["cv"]
    models = [model for model in models if model in test] + sorted(set(test) - set(models))
    reference_mse = test[reference]["mse"] if reference in test else None
    confidence = f"{found_settings['confidence'] * 100:g} %"
    seeded = next((row["seeds"] for row in test.values() if "seeds" in row), found_settings["seeds"])
    command = "dvc exp run" + "".join(f" -S '{item}'" for item in CONFIGURATIONS[name][1])
    minus = f"minus {possessive(reference.replace('_', ' '))}" if reference else "minus the reference's"
    lines = [f"Run: `{command}` ({CONFIGURATIONS[name][0]}).", "",
             f"| model | test MSE [{confidence}] | over {seeded} seeds: median [min, max] | "
             f"{minus} [paired {confidence}] | verdict | CV MSE, mean ± sd |",
             "|---|---|---|---|---|---|"]
    for model in models:
        row = test[model]
        difference = "–" if "vs_reference" not in row else (
            f"{number(row['vs_reference'], sign=True)} "
            f"{interval(row['vs_reference_low'], row['vs_reference_high'], sign=True)}")
        folds = cv.get(model)
        cross = f"{number(folds['mse_mean'])} ± {number(folds['mse_std'])}" if folds else "–"
        lines.append(f"| {model} | {number(row['mse'])} {interval(row['mse_low'], row['mse_high'])} | "
                     f"{seeds_cell(row)} | {difference} | {verdict(row, reference_mse)} | {cross} |")
    for line in (spread_line(test, models), fits_line(entry["fit"], models)):
        if line:
            lines += ["", line]
    return "\n".join(lines)


def render_all(data, registry):
    """{configuration: its generated part} of a checked docs/results.json, models in models.yaml's order."""
    models = list(registry.entries)
    return {entry["name"]: render(entry["name"], entry, data["settings"], models, registry.reference)
            for entry in data["configurations"]}
