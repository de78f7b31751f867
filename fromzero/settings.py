"""What values a model's settings may take, declared beside the class (scikit-learn's parameter constraints).

A class lists each constructor argument with one of these in its ``settings`` mapping::

    class KNearestNeighbors(Estimator):
        settings = {"k": Whole(1)}

``fit`` checks every setting against its declaration (``Estimator.checked_settings``), the
pipeline checks params.yaml against the same declarations before any stage runs, and the docs of
a model's params are ``describe()`` of each. A failed check is a ``SettingError`` naming the
setting, its value and what is allowed.

A whole number may be written as a float with nothing after the point (``3.0``): DVC records
``-S knn.k=3.0`` so and compares params by value, so refusing it would only break the next run.
"""

import math
import numbers

from fromzero.errors import SettingError


def _whole(value):
    """``value`` as an int if it is a whole number (an int, numpy's too, or a float such as 3.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _real(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Setting:
    """One setting's allowed values: ``check(name, value)`` returns the value as the model uses it."""

    def check(self, name, value):
        raise NotImplementedError

    def describe(self):
        raise NotImplementedError

    def refuse(self, name, value, advice="change"):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "…"
        raise SettingError(name, value, f"{name} = {shown} is not allowed: must be {self.describe()}", advice)


class Whole(Setting):
    """A whole number in [low, high] (high None: no upper end)."""

    def __init__(self, low, high=None):
        self.low, self.high = low, high

    def check(self, name, value):
        number = _whole(value)
        if number is None:
            self.refuse(name, value)
        if number < self.low:
            self.refuse(name, value, "raise")
        if self.high is not None and number > self.high:
            self.refuse(name, value, "lower")
        return number

    def describe(self):
        if self.high is None:
            return f"a whole number >= {self.low}"
        return f"a whole number from {self.low} to {self.high}"


class Real(Setting):
    """A finite number above ``low`` (or at it, with ``low_inclusive``), up to ``high`` (below it, without
    ``high_inclusive``) if given."""

    def __init__(self, low=None, high=None, *, low_inclusive=False, high_inclusive=True):
        self.low, self.high, self.low_inclusive, self.high_inclusive = low, high, low_inclusive, high_inclusive

    def check(self, name, value):
        number = _real(value)
        if number is None:
            self.refuse(name, value)
        if self.low is not None and (number < self.low or (number == self.low and not self.low_inclusive)):
            self.refuse(name, value, "raise")
        if self.high is not None and (number > self.high or (number == self.high and not self.high_inclusive)):
            self.refuse(name, value, "lower")
        return number

    def describe(self):
        if self.low is None and self.high is None:
            return "a finite number"
        low = "" if self.low is None else f"{'>=' if self.low_inclusive else '>'} {self.low:g}"
        high = "" if self.high is None else f"{'<=' if self.high_inclusive else '<'} {self.high:g}"
        return "a finite number " + " and ".join(part for part in (low, high) if part)


class Flag(Setting):
    """true or false."""

    def check(self, name, value):
        if not isinstance(value, bool):
            self.refuse(name, value)
        return value

    def describe(self):
        return "true or false"


class OneOf(Setting):
    """One of the given words."""

    def __init__(self, *options):
        self.options = options

    def check(self, name, value):
        if not isinstance(value, str) or value not in self.options:
            self.refuse(name, value)
        return value

    def describe(self):
        return "one of " + ", ".join(self.options)


class Either(Setting):
    """What the first of ``choices`` accepts, else the next, ..."""

    def __init__(self, *choices):
        self.choices = choices

    def check(self, name, value):
        for choice in self.choices:
            try:
                return choice.check(name, value)
            except SettingError:
                continue
        self.refuse(name, value)

    def describe(self):
        return " or ".join(choice.describe() for choice in self.choices)


SEED = Whole(0, 2**32 - 1)  # numpy's generators take any; the split's RandomState below 2**32
