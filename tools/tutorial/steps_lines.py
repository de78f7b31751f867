"""The story's lines: random search ("method 2") and gradient descent with the hand-derived partials."""

import numpy as np

from tools.results.tables import digits_apart, number
from tools.tutorial.facts import line
from tools.tutorial.steps_data import against_reference
from tools.tutorial.words import coefficient, fenced, formula, name, picture, score, whole


def seeds_sentence(run, role, subject):
    """How the test MSE spreads over the seeds, and where the main seed falls; '' for a model without seeds."""
    row = run.score(role)
    if "seeds" not in row:
        return ""
    seeds, low, high = row["seeds"], row["mse_seeds_min"], row["mse_seeds_max"]
    if low == high:
        return f"Fitted on {seeds} seeds (`seed`, `seed` + 1, …), {subject} scores {number(low)} every time."
    where = "the best" if row["mse"] == low else "the worst" if row["mse"] == high else "inside that range"
    digits = digits_apart(low, row["mse_seeds_median"], high)
    return (f"Over {seeds} seeds (`seed`, `seed` + 1, …) its test MSE runs from {number(low, digits=digits)} to "
            f"{number(high, digits=digits)} (median {number(row['mse_seeds_median'], digits=digits)}); the main "
            f"seed's is {where}.")


def random_search(run):
    role, names = "random_search", run.names
    settings, keys, fitted = run.settings[role], run.keys[role], run.models[role]
    trials, low, high = settings["trials"], settings["low"], settings["high"]
    best = run.fit[names[role]]["best_trial"] + 1  # fit.json counts from 0
    k, b = line(fitted.model)
    _, _, losses = fitted.curve
    improvements = int(np.count_nonzero(np.diff(losses) < 0))
    row, baseline, reference = run.score(role), run.score("baseline"), run.score("reference")
    if row["mse"] < baseline["mse"]:
        versus = (f"below {name(names['baseline'])}'s {number(baseline['mse'])}, but above the exact line's "
                  f"{number(reference['mse'])}") if row["mse"] > reference["mse"] else \
            f"below the exact line's {number(reference['mse'])}"
    else:
        versus = f"no better than {name(names['baseline'])}'s {number(baseline['mse'])}, which ignores the data"
    return [
        "## Random search",
        "",
        f"The tutorial's \"method 2\": draw `k` and `b` at random, {whole(trials)} times (`{keys['trials']}`), each "
        f"an integer in [{low}, {high}] (`{keys['low']}`, `{keys['high']}`), and keep the pair with the lowest "
        "training loss.",
        "",
        picture(f"Left: the best training MSE so far over the {trials} random tries, on a log scale, falling in "
                f"{improvements} jumps to its best at try {best}. Right: that line, k = {coefficient(k)} and b = "
                f"{coefficient(b)}, beside least squares' line over the training rows", "tutorial/random_search.png"),
        "",
        f"The best of the {whole(trials)} tries was try {whole(best)}: {formula(run.target, run.feature, k, b)}, "
        f"with a training MSE of {number(run.fit[names[role]]['train_mse'])}. The first try's was "
        f"{number(float(losses[0]))}; the best so far improved only {whole(improvements)} times in all.",
        "",
        f"On the test rows it scores {score(row)}: {versus}. " + against_reference(run, role, name(names[role])),
        "",
        "That is one seed's luck. " + seeds_sentence(run, role, name(names[role])),
        "",
    ]


def gradient_descent(run):
    role, names = "gd", run.names
    settings, keys, fitted = run.settings[role], run.keys[role], run.models[role]
    facts, row = run.fit[names[role]], run.score(role)
    k, b = line(fitted.model)
    k_exact, b_exact = line(run.models["reference"].model)
    rate = settings["learning_rate"]
    lines = [
        "## Gradient descent",
        "",
        "Guessing ignores what each try says about the next. The partial derivatives of the loss say it: which "
        "way, and how steeply, the loss rises with `k` and with `b`. The tutorial derives them by hand,",
        "",
        fenced("text", ["∂loss/∂k = (2/n) · Σ (k·x_i + b − y_i) · x_i",
                        "∂loss/∂b = (2/n) · Σ (k·x_i + b − y_i)"]),
        "",
        f"and steps against them: `k ← k − lr · ∂loss/∂k`, `b ← b − lr · ∂loss/∂b`, with `{keys['learning_rate']}` "
        f"= {rate} here.",
        "",
    ]
    how = f"from a random line (`seed` = {run.params['seed']})"
    if settings.get("standardize"):
        how += (f" on the standardised column, z = (x − mean) / std (`{keys['standardize']}`), where one rate suits "
                "both partials, writing `k` and `b` back in the column's units at the end")
    steps, cap = facts.get("n_iter"), settings.get("steps")
    if facts.get("converged") is True:
        stop = (f"It converged after {whole(steps)} steps: every partial fell below `{keys['tol']}` = "
                f"{settings['tol']} (`{keys['steps']}` = {whole(cap)} is only a cap).")
    elif facts.get("converged") is False:
        needed = f", and would need about {whole(facts['steps_needed'])}" if facts.get("steps_needed") else ""
        stop = f"It stopped after {whole(steps)} steps without converging (`{keys['steps']}` = {whole(cap)}){needed}."
    else:
        stop = f"It ran {whole(steps)} steps."
    apart = max(abs(k - k_exact), abs(b - b_exact))
    same = "the same line, to every digit stored" if apart == 0 else \
        f"they differ by {number(abs(k - k_exact))} in `k` and {number(abs(b - b_exact))} in `b`"
    lines += [
        picture(f"Left: gradient descent's training MSE over its {whole(steps)} steps, above a dashed line at least "
                f"squares' training MSE. Right: the line it reached, k = {number(k)} and b = {number(b)}, drawn under "
                f"least squares' exact line, k = {number(k_exact)} and b = {number(b_exact)}, over the training rows",
                "tutorial/gradient_descent.png"),
        "",
        f"The pipeline's descent starts {how}. {stop}",
        "",
        f"It reached {formula(run.target, run.feature, k, b, digits=4)}. Least squares' exact line is "
        f"{formula(run.target, run.feature, k_exact, b_exact, digits=4)}: {same}. On the test rows it scores "
        f"{score(row)}. " + against_reference(run, role, name(names[role])),
        "",
        seeds_sentence(run, role, name(names[role])) or "",
        "",
    ]
    return lines
