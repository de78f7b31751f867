"""The story's first steps: the data, the lookup table, the k nearest neighbours and the loss.

Each section is a claim, then its evidence; every number in it is read from the run (tools/tutorial/run.py)
or computed from it (facts.py), never written here.
"""

import re

from tools.results.runs import CONFIGURATIONS
from tools.results.tables import number
from tools.tutorial.words import (counted, difference, formula, judged, name, ordinal, percent, picture, score,
                                  share, table, whole)

UNITS = {"MEDV": "the median value of a home, in $1000s"}  # said after the target's name when it is this one
MEANINGS = {"RM": "number of rooms"}  # the tutorial's words for its column


def against_reference(run, role, subject):
    """One or two sentences: ``subject``'s test MSE against the reference's, as docs/results.md judges it."""
    row, reference = run.score(role), run.score("reference")
    verdict = judged(row, reference["mse"])
    line, rows = name(run.names["reference"]), run.split["test_rows"]
    confidence = percent(run.params["evaluate"]["confidence"])
    if verdict == "same predictions":
        return f"{subject} makes the same predictions as {line}: their difference is 0 on every resample."
    said = (f"{subject}'s MSE minus {line}'s, on the same resampled test rows, is {difference(row)} "
            f"(paired {confidence})")
    if verdict == "better":
        tail = " and every seed scores below the line" if "seeds" in row else ""
        return f"{said}: wholly below 0{tail}, a win beyond the luck of the split."
    if verdict == "worse":
        return f"{said}: wholly above 0, a loss beyond the luck of the split."
    reaches = "above" if row["vs_reference"] < 0 else "below"
    seeds = ""
    if "seeds" in row and row["vs_reference_high"] < 0:
        seeds = " (and not every seed beats the line)"
    return (f"{said}. The interval reaches {reaches} 0{seeds}: on {rows} test rows, this difference is within "
            "the noise of the split.")


def data(run):
    split, columns, target, feature = run.split, run.columns, run.target, run.feature
    rows = [[cell if _numeric(cell) else name(cell) for cell in row] for row in run.first_rows]
    unit = f" ({UNITS[target]})" if target in UNITS else ""
    test_size, seed = run.params["data"]["test_size"], run.params["seed"]
    ranking = {column: (correlation, rank) for column, correlation, rank in run.ranking}
    r, rank = ranking.get(feature, (None, None))
    top, r_top, _ = run.ranking[0]
    lines = [
        "## The data",
        "",
        f"The tutorial starts by loading the data into a table: {whole(split['rows'])} rows, {len(columns)} columns. "
        f"Each row is a neighbourhood of Boston; {len(columns) - 1} columns describe it and the last, "
        f"{name(target)}, is the price to predict{unit}.",
        "",
        f"The pipeline sets {whole(split['test_rows'])} rows ({share(test_size, 1)}, drawn with seed {seed}) aside as "
        f"the test split, on which every model is scored, and lets every model learn from the other "
        f"{whole(split['train_rows'])}. The first {len(rows)} rows of the training split:",
        "",
        table([name(column) for column in columns], rows),
        "",
        "Which column moves with the price? The tutorial draws the correlations of every pair of columns "
        "(here on the training split):",
        "",
        picture(f"Heatmap of the correlations between the {len(columns)} columns on the training split; "
                f"{feature} with {target}: {_r(r)}; {top} with {target}: {_r(r_top)}", "../plots/eda/heatmap.png"),
        "",
    ]
    meaning = f" (the average {MEANINGS[feature]} per dwelling)" if feature in MEANINGS else ""
    if rank == 1:
        why = f"{name(feature)}{meaning} is the column most correlated with {name(target)} (r = {_r(r)})."
    else:
        positive = [column for column, correlation, _ in run.ranking if correlation is not None and correlation > 0]
        strongest_positive = positive[:1] == [feature]
        strength = "the strongest positive correlation" if strongest_positive else f"the {ordinal(rank)} strongest"
        falling = r_top is not None and r_top < 0
        why = (f"{name(feature)}{meaning} goes with {name(target)}: r = {_r(r)}, {strength}. It is not the strongest "
               f"link, though: {name(top)} has r = {_r(r_top)}{', a falling one' if falling else ''}. The tutorial "
               f"takes {name(feature)} " + ("as the strongest link that rises with the price" if strongest_positive
                                            else "all the same")
               + (f"; {name(top)} comes back in the last section." if _in_more_columns(top) else "."))
    lines += [why, "", picture(f"Scatter plot of {target} against {feature} on the {whole(split['train_rows'])} "
                               f"training rows, r = {_r(r)}", "../plots/eda/scatter.png"), ""]
    return lines


def _in_more_columns(column):
    """Whether docs/results.md's runs on more columns use ``column``."""
    return any(column in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", item) for _, sets in CONFIGURATIONS.values()
               for item in sets)


def _r(value):
    return "undefined" if value is None else f"{value:.2f}"


def _numeric(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell and cell.lower() not in ("nan", "inf", "-inf", "infinity")


def lookup(run, found):
    split, feature = run.split, name(run.feature)
    return [
        "## A lookup table",
        "",
        f"The tutorial's first model remembers: a dict from {feature} to price, `{{x: price}}`, looked up for a "
        "new house. It cannot answer a house whose value it has not seen.",
        "",
        f"{whole(found.missing)} of the {whole(split['test_rows'])} test rows "
        f"({share(found.missing, split['test_rows'])}) have a value of {feature} that occurs nowhere in the training "
        f"split: the table has no answer for them (Python raises `KeyError`). It also loses {whole(found.dropped)} of "
        f"the {whole(split['train_rows'])} training rows on the way in: a dict keeps one price per key, and those "
        "values repeat.",
        "",
    ]


def knn(run, ties, seen):
    name_, k = run.names["knn"], run.settings["knn"]["k"]
    key, row, split = run.keys["knn"]["k"], run.score("knn"), run.split
    reference = run.score("reference")
    confidence = percent(run.params["evaluate"]["confidence"])
    train_mse = run.fit[name_]["train_mse"]
    lines = [
        f"## The {counted(k, 'nearest neighbour')}",
        "",
        f"The tutorial's fix: for any value, average the prices of the {counted(k, 'training row')} whose "
        f"{name(run.feature)} "
        f"is nearest (`find_price_by_similar`, `{key}` = {k} here). It answers every row, including the "
        f"{whole(int((~seen).sum()))} the table could not.",
        "",
        picture(f"The mean price of the {counted(k, 'nearest neighbour')} along {run.feature}: a jagged curve "
                f"through the training rows, with the test rows the lookup table answers and the "
                f"{int((~seen).sum())} it cannot",
                "tutorial/knn.png"),
        "",
        f"On the test split {name(name_)} scores {score(row)}: the test MSE (the mean squared error, defined "
        f"[below](#the-loss)) with its {confidence} bootstrap interval. The exact line "
        f"({name(run.names['reference'])}, also below) scores {score(reference)}. "
        + against_reference(run, "knn", name(name_)),
        "",
    ]
    if train_mse < row["mse"]:
        lines += [f"On its own training rows it scores {number(train_mse)}: a model that remembers its rows looks "
                  "better on them than it is.", ""]
    nth, next_ = ordinal(k), ordinal(k + 1)
    if ties.rows.size:
        lines += [
            f"**Ties.** For {whole(ties.rows.size)} of the {whole(split['test_rows'])} test rows the {nth} and {next_} "
            f"nearest training rows are equally far (a repeated value, or two values the same distance away on "
            f"either side). Which of them is \"the\" {nth} is then arbitrary: the tutorial's `sorted` keeps "
            f"whichever comes first. {name(name_)} gives the tied rows equal shares of the last place instead, so "
            "its answer does not depend on the order of the rows. Taking the first in the split's order would move "
            f"those {whole(ties.rows.size)} predictions by up to {number(ties.largest_move)} and give a test MSE of "
            f"{number(ties.mse_in_file_order)} instead of {number(row['mse'])}.",
            "",
        ]
    else:
        lines += [f"**Ties.** No test row has its {nth} and {next_} nearest training rows equally far: here the {k} "
                  "nearest are never a matter of the rows' order.", ""]
    return lines


def loss(run):
    base, reference = run.models["baseline"].model, run.models["reference"].model
    names, split = run.names, run.split
    k, b = float(reference.coef_[0]), float(reference.intercept_)
    bootstrap, confidence = run.params["evaluate"]["bootstrap"], percent(run.params["evaluate"]["confidence"])
    return [
        "## The loss",
        "",
        "To say which model is better, the tutorial defines a loss, the mean squared error, "
        "`loss = (1/n) · Σ (ŷ_i − y_i)²`: the average squared miss, in the target's units squared. Lower is better; "
        f"0 is perfect. Every score on this page is this loss on the {whole(split['test_rows'])} test rows, unless "
        "it says training rows.",
        "",
        f"Two models frame all the others. {name(names['baseline'])} ignores the data and predicts the training "
        f"mean, {number(float(base.mean_))}, for every house: test MSE {score(run.score('baseline'))}. "
        f"{name(names['reference'])} is the tutorial's \"method 1\", computed exactly: the line of lowest training "
        f"loss, {formula(run.target, run.feature, k, b)}, with test MSE {score(run.score('reference'))}. A model "
        "worth its trouble scores well below the first, and below the line.",
        "",
        f"On {whole(split['test_rows'])} rows a score is not exact: the brackets hold the central {confidence} of "
        f"the MSEs of {whole(bootstrap)} resamples of the test rows. "
        + against_reference(run, "baseline", f"Even {name(names['baseline'])}"),
        "",
    ]
