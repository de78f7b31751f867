"""The story's end: the sigmoid net, how computers find its derivatives, and what more columns change."""

from tools.results.runs import CONFIGURATIONS
from tools.results.tables import number
from tools.tutorial.run import ROLES
from tools.tutorial.steps_data import against_reference
from tools.tutorial.steps_lines import seeds_sentence
from tools.tutorial.words import counted, judged, listing, name, picture, score, small, table, whole


def net(run, gradients):
    role, names = "net", run.names
    settings, keys, row = run.settings[role], run.keys[role], run.score(role)
    reference, cv, folds = run.score("reference"), run.cv, run.params["cv"]["folds"]
    hidden, steps = settings["hidden"], run.fit[names[role]].get("n_iter", settings["steps"])
    lowest = min(run.score(other)["mse"] for other in ROLES)
    how = "the chain rule written out by hand" if settings["gradients"] == "manual" else \
        "the from-scratch autodiff engine"
    optimizer = f"gradient descent at rate `{keys['learning_rate']}` = {settings['learning_rate']}" \
        if settings["optimizer"] == "gd" else "L-BFGS (`net.optimizer` = lbfgs)"
    lines = [
        "## The sigmoid net",
        "",
        "A line cannot bend. The tutorial's last model passes the line through a sigmoid, "
        "`σ(z) = 1 / (1 + e^(−z))`, a smooth step from 0 to 1,",
        "",
        picture("The sigmoid σ(z) = 1 / (1 + e^(−z)): a smooth step from 0 to 1, crossing 0.5 at z = 0",
                "tutorial/activation.png"),
        "",
        "and scales and shifts it: `f(x) = k2·σ(k1·x + b1) + b2`. Simple pieces, added up, draw complex curves. "
        f"The pipeline's net adds {counted(hidden, 'such piece')} (`{keys['hidden']}`), each with its own `k1`, "
        "`b1` and `k2`, "
        f"and one `b2`: {gradients.count} parameters, trained by {optimizer} for {whole(steps)} steps, its "
        f"gradient by {how} (`{keys['gradients']}` = {settings['gradients']}). The pieces it learned, and their sum:",
        "",
        picture(f"Top: the {counted(hidden, 'learned piece')} k2·σ(k1·x + b1) along {run.feature}, each a scaled, "
                f"shifted sigmoid. Bottom: their sum plus b2 over the training rows, a curve no single piece draws",
                "tutorial/pieces.png"),
        "",
        f"On the test rows the net scores {score(row)}, the line {score(reference)}"
        + (": the lowest test MSE of the story. " if row["mse"] == lowest else ". ")
        + against_reference(run, role, name(names[role])),
        "",
    ]
    seeds = seeds_sentence(run, role, name(names[role]))
    if "seeds" in row:
        below = row["mse_seeds_max"] < reference["mse"]
        seeds += f" {'Every' if below else 'Not every'} seed scores below the line's {number(reference['mse'])}."
    ours, line = cv.get(names[role]), cv.get(names["reference"])
    if ours and line:
        agrees = "agrees" if (ours["mse_mean"] < line["mse_mean"]) == (row["mse"] < reference["mse"]) else "disagrees"
        seeds += (f" Cross-validation on the training split ({folds} folds) {agrees}: "
                  f"{number(ours['mse_mean'])} ± {number(ours['mse_std'])} against the line's "
                  f"{number(line['mse_mean'])} ± {number(line['mse_std'])}.")
    lines += [seeds.strip(), "",
              picture(f"Left: the net's training MSE over its {whole(steps)} steps, with least squares' as a dashed "
                      f"line. Right: the net's curve and least squares' line over the {run.split['test_rows']} test "
                      "rows",
                      "tutorial/net.png"), ""]
    return lines


def derivatives(run, gradients):
    train_rows = whole(run.split["train_rows"])
    shapes = {name_: " × ".join(map(str, shape)) or "1" for name_, shape in gradients.parameters.items()}
    rows = [[f"`{name_}`", shapes[name_], number(gradients.largest[name_], digits=2)] for name_ in gradients.parameters]

    def digits(count):
        return "exactly" if count == float("inf") else f"to {count} significant digits"

    return [
        "## How computers find derivatives",
        "",
        f"Gradient descent needs the partial derivative of the loss with respect to every parameter: "
        f"{gradients.count} for this net. The tutorial ends by asking how computers find them. Three ways, here "
        f"for the trained net's loss on the {train_rows} training rows:",
        "",
        "- **by hand**: the chain rule written out, one line per step of the forward pass, backwards "
        "(`loss_and_gradients` in `fromzero/backprop.py`);",
        "- **reverse-mode automatic differentiation**: the computer records each operation of the forward pass "
        "and walks them backwards, as PyTorch and JAX do (`fromzero/autodiff.py`);",
        f"- **central finite differences**: nudge each parameter by ±h (h = {small(gradients.step)}) and difference "
        f"the loss: no calculus, but {gradients.evaluations} evaluations of the whole loss for {gradients.count} "
        "parameters (`fromzero/derivatives.py`).",
        "",
        f"The loss there is {number(gradients.loss)}; the largest partial of each parameter, by hand:",
        "",
        table(["parameter", "shape", "largest \\|∂loss/∂p\\|"], rows),
        "",
        f"Autodiff and the chain rule by hand agree {digits(gradients.autodiff_digits)} (measured against the "
        "largest partial): the same sums, rounded in a different order. Finite differences agree with them "
        f"{digits(gradients.difference_digits)}: the rounding error of the loss, divided by h, limits them. What each "
        "costs as the net grows: [derivatives.md](derivatives.md).",
        "",
    ]


def _label(config):
    """What docs/results.md calls a configuration, without its gloss: "`RM` alone", "`RM` and `LSTAT`"."""
    return CONFIGURATIONS[config][0].split(":")[0]


def more_columns(run):
    results = run.results
    lines = ["## What changes with more columns", ""]
    if results is None:
        return lines + ["docs/results.json is missing: run `python -m tools.results` to measure the runs on more "
                        "columns.", ""]
    configurations = {entry["name"]: entry for entry in results["configurations"]}
    shown = [config for config in CONFIGURATIONS if config in configurations]
    names, reference = run.names, run.names["reference"]
    order = [model for model in run.model_order if all(model in configurations[c]["test"] for c in shown)]

    def cell(config, model):
        row, ref = configurations[config]["test"][model], configurations[config]["test"].get(reference)
        if model == reference:
            return f"{number(row['mse'])} (the line)"
        verdict = judged(row, ref["mse"] if ref else None)
        return f"{number(row['mse'])} {'**better**' if verdict == 'better' else verdict}"

    lines += [
        "The tutorial stops at one column. The same pipeline on more, each configuration one "
        "`dvc exp run -S 'data.features=[…]'`, test MSE and the verdict against the line (docs/results.md's: "
        "beyond the noise of the split and of the seeds, or within it):",
        "",
        table(["model", *[_label(config) for config in shown]],
              [[name(model), *[cell(config, model) for config in shown]] for model in order]),
        "",
    ]
    line_scores = [configurations[config]["test"][reference]["mse"] for config in shown]
    falls = all(later < earlier for earlier, later in zip(line_scores, line_scores[1:]))
    said = f"{name(reference)}'s test MSE goes " + " → ".join(number(mse) for mse in line_scores)
    if len(shown) > 1:
        first = configurations[shown[0]]["test"]
        best = min((model for model in order if model in first), key=lambda model: first[model]["mse"])
        if line_scores[1] < first[best]["mse"]:
            said += (f". The plain line on {_label(shown[1])} ({number(line_scores[1])}) beats every "
                     f"model on {_label(shown[0])}, the best of them {name(best)} "
                     f"({number(first[best]['mse'])}): more information beats a fancier model")
    lines.append(f"- **{'The line gains with every column added' if falls else 'The line'}**: {said}.")
    for config in shown:
        test = configurations[config]["test"]
        ref = test[reference]["mse"]
        better = [name(model) for model in order if model != reference and judged(test[model], ref) == "better"]
        worse = [name(model) for model in order if model != reference and judged(test[model], ref) == "worse"]
        label = _label(config)
        lines.append(f"- **{label[:1].upper() + label[1:]}**: beyond the noise, "
                     f"{listing(better) if better else 'no model'} {'beats' if len(better) < 2 else 'beat'} the line"
                     + (f"; {listing(worse)} {'loses' if len(worse) < 2 else 'lose'} to it." if worse else "."))
    search, base, descent = names["random_search"], names["baseline"], names["gd"]
    last = configurations[shown[-1]]["test"]
    if search in last and base in last and last[search]["mse"] > last[base]["mse"]:
        ratio = number(last[search]["mse"] / last[base]["mse"])
        lines.append(f"- **Guessing does not scale**: with {_label(shown[-1])}, {name(search)}'s random integer "
                     f"coefficients score {number(last[search]['mse'])}, {ratio} times {name(base)}'s"
                     + (f"; {name(descent)}, following the partials, reaches {number(last[descent]['mse'])}."
                        if descent in last else "."))
    lines.append("")
    default = configurations.get("default", {}).get("test", {})
    if any(default.get(model) != run.scores.get(model) for model in names.values()):
        lines += ["These runs were measured with the committed `params.yaml`; the run this page describes differs "
                  "from their one-column run, so the sections above and the first column need not agree.", ""]
    lines += ["The numbers are docs/results.json's, measured by `python -m tools.results`; every interval, the spread "
              "over seeds and the cross-validation are in [results.md](results.md).", ""]
    return lines
