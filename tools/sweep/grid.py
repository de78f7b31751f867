"""``tools.sweep expand``: overrides in the queue's syntax -> a GitHub Actions matrix, every point checked first.

    expand(["lr=0.1,0.01", "knn.k=1,3"]) == {"include": [{"name": "lr-0.1_knn.k-1", "set": ["lr=0.1", "knn.k=1"]},
                                                         ...]}

The syntax is ``dvc exp run --queue -S``'s: one ``key=v1,v2`` per argument, the cartesian product over
arguments. Each value is read as DVC reads a ``-S`` value (project/params.py's ``parse_override``, the
project's one YAML dialect), and each point is the params file with its values set, validated by
``project.params.validate`` against the whole schema (``schema_for``: the project's keys, every model's
settings from its class, the gates): so a value expand accepts is a value check_params accepts
(``seed=042`` and ``gd.standardize=no`` are text there, and refused here in check_params' words).
The grid's size is counted from its value counts before any point is built.
"""

import hashlib
import itertools
import math
import re
from pathlib import Path

from project.errors import UserError
from project.models import read_models
from project.params import check_data_file, get_key, parse_override, validate, validate_whole, with_overrides
from project.yamlfile import read_yaml, shown

MAX_JOBS = 256  # GitHub's limit on jobs from one matrix
KEY = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
MAX_NAME = 100  # an experiment name is a git ref's last part; a longer one is cut and given a hash
_MISSING = object()


def split_grid(text):
    """'knn.k=1,3' -> ('knn.k', ['1', '3']): the queue's syntax, each value as typed, repeats dropped."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not KEY.fullmatch(key):
        raise UserError(f"{shown(text)}: expected key=value[,value...], e.g. lr=0.1,0.01")
    items = [value.strip() for value in values.split(",")]
    if not all(items) or any(re.search(r"\s", value) for value in items):
        raise UserError(f"{shown(text)}: a value is empty or contains a space")
    return key, list(dict.fromkeys(items))


def as_mapping(raw, source):
    """``raw`` if it is a params mapping; else validate's one line (an empty file, a list, a bare value)."""
    if not isinstance(raw, dict):
        validate(raw, {}, source=source)
    return raw


def models_file(params_path):
    """The models.yaml that goes with a params file: beside it, else this repository's."""
    beside = Path(params_path).with_name("models.yaml")
    return beside if beside.is_file() else Path(__file__).resolve().parents[2] / "models.yaml"


class Params:
    """The params file a sweep changes: its raw mapping, read once, and the schema each point is checked against."""

    def __init__(self, path):
        self.path = str(path)
        self.raw = as_mapping(read_yaml(path), self.path)
        self._schema = None

    def axis(self, text):
        """(key, [(value as typed, value as read)]) of one ``key=v1,v2``: a key params.yaml holds as a value."""
        key, values = split_grid(text)
        current = get_key(self.raw, key, _MISSING)
        if current is _MISSING:
            raise UserError(f"{shown(text)}: {self.path} has no key {shown(key)}")
        if isinstance(current, dict):
            raise UserError(f"{shown(text)}: {key!r} is a section, not a value; sweep one of its keys")
        if isinstance(current, list):
            raise UserError(f"{shown(text)}: {key!r} is a list, which the queue's commas cannot sweep; run each "
                            f"value with `dvc exp run -S '{key}=[...]'`")
        return key, [(value, parse_override(f"{key}={value}")[1]) for value in values]

    def axes(self, overrides):
        axes, seen = [], set()
        for text in overrides:
            key, values = self.axis(text)
            if key in seen:
                raise UserError(f"{shown(text)}: {key!r} is given twice")
            seen.add(key)
            axes.append((key, values))
        return axes

    @property
    def registry(self):
        if self._schema is None:
            self._schema = read_models(models_file(self.path))
        return self._schema

    def check(self, point):
        """Validate one point, [(key, (text, value))], as check_params will: its one line, prefixed by the point."""
        try:
            checked = validate_whole(with_overrides(self.raw, [(key, value) for key, (_, value) in point]),
                                     self.registry, source=self.path)
            if any(key == "data.csv" for key, _ in point):
                check_data_file(checked, self.path, root=str(Path(self.path).parent))
        except UserError as error:
            raise UserError(f"{' '.join(f'{key}={text}' for key, (text, _) in point)}: {error}") from None


def check_size(axes):
    """Refuse a grid of more than MAX_JOBS points from its value counts, before building any point."""
    sizes = [len(values) for _, values in axes]
    count = 1
    for size in sizes:  # stop early: the exact product of many axes could itself be huge
        count *= size
        if count > MAX_JOBS:
            break
    if count <= MAX_JOBS:
        return
    digits = sum(math.log10(size) for size in sizes)
    total = f"{math.prod(sizes)}" if digits < 15 else f"about 10^{digits:.0f}"
    shape = " × ".join(map(str, sizes)) if len(sizes) <= 12 else f"{len(sizes)} keys"
    raise UserError(f"{total} experiments ({shape} values): GitHub runs at most {MAX_JOBS} jobs from "
                    "one matrix; sweep fewer values")


def experiment_name(point, prefix=""):
    """A git-ref-safe, readable name: lr=0.1 knn.k=1 -> lr-0.1_knn.k-1 (a long one cut, with a hash of the whole)."""
    body = "_".join(f"{key}-{text}" for key, text in point)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{prefix}_{body}" if prefix else body)
    name = re.sub(r"\.{2,}", ".", name).strip(".-")
    if len(name) > MAX_NAME:
        name = f"{name[:MAX_NAME - 9].rstrip('.-')}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return name.removesuffix(".lock")


def expand(overrides, params_path="params.yaml", prefix=""):
    """The matrix for GitHub Actions: {"include": [{"name": ..., "set": ["k=v", ...]}, ...]}."""
    if not overrides:
        raise UserError("no overrides given, e.g. 'lr=0.1,0.01,0.001'")
    if prefix and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,39}", prefix):
        raise UserError(f"--prefix {shown(prefix)}: use up to 40 letters, digits, '.', '_' and '-' (it starts every "
                        "experiment's name)")
    params = Params(params_path)
    axes = params.axes(overrides)
    check_size(axes)
    include, names = [], {}
    for combo in itertools.product(*(values for _, values in axes)):
        point = list(zip((key for key, _ in axes), combo))
        params.check(point)
        texts = [(key, text) for key, (text, _) in point]
        name = experiment_name(texts, prefix)
        if name in names:
            raise UserError(f"{names[name]} and {' '.join(f'{k}={v}' for k, v in texts)} both make the experiment "
                            f"name {name!r}; sweep values that differ in letters or digits")
        names[name] = " ".join(f"{k}={v}" for k, v in texts)
        include.append({"name": name, "set": [f"{key}={text}" for key, text in texts]})
    return {"include": include}
