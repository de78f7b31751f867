"""The one reader of params.yaml and of every value a person passes (`-S key=value`, a sweep's grid).

    params = read_params("params.yaml", keys=["seed", "data.features"])   # what a stage reads
    params = read_params("params.yaml", registry=read_models())            # the whole file (check_params)
    key, value = parse_override("knn.k=5")                                 # a -S value, as DVC reads it

It reads in the project's one YAML dialect (project/yamlfile.py), checks each key against the one
schema (project/schema.py, with each model's settings from its class), and returns plain nested
dicts with numbers as the models use them. A typo or a bad value is one ``UserError`` line naming
the file, the key, the value (a bounded excerpt) and what is allowed; so a value the sweep accepts
is a value the pipeline accepts.
"""

import difflib
import math

from fromzero.errors import SettingError
from fromzero.settings import SEED
from project.errors import UserError
from project.schema import CORE, RENAMED, Optional, gates_schema, model_schema, schema_for
from project.yamlfile import Unrepresentable, load_yaml, read_yaml, shown


# ---- dotted keys: "knn.k" in a nested mapping ------------------------------------------------

def get_key(tree, key, default=KeyError):
    """``tree["knn"]["k"]`` for key "knn.k"; ``default`` (or KeyError) where a part is missing."""
    node = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is KeyError:
                raise KeyError(key)
            return default
        node = node[part]
    return node


def set_key(tree, key, value):
    """Set ``tree["knn"]["k"] = value`` for key "knn.k", making the sections it needs."""
    *sections, leaf = key.split(".")
    node = tree
    for section in sections:
        node = node.setdefault(section, {})
        if not isinstance(node, dict):
            raise UserError(f"{key}: {section} is a value, not a section")
    node[leaf] = value


def flatten(tree, sections, prefix=""):
    """(dotted key, value) pairs of a nested mapping, descending only into the known ``sections``."""
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted in sections:
            yield from flatten(value, sections, dotted + ".")
        else:
            yield dotted, value


def nested(flat):
    tree = {}
    for key, value in flat.items():
        set_key(tree, key, value)
    return tree


# ---- validation ------------------------------------------------------------------------------

def _sections(schema):
    return {key.rsplit(".", 1)[0] for key in schema if "." in key}


def validate(raw, schema, keys=None, source="params.yaml"):
    """Check a parsed params mapping against ``schema``; return the keys checked, nested, as the models use them.

    ``keys``: what the caller reads, dotted keys or whole sections (``["seed", "knn"]``): only those are
    checked and returned, and a missing one is named. ``None`` checks the whole file, as check_params
    does: every key known, none missing. The first problem, in file order, is one UserError.
    """
    sections = _sections(schema)
    if raw is None:
        raise UserError(f"{source}: is empty (or only comments); restore it with `git checkout -- {source}`")
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys to values, got {type(raw).__name__}")
    wanted = list(schema) if keys is None else [key for key in schema if key in keys or key.split(".")[0] in keys]
    checked = {}
    for key, value in flatten(raw, sections):
        if not isinstance(key, str):
            raise UserError(f"{source}: key {shown(key)} is not a name")
        if key in sections:  # a section written as a single value
            if keys is None or key in keys:
                names = ", ".join(name for name in schema if name.startswith(key + "."))
                raise UserError(f"{source}: {key} = {shown(value)} is not allowed: must be a section with {names}")
            continue
        if key in RENAMED and keys is None:
            raise UserError(f"{source}: {key} = {shown(value)}: {key} is now {RENAMED[key]}")
        if key not in schema:
            if keys is None:
                close = difflib.get_close_matches(key, list(schema) + sorted(sections), n=1, cutoff=0.6)
                raise UserError(f"{source}: unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            continue
        if key in wanted:
            checked[key] = check_value(schema[key], key, value, source)
    missing = [key for key in wanted if key not in checked and not isinstance(schema[key], Optional)]
    if missing:
        raise UserError(f"{source}: missing key {missing[0]!r} (see docs/params.md)")
    _check_together(checked, source)
    tree = nested(checked)
    for key in keys or ():
        if key in sections:
            tree.setdefault(key, {})  # a section whose every key is optional and absent
    return tree


def check_value(setting, key, value, source="params.yaml"):
    """``value`` of ``key`` as ``setting`` allows it; UserError naming the source, the key and what is allowed."""
    for item in (value if isinstance(value, list) else [value]):
        if isinstance(item, Unrepresentable):
            raise UserError(f"{source}: {key} = {shown(value)} is not allowed: {item.text} {item.problem()}; write a "
                            "number a 64-bit float holds")
    try:
        return setting.check(key, value)
    except SettingError as error:
        # DVC writes `-S lr=1e-400` as `lr: 0.0`: the number as typed is gone; say what may have happened.
        tiny = " (a number below about 5e-324, such as 1e-400, underflows to 0.0)" \
            if isinstance(value, float) and value == 0.0 else ""
        raise UserError(f"{source}: {error.problem}{tiny}") from None


def _check_together(checked, source):
    """Rules between the project's keys, applied where the caller reads both."""
    if "data.target" in checked and "data.features" in checked and checked["data.target"] in checked["data.features"]:
        raise UserError(f"{source}: data.features = {shown(checked['data.features'])} holds data.target = "
                        f"{checked['data.target']!r}: predicting a column from itself teaches nothing")
    if "evaluate.bootstrap" in checked and "evaluate.confidence" in checked:
        resamples, confidence = checked["evaluate.bootstrap"], checked["evaluate.confidence"]
        needed = math.ceil(10 / (1 - confidence) - 1e-9)  # 5 resamples beyond each end of the interval
        if resamples < needed:
            raise UserError(f"{source}: evaluate.bootstrap = {resamples} is too few for evaluate.confidence = "
                            f"{confidence:g}: each tail needs 5 resamples, so at least {needed}")


def validate_whole(raw, registry, source="params.yaml"):
    """The whole file as check_params holds it (and a sweep holds each point): every key known and allowed, and
    the section of every model of models.yaml present (DVC's params deps name it). The params, nested."""
    params = validate(raw, schema_for(registry), source=source)
    last_seed = params["seed"] + params["seeds"] - 1  # seed, seed + 1, ...: every one a seed the split can take
    if last_seed > SEED.high:
        raise UserError(f"{source}: seed = {params['seed']} with seeds = {params['seeds']} is not allowed: the runs "
                        f"use seed to seed + seeds - 1 = {last_seed}, above {SEED.high}; lower seed")
    for entry in registry:
        problem = entry.mismatch(raw, source)
        if problem:
            raise UserError(problem)
        for key in entry.section_keys:
            if not isinstance(raw.get(key), dict):
                raise UserError(f"{source}: missing section {key!r}, which models.yaml's {entry.name} reads; add its "
                                f"settings (`{key}: {{...}}`, `{{}}` for the defaults) or list [seed] in models.yaml "
                                "for a model without settings")
    return params


def check_data_file(params, source="params.yaml", root="."):
    """data.csv names a file (relative to ``root``, the project's folder): else one line, before DVC says it."""
    import os

    csv = params["data"]["csv"]
    path = os.path.join(root, csv)
    if os.path.isdir(path):
        raise UserError(f"{source}: data.csv = {csv!r} is a directory; point it at the CSV file itself")
    if not os.path.exists(path):
        raise UserError(f"{source}: data.csv = {csv!r}: no such file; point it at your CSV")
    from project.files import regular_file

    try:
        regular_file(path)
    except UserError:  # /dev/zero or a FIFO: DVC would hash it forever, silently
        raise UserError(f"{source}: data.csv = {csv!r} is not a regular file (a device or a pipe?); point it at "
                        "the CSV file itself") from None


def read_params(path="params.yaml", keys=None, *, registry=None, entries=()):
    """Read and validate the params file: only ``keys`` (with the settings of the models ``entries``), or,
    with ``keys=None``, all of it against every model of ``registry`` and the gates. UserError on any problem."""
    raw = read_yaml(path)
    if keys is None:
        schema = schema_for(registry)
    else:
        schema = dict(CORE)
        for entry in entries:
            schema.update(model_schema(entry))
        if registry is not None and "gates" in keys:
            schema.update(gates_schema(registry))
    return validate(raw, schema, keys, source=str(path))


# ---- values a person types: -S key=value -----------------------------------------------------

def parse_override(text, source=None):
    """``"knn.k=5"`` -> ("knn.k", 5): the key, and the value read as DVC reads a -S value (the same dialect)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise UserError(f"{source or text!r}: not key=value (e.g. lr=0.001 or knn.k=5)")
    return key, load_yaml(value, source or f"-S {text}")


def with_overrides(raw, overrides):
    """A copy of the raw params mapping with each (key, value) of ``overrides`` set."""
    import copy

    changed = copy.deepcopy(raw)
    for key, value in overrides:
        set_key(changed, key, value)
    return changed


def changed_keys(before, after, prefix=""):
    """The dotted keys whose values differ between two raw params mappings."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [] if before == after else [prefix.rstrip(".") or "(the whole file)"]
    keys = []
    for key in sorted(set(before) | set(after), key=str):
        keys += changed_keys(before.get(key), after.get(key), f"{prefix}{key}.")
    return keys
