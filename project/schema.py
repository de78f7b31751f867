"""Every key params.yaml may hold and the values it may take: one declaration, read by every reader.

The project's own keys are here; a model's keys are its class's ``settings`` (fromzero/settings.py),
found through models.yaml; the report's gates are here too, because they are keys of the same file.
``schema_for(registry)`` puts them together: {dotted key: Setting}. docs/params.md describes them
(tests/test_docs.py holds the two equal).
"""

import difflib
import unicodedata

from fromzero.errors import SettingError
from fromzero.settings import SEED, Either, OneOf, Real, Setting, Whole


class Optional(Setting):
    """A key that may be left out (a model's setting: its constructor's default stands in)."""

    def __init__(self, inner):
        self.inner = inner

    def check(self, name, value):
        return self.inner.check(name, value)

    def describe(self):
        return self.inner.describe()


class AnyScalar(Setting):
    """A setting of a model whose class declares none for it: its fit checks the value."""

    def check(self, name, value):
        scalar = (bool, int, float, str, type(None))
        if isinstance(value, scalar) or (isinstance(value, list) and len(value) <= 1000
                                         and all(isinstance(item, scalar) for item in value)):
            return value
        self.refuse(name, value)

    def describe(self):
        return "a number, a text, true/false or a list of them"


class ColumnName(Setting):
    """A column name, normalised to NFC as load normalises the file's header (the same name typed either way)."""

    def check(self, name, value):
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            self.refuse(name, value)
        return unicodedata.normalize("NFC", value)

    def describe(self):
        return "a column name (text)"


class ColumnNames(Setting):
    def check(self, name, value):
        if not isinstance(value, list) or not value or len(value) > 100_000:
            self.refuse(name, value)
        value = [ColumnName().check(name, column) if isinstance(column, str) else self.refuse(name, value)
                 for column in value]
        repeated = sorted({column for column in value if value.count(column) > 1}) if len(value) < 5000 else \
            sorted(column for column, count in _counts(value).items() if count > 1)
        if repeated:
            raise SettingError(name, value, f"{name} lists {repeated[0]!r} twice; list each column once")
        return value

    def describe(self):
        return "a list of column names, e.g. [RM] or [RM, LSTAT]"


def _counts(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


class FilePath(Setting):
    def check(self, name, value):
        if not isinstance(value, str) or not value.strip() or "\0" in value or len(value) > 4096:
            self.refuse(name, value)
        return value

    def describe(self):
        return "the path of a CSV file, e.g. data/raw/boston_house_prices.csv"


class ModelNames(Setting):
    """A list of models of models.yaml (the gates' exempt list, ...)."""

    def __init__(self, names):
        self.names = list(names)

    def check(self, name, value):
        if not isinstance(value, list):
            self.refuse(name, value)
        for model in value:
            if model not in self.names:
                raise SettingError(name, value, f"{name} lists {model!r}, which is not a model of models.yaml"
                                   f"{_did_you_mean(model, self.names)}")
        return value

    def describe(self):
        return "a list of names of models.yaml's models (may be empty: [])"


class RatioPerModel(Setting):
    """{model: a number > 0}: the most each model's test MSE may be, as a multiple of the reference's."""

    def __init__(self, names):
        self.names = list(names)

    def check(self, name, value):
        if not isinstance(value, dict):
            self.refuse(name, value)
        checked = {}
        for model, ratio in value.items():
            if model not in self.names:
                raise SettingError(name, value, f"{name} names {model!r}, which is not a model of models.yaml"
                                   f"{_did_you_mean(model, self.names)}")
            checked[model] = Real(0).check(f"{name}.{model}", ratio)
        return checked

    def describe(self):
        return "a mapping of a name of models.yaml's models to a number > 0 (may be empty: {})"


def _did_you_mean(name, names):
    close = difflib.get_close_matches(str(name), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# The project's own keys: {dotted key: Setting}.
CORE = {
    "seed": SEED,
    "seeds": Whole(1, 100),
    "data.csv": FilePath(),
    "data.target": ColumnName(),
    "data.features": ColumnNames(),
    "data.test_size": Real(0, 1, high_inclusive=False),
    "cv.folds": Whole(2, 100),
    "evaluate.bootstrap": Whole(100, 10**5),
    "evaluate.confidence": Real(0.5, 0.999, low_inclusive=True),
    # What a stage may plan to use before it refuses (stages/bounds.py): memory in GiB ("auto": half of what
    # the system reports available when the stage starts) and minutes.
    "limits.memory_gib": Optional(Either(OneOf("auto"), Real(0))),
    "limits.minutes": Optional(Real(0, 525_600)),  # a year: a sane cap (the timer overflows near 1e10 minutes)
}
# A top-level key passed to a model under another name: `lr` is what users type (`dvc exp run -S lr=...`),
# `learning_rate` what the tutorial and the class call it.
ARGUMENT_NAMES = {"lr": "learning_rate"}
# Keys an older params.yaml had, and what replaced them.
RENAMED = {"data.feature": "data.features (a list): write `features: [RM]`",
           "gates.beats_least_squares": "gates.beats_reference (the reference is models.yaml's `reference`)"}


def gates_schema(registry):
    names = list(registry.entries)
    others = [name for name in names if name != registry.reference]
    return {
        "gates.max_mse_ratio": RatioPerModel(others),
        "gates.regression_tolerance": Real(0, low_inclusive=True),
        "gates.beats_reference": ModelNames(others),
        "gates.exempt": ModelNames(names),
    }


def model_schema(entry):
    """{dotted key: Setting} of the params keys ``entry`` reads: its section's keys are its settings."""
    model_class, schema = entry.model_class, {}
    for key in entry.section_keys:
        for argument in entry.section_arguments():
            schema[f"{key}.{argument}"] = Optional(model_class.settings.get(argument, AnyScalar()))
    for argument, key in entry.top_level_keys.items():
        schema[key] = model_class.settings.get(argument, AnyScalar())
    return schema


def schema_for(registry, entries=None, gates=True):
    """The whole file's schema: the core keys, the models' (all of models.yaml, or ``entries``), the gates."""
    schema = dict(CORE)
    for entry in (registry.entries.values() if entries is None else entries):
        schema.update(model_schema(entry))
    if gates:
        schema.update(gates_schema(registry))
    return schema
