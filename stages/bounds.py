"""What a stage may plan to spend, and the one line that refuses settings needing more, before any work.

The limits are params.yaml's ``limits``: ``memory_gib`` ("auto": half the memory the system reports
available when the stage starts, so a bound refuses only what would not fit this machine) and
``minutes`` (10: nothing runs for hours unless asked in so many words). A model prices its own work
(``Estimator.cost``, measured here): the fit stage adds up its fits (the model, its further seeds,
its cross-validation folds), the evaluate stage its predictions. A refusal names the setting, its
value, what the work would need, and the most that fits.
"""

import os
from typing import NamedTuple

from project.errors import UserError
from project.yamlfile import as_written

DEFAULT_MINUTES = 10.0
AUTO_SHARE = 0.5  # of the memory available: the rest is for the data, Python and whatever else runs
GIB = 1 << 30


class Limits(NamedTuple):
    bytes: float
    seconds: float
    memory_said: str  # "11.8 GiB (limits.memory_gib: auto, half of what this machine has available)"


def available_bytes():
    """The memory the system reports available now (/proc/meminfo's MemAvailable; elsewhere, all of it)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4.0 * GIB


def read_limits(params):
    """Limits from the validated params (``params["limits"]``, every key optional)."""
    limits = params.get("limits") or {}
    memory, minutes = limits.get("memory_gib", "auto"), limits.get("minutes", DEFAULT_MINUTES)
    if memory == "auto":
        size = AUTO_SHARE * available_bytes()
        said = f"{amount(size / GIB)} GiB (limits.memory_gib: auto, half of what this machine has available)"
    else:
        size, said = memory * GIB, f"{amount(memory)} GiB (limits.memory_gib)"
    return Limits(size, minutes * 60.0, said)


def amount(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def needs(need_bytes, need_seconds, limits):
    """What work beyond the limits would need, in words."""
    said = []
    if need_bytes > limits.bytes:
        said.append(f"{amount(need_bytes / GIB)} GiB of memory (the limit is {limits.memory_said})")
    if need_seconds > limits.seconds:
        said.append(f"{amount(need_seconds / 60)} minutes (the limit is {limits.seconds / 60:g}, limits.minutes)")
    return " and ".join(said)


def largest_that_fits(fits, low, high):
    """The largest whole number in [low, high] for which ``fits`` holds (``fits`` monotone), or low - 1."""
    if not fits(low):
        return low - 1
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Plan:
    """Work a stage will do with one model, priced by ``model.cost``: a list of (rows fitted on, rows predicted).

    The fits' times add up; the largest one's memory is the peak (they run one after another).
    """

    def __init__(self, features, fits, described):
        self.features, self.fits_, self.described = features, fits, described

    def cost(self, model):
        costs = [model.cost(rows, self.features, predicted) for rows, predicted in self.fits_]
        if any(cost is None for cost in costs):
            return None
        return max(cost.bytes for cost in costs), sum(cost.seconds for cost in costs)

    def fits(self, model, limits):
        cost = self.cost(model)
        return cost is None or (cost[0] <= limits.bytes and cost[1] <= limits.seconds)

    def __str__(self):
        return self.described


def check_plan(entry, model, plan, limits, rows_plan=None, data="the training split", fewer=None):
    """Refuse (UserError) settings of ``model`` whose ``plan`` would need more than ``limits``.

    The line names the setting its ``cost`` says sizes what is over (the memory's or the time's), its
    params key and value, what the plan would need, and the most that fits; settings changed from their
    defaults that raise the cost too are named beside it. When no value fits, ``rows_plan(n)`` (the
    same plan on n rows) finds how many rows would. ``fewer``: (a smaller plan, the change that gives it,
    e.g. "set seeds: 1"), said beside the most that fits when that plan fits as the settings are.
    """
    cost = plan.cost(model)
    if cost is None or (cost[0] <= limits.bytes and cost[1] <= limits.seconds):
        return
    sizing = model.cost(1000, plan.features, 0)
    over = 0 if cost[0] > limits.bytes else 1  # which of (memory, time) is over
    setting = sizing.bytes_setting if over == 0 else sizing.seconds_setting
    settings = model.get_params()
    defaults = type(model)().get_params()

    def variant(**changes):
        return type(model)(**{**settings, **changes})

    raising = [name for name, value in settings.items() if name not in (setting, "seed") and value != defaults[name]
               and plan.cost(variant(**{name: defaults[name]}))[over] < cost[over]]
    # A whole-number setting changed from its default that alone, put back, makes the work fit is the cause.
    cause = next((name for name in raising if _is_whole(settings[name])
                  and plan.fits(variant(**{name: defaults[name]}), limits)), None)
    if cause is not None:
        raising = [name for name in raising if name != cause] + ([setting] if setting in raising else [])
        setting = cause
    key = entry.key_of(setting) or f"{entry.name}.{setting}"
    others = [f"{entry.key_of(name) or name} = {as_written(settings[name])}" for name in raising]
    value = settings.get(setting)
    named = f"{key} = {as_written(value)}" + (f" with {', '.join(others)}" if others else "")
    need = needs(*cost, limits)
    if setting is not None and _is_whole(value):
        most = largest_that_fits(lambda v: plan.fits(variant(**{setting: v}), limits), 1, value)
        if most >= 1:
            alternative = f" (or keep {key} and {fewer[1]})" if fewer and fewer[0].fits(model, limits) else ""
            raise UserError(f"params.yaml: {named} is too large for {plan}: it would need about {need}; at most "
                            f"{most} on this data{alternative}")
    elif setting is not None:
        raise UserError(f"params.yaml: {named} is too large for {plan}: it would need about {need}")
    most_rows = largest_that_fits(lambda n: rows_plan(n).fits(model, limits), 1, 10**9) if rows_plan else 0
    rows = f"; at most {most_rows:,} training rows fit (a sample of data.csv, or fewer data.features)" \
        if most_rows >= 1 else ""
    raise UserError(f"{data}: {plan} are too many for {entry.name} at any {key}: it would need about {need}{rows}; "
                    f"or raise limits.memory_gib / limits.minutes in params.yaml, or leave {entry.name} out of "
                    "models.yaml")


def check_units(key, value, rows, seconds_per_unit, limits, what):
    """Refuse ``key = value`` when value × rows units of work, at ``seconds_per_unit`` each, exceed the time limit."""
    need = value * rows * seconds_per_unit
    if need <= limits.seconds:
        return
    most = int(limits.seconds / (rows * seconds_per_unit))
    raise UserError(f"params.yaml: {key} = {value} is too large for {what}: it would need about "
                    f"{needs(0, need, limits)}; at most {most} on this data")
