"""The one place that reads params.yaml: every key's type and range, checked up front.

A stage calls ``read_params()`` before touching any output, gets back plain
nested dicts, and a typo or a bad value becomes one ``StageError`` line naming
the file, the key, the value and what is allowed.
"""

import difflib
import math

import yaml

from stages.cli import StageError

MODEL_NAMES = ("baseline", "least_squares", "knn", "random_search", "gd", "net")


def _number(value):
    # PyYAML (YAML 1.1) reads `1e-3` as the string "1e-3"; accept it as the number meant.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def positive_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None, "a whole number >= 1"
    return value, None


def non_negative_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None, "a whole number >= 0"
    return value, None


def any_int(value):
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "a whole number"
    return value, None


def positive_float(value):
    number = _number(value)
    if number is None or not math.isfinite(number) or number <= 0:
        return None, "a finite number > 0"
    return float(number), None


def fraction(value):
    number = _number(value)
    if number is None or not 0 < number < 1:
        return None, "a number strictly between 0 and 1"
    return float(number), None


def non_negative_float(value):
    number = _number(value)
    if number is None or not math.isfinite(number) or number < 0:
        return None, "a finite number >= 0"
    return float(number), None


def boolean(value):
    if not isinstance(value, bool):
        return None, "true or false"
    return value, None


def column_name(value):
    if not isinstance(value, str) or not value.strip():
        return None, "a column name (text)"
    return value, None


def ratio_per_model(value):
    if not isinstance(value, dict) or not value:
        return None, f"a mapping of model name to a number > 0, models: {', '.join(MODEL_NAMES)}"
    checked = {}
    for model, ratio in value.items():
        if model not in MODEL_NAMES:
            close = difflib.get_close_matches(str(model), MODEL_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return None, f"model names only, not '{model}'{hint}; models: {', '.join(MODEL_NAMES)}"
        number, _ = positive_float(ratio)
        if number is None:
            return None, f"a number > 0 for each model, not {model}: {ratio!r}"
        checked[model] = number
    return checked, None


# Dotted key -> check. A check returns (value, None) or (None, what is allowed).
SCHEMA = {
    "seed": non_negative_int,
    "lr": positive_float,
    "data.csv": column_name,
    "data.target": column_name,
    "data.feature": column_name,
    "data.test_size": fraction,
    "knn.k": positive_int,
    "random_search.trials": positive_int,
    "random_search.low": any_int,
    "random_search.high": any_int,
    "gd.steps": positive_int,
    "gd.standardize": boolean,
    "gd.tol": positive_float,
    "net.hidden": positive_int,
    "net.learning_rate": positive_float,
    "net.steps": positive_int,
    "net.batch_size": non_negative_int,
    "gates.max_mse_ratio": ratio_per_model,
    "gates.regression_tolerance": non_negative_float,
}
SECTIONS = {key.split(".")[0] for key in SCHEMA if "." in key}


def _flatten(tree, prefix=""):
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted in SECTIONS:
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def validate_params(raw, source="params.yaml"):
    """Check a parsed params mapping against SCHEMA; return it with numbers coerced.

    Raises StageError for the first unknown, missing or invalid key, in file order.
    """
    if not isinstance(raw, dict):
        raise StageError(f"{source}: expected a mapping of keys to values, got {type(raw).__name__}")
    flat = dict(_flatten(raw))
    checked = {}
    for key, value in flat.items():
        if key in SECTIONS:  # a section written as a single value
            keys = ", ".join(name for name in SCHEMA if name.startswith(key + "."))
            raise StageError(f"{source}: {key} = {value!r} is not allowed: must be a section with {keys}")
        if key not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA) + sorted(SECTIONS), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise StageError(f"{source}: unknown key '{key}'{hint}")
        result, allowed = SCHEMA[key](value)
        if allowed is not None:
            raise StageError(f"{source}: {key} = {value!r} is not allowed: must be {allowed}")
        checked[key] = result
    missing = [key for key in SCHEMA if key not in checked]
    if missing:
        raise StageError(f"{source}: missing key '{missing[0]}' (see the README's params table)")
    if checked["random_search.low"] > checked["random_search.high"]:
        raise StageError(
            f"{source}: random_search.low = {checked['random_search.low']} is above "
            f"random_search.high = {checked['random_search.high']}: the range must be ordered"
        )
    if checked["data.feature"] == checked["data.target"]:
        raise StageError(f"{source}: data.feature = data.target = {checked['data.target']!r}: "
                         "predicting a column from itself teaches nothing")
    nested = {}
    for key, value in checked.items():
        *sections, leaf = key.split(".")
        node = nested
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return nested


def read_params(path="params.yaml"):
    """Read and validate the params file; StageError on any problem."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except FileNotFoundError:
        raise StageError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise StageError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    return validate_params(raw, source=path)
