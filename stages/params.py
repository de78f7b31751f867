"""The one place that reads params.yaml: every key's type and range, checked up front.

A stage calls ``read_params()`` before touching any output, gets back plain
nested dicts, and a typo or a bad value becomes one ``StageError`` line naming
the file, the key, the value and what is allowed.
"""

import difflib
import math

import yaml

from stages.errors import StageError


# Resource bounds: every key that sizes work has a ceiling, so no value can run away.
# Measured on this machine (AMD EPYC, 2 cores shared) on the Boston split (404 training rows, one
# feature); the stage that knows the real rows checks the data-dependent cost with cli.check_work.
SEED_LIMIT = 2**32  # numpy's RandomState (the split) takes seeds below 2**32
SEARCH_RANGE = 10**9  # |random_search.low/high|: d·1e9·1e50 (the largest value load accepts) squares finitely
BOUNDS = {
    # key: (the most allowed, what that most costs here)
    "random_search.trials": (10**7, "about 70 s and 0.2 GiB on 404 rows: 7 us and 16 bytes a trial"),
    "net.hidden": (10**4, "0.17 s and 155 MiB a step on 404 rows: 40 ns and 40 bytes a row·unit"),
    "net.steps": (10**6, "about 80 s with 4 units on 404 rows: 78 us a step"),
    "gd.steps": (10**6, "about 6 s and 8 MiB of loss history on 404 rows: 6 us a step"),
    "cv.folds": (100, "100 fits of every model, about 30 s on 404 rows"),
    "seeds": (100, "100 fits of every seeded model, about 10 s for the net on 404 rows"),
    "evaluate.bootstrap": (10**5, "about 1 s a model on 102 test rows: 9 ns a resample·row"),
}


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


def _whole(value):
    """``value`` as an int if it is a whole number, else None. ``3.0`` counts: DVC compares params by value,
    so after `dvc exp run -S knn.k=3.0` it reruns nothing (3.0 == 3) and records 3.0; refusing it here would
    only break the next run."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def positive_int(value):
    number = _whole(value)
    if number is None or number < 1:
        return None, "a whole number >= 1"
    return number, None


class TooLarge(str):
    """What is allowed, for a value that is of the right kind but sizes more work than the machine can do."""


def bounded_int(low, high):
    """A whole number in [low, high]; above ``high`` the message says what it would cost."""
    def check(value, key=None):
        number = _whole(value)
        if number is None or number < low:
            return None, f"a whole number >= {low}"
        if number > high:
            cost = f" (which takes {BOUNDS[key][1]})" if key in BOUNDS else ""
            return None, TooLarge(f"at most {high}{cost}")
        return number, None
    check.takes_key = True
    return check


def seed(value):
    number = _whole(value)
    if number is None or not 0 <= number < SEED_LIMIT:
        return None, f"a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1, the split's limit)"
    return number, None


def search_bound(value):
    number = _whole(value)
    if number is None or abs(number) > SEARCH_RANGE:
        return None, f"a whole number from {-SEARCH_RANGE} to {SEARCH_RANGE}"
    return number, None


def batch_size(value):
    number = _whole(value)
    if value == "auto":
        return value, None
    if number is not None and number >= 0:
        return number, None
    return None, "'auto', 0 (full batch) or a whole number of rows >= 1"


def choice(*options):
    def check(value):
        if value not in options:
            return None, "one of " + ", ".join(options)
        return value, None
    return check


def bounded_fraction(low, high):
    def check(value):
        number = _number(value)
        if number is None or not low <= number <= high:
            return None, f"a number from {low} to {high}"
        return float(number), None
    return check


def column_names(value):
    allowed = "a list of column names, e.g. [RM] or [RM, LSTAT]"
    if not isinstance(value, list) or not value:
        return None, allowed
    for name in value:
        if not isinstance(name, str) or not name.strip():
            return None, f"{allowed}; {name!r} is not a name"
    repeated = sorted({name for name in value if value.count(name) > 1})
    if repeated:
        return None, f"{allowed}, each once; {repeated[0]!r} is listed twice"
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


def file_path(value):
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        return None, "the path of a CSV file, e.g. data/raw/boston_house_prices.csv"
    return value, None


def model_setting(value):
    """A setting of a model that has no checks here: its class checks it when it fits."""
    scalar = (bool, int, float, str, type(None))
    if isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(item, scalar) for item in value)):
        return value, None
    return None, "a number, a text, true/false or a list of them"


model_setting.optional = True  # the constructor's default stands in for a missing one


# Dotted key -> check. A check returns (value, None) or (None, what is allowed).
SCHEMA = {
    "seed": seed,
    "lr": positive_float,
    "seeds": bounded_int(1, BOUNDS["seeds"][0]),
    "data.csv": file_path,
    "data.target": column_name,
    "data.features": column_names,
    "data.test_size": fraction,
    "knn.k": positive_int,
    "random_search.trials": bounded_int(1, BOUNDS["random_search.trials"][0]),
    "random_search.low": search_bound,
    "random_search.high": search_bound,
    "gd.steps": bounded_int(1, BOUNDS["gd.steps"][0]),
    "gd.standardize": boolean,
    "gd.tol": positive_float,
    "net.hidden": bounded_int(1, BOUNDS["net.hidden"][0]),
    "net.learning_rate": positive_float,
    "net.steps": bounded_int(1, BOUNDS["net.steps"][0]),
    "net.batch_size": batch_size,
    "net.gradients": choice("manual", "autodiff"),
    "net.optimizer": choice("gd", "lbfgs"),
    "cv.folds": bounded_int(2, BOUNDS["cv.folds"][0]),
    "evaluate.bootstrap": bounded_int(100, BOUNDS["evaluate.bootstrap"][0]),
    "evaluate.confidence": bounded_fraction(0.5, 0.999),
}
CORE_SECTIONS = ("data", "cv", "evaluate")  # the rest of SCHEMA's sections are models' settings
RENAMED = {"data.feature": "data.features (a list): write `features: [RM]`"}


def _sections(schema):
    return {key.split(".")[0] for key in schema if "." in key}


def _flatten(tree, sections, prefix=""):
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted in sections:
            yield from _flatten(value, sections, dotted + ".")
        else:
            yield dotted, value


def _nested(flat):
    nested = {}
    for key, value in flat.items():
        *sections, leaf = key.split(".")
        node = nested
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return nested


def validate_params(raw, source="params.yaml", keys=None, schema=None):
    """Check a parsed params mapping; return the keys checked, nested, with numbers coerced.

    ``keys``: what a stage reads, dotted keys or whole sections (``["seed", "knn"]``): only those
    are checked and returned, and a missing one is named. ``None`` checks the whole file, as
    check_params does: every key known, none missing. ``schema`` ({dotted key: check}, SCHEMA by
    default) may add keys, e.g. the report's gates or the section of a model that has no checks here.
    Raises StageError for the first unknown, missing or invalid key, in file order.
    """
    schema = SCHEMA if schema is None else schema
    sections = _sections(schema)
    if raw is None:
        raise StageError(f"{source}: is empty (or only comments); restore it with `git checkout -- {source}`")
    if not isinstance(raw, dict):
        raise StageError(f"{source}: expected a mapping of keys to values, got {type(raw).__name__}")
    flat = dict(_flatten(raw, sections))
    wanted = list(schema) if keys is None else \
        [key for key in schema if key in keys or key.split(".")[0] in keys]
    checked = {}
    for key, value in flat.items():
        if key in sections:  # a section written as a single value
            if keys is not None and key not in keys:
                continue
            names = ", ".join(name for name in schema if name.startswith(key + "."))
            raise StageError(f"{source}: {key} = {value!r} is not allowed: must be a section with {names}")
        if key in RENAMED and keys is None:
            raise StageError(f"{source}: {key} = {value!r}: {key} is now {RENAMED[key]}")
        if key not in schema:
            if keys is None:
                close = difflib.get_close_matches(key, list(schema) + sorted(sections), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise StageError(f"{source}: unknown key '{key}'{hint}")
            continue
        if key not in wanted:
            continue
        unrepresentable = next((item for item in (value if isinstance(value, list) else [value])
                                if isinstance(item, Unrepresentable)), None)
        if unrepresentable is not None:
            raise StageError(f"{source}: {key} = {value!r} is not allowed: {unrepresentable.text} "
                             f"{unrepresentable.problem()}; write a number a 64-bit float holds")
        check = schema[key]
        result, allowed = check(value, key) if getattr(check, "takes_key", False) else check(value)
        if isinstance(allowed, TooLarge):
            raise StageError(f"{source}: {key} = {value!r} is too large: {allowed}")
        if allowed is not None:
            # DVC writes `-S lr=1e-400` as `lr: 0.0`: the number as typed is gone; say what may have happened.
            tiny = " (a number below about 5e-324, such as 1e-400, underflows to 0.0)" \
                if isinstance(value, float) and value == 0.0 and not isinstance(value, Unrepresentable) else ""
            raise StageError(f"{source}: {key} = {value!r} is not allowed: must be {allowed}{tiny}")
        checked[key] = result
    missing = [key for key in wanted if key not in checked and not getattr(schema[key], "optional", False)]
    if missing:
        raise StageError(f"{source}: missing key '{missing[0]}' (see docs/params.md)")
    _check_together(checked, source)
    nested = _nested(checked)
    for key in keys or ():
        if key in sections:
            nested.setdefault(key, {})  # a section whose every key is optional and absent
    return nested


def _check_together(checked, source):
    """Rules between keys, applied where a stage reads both."""
    def both(*keys):
        return all(key in checked for key in keys)

    if both("random_search.low", "random_search.high") and checked["random_search.low"] > checked["random_search.high"]:
        raise StageError(
            f"{source}: random_search.low = {checked['random_search.low']} is above "
            f"random_search.high = {checked['random_search.high']}: the range must be ordered"
        )
    if both("data.target", "data.features") and checked["data.target"] in checked["data.features"]:
        raise StageError(f"{source}: data.features = {checked['data.features']!r} holds data.target = "
                         f"{checked['data.target']!r}: predicting a column from itself teaches nothing")
    if both("net.optimizer", "net.batch_size") and checked["net.optimizer"] == "lbfgs" \
            and checked["net.batch_size"] not in (0, "auto"):
        raise StageError(f"{source}: net.batch_size = {checked['net.batch_size']!r} does not go with "
                         "net.optimizer = 'lbfgs', which works on the full batch; set net.batch_size: auto or 0")
    if both("evaluate.bootstrap", "evaluate.confidence"):
        resamples, confidence = checked["evaluate.bootstrap"], checked["evaluate.confidence"]
        needed = math.ceil(10 / (1 - confidence) - 1e-9)  # 5 resamples beyond each end of the interval
        if resamples < needed:
            raise StageError(f"{source}: evaluate.bootstrap = {resamples} is too few for evaluate.confidence = "
                             f"{confidence:g}: each tail needs 5 resamples, so at least {needed}")


class Unrepresentable(float):
    """A number as written that a 64-bit float cannot hold: ``1e-400`` reads as 0.0, ``1e400`` as inf.

    It keeps its text, so a message shows the value as the user wrote it, and validation refuses it
    whatever the key (else ``lr: 1e-400`` would be reported as ``lr = 0.0``).
    """

    def __new__(cls, value, text):
        number = super().__new__(cls, value)
        number.text = text
        return number

    def __repr__(self):
        return self.text

    def problem(self):
        if self == 0:
            return "is below the smallest 64-bit float (about 5e-324): it underflows to 0.0"
        return f"is beyond the largest 64-bit float (about 1.8e308): it overflows to {'-' * (self < 0)}infinity"


def _construct_float(loader, node):
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    text = str(node.value)
    mantissa = text.lower().split("e")[0]
    if (value == 0 and any(digit in mantissa for digit in "123456789")) or \
            (math.isinf(value) and "inf" not in text.lower()):
        return Unrepresentable(value, text)
    return value


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; DVC (ruamel) refuses them, and so do we."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise StageError(f"key '{key}' appears twice (lines {seen[key]} and "
                                 f"{key_node.start_mark.line + 1}); keep one")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _yaml_12_scalars(loader):
    """Make ``loader`` read plain scalars as DVC does (YAML 1.2), not as PyYAML does (YAML 1.1).

    Else the stages and DVC disagree on one file: `seed: 042` is 34 to PyYAML and 42 to DVC, `1:00` is
    60, `yes`/`no`/`on`/`off` are booleans. Under these rules only true/false are booleans, and a
    number with a leading zero, an underscore or a colon stays text, which validation then refuses.
    """
    import re

    resolvers = {first: [(tag, regexp) for tag, regexp in entries
                         if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
                 for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    loader.yaml_implicit_resolvers = resolvers
    rules = (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:int", r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
         "-+.0123456789"),
    )
    for tag, pattern, first in rules:
        loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_yaml_12_scalars(_UniqueKeyLoader)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def read_params(path="params.yaml", keys=None, schema=None):
    """Read and validate the params file (only ``keys``, or all of it); StageError on any problem."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # missing: said below
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise StageError(f"{path}: is a pipe or a device, not a params file")  # reading it would never end
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.load(handle, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        raise StageError(f"{path}: file not found (run from the repository root)") from None
    except IsADirectoryError:
        raise StageError(f"{path}: is a directory, not a params file") from None
    except UnicodeDecodeError as error:
        data, at = error.object, error.start
        line, column = data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
        raise StageError(f"{path}: line {line} is not UTF-8 (byte 0x{data[at]:02x} at column {column}); "
                         "save it as UTF-8") from None
    except StageError as error:
        raise StageError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise StageError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    return validate_params(raw, source=path, keys=keys, schema=schema)
