"""The one way the project reads YAML it did not write: params.yaml, models.yaml, a -S value, a sweep grid.

One dialect, DVC's: YAML 1.2's plain scalars (only true/false are booleans; `042`, `1:00`, `yes`
stay text, which validation then refuses), so a value means the same to DVC, the stages and the
tools. And bounded before anything is built from it, so no file can make a reader eat the machine:

- at most MAX_BYTES bytes, checked before the file is read (a 50 MB comment, /dev/zero);
- no anchors or aliases (`&a`, `*a`): eight levels of ten aliases is a 3 KB file that expands to
  a billion values; a params file writes each value out;
- at most MAX_DEPTH levels of nesting and MAX_NODES values in all;
- a key once per mapping (PyYAML keeps the last of two silently; DVC refuses them);
- a number a 64-bit float cannot hold (``1e-400``, ``1e400``) keeps its text, and is refused by validation.

Every problem is one ``UserError`` naming the file (or ``-S key=value``) and, where known, the line.
"""

import math
import os
import re
import stat

import yaml

from project.errors import UserError

MAX_BYTES = 1 << 20  # params.yaml is about 3 KB
MAX_DEPTH = 32
MAX_NODES = 100_000


class Unrepresentable(float):
    """A number as written that a 64-bit float cannot hold: ``1e-400`` reads as 0.0, ``1e400`` as inf.

    It keeps its text, so a message shows the value as written, and validation refuses it whatever the key.
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


class _Refused(yaml.YAMLError):
    def __init__(self, problem, mark):
        self.problem, self.problem_mark = problem, mark


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with DVC's scalars, unique keys, and no anchors, aliases or runaway sizes."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth, self._nodes = 0, 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("an anchor or alias (&name / *name); write each value out", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES:,} values", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise _Refused("a key that is a list or a mapping", key_node.start_mark) from None
            if key in seen:
                raise _Refused(f"key {shown(key)} appears twice (lines {seen[key]} and {key_node.start_mark.line + 1}); "
                               "keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _construct_float(loader, node):
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    text = str(node.value)
    mantissa = text.lower().split("e")[0]
    if (value == 0 and any(digit in mantissa for digit in "123456789")) or (math.isinf(value) and "inf" not in text.lower()):
        return Unrepresentable(value, text)
    return value


def _yaml_12_scalars(loader):
    """Plain scalars as DVC (ruamel, YAML 1.2) reads them, not as PyYAML (YAML 1.1) does."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in entries
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    rules = (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:int", r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    )
    for tag, pattern, first in rules:
        loader.add_implicit_resolver(tag, re.compile(pattern), list(first))
    loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


_yaml_12_scalars(_Loader)


def load_yaml(text, source):
    """The YAML document in ``text`` (str or bytes), read in the project's dialect; UserError naming ``source``."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise UserError(f"{source}: {len(text):,} bytes, more than the {MAX_BYTES >> 20} MiB a params or models "
                            "file may have")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            data, at = error.object, error.start
            line, column = data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
            raise UserError(f"{source}: line {line} is not UTF-8 (byte 0x{data[at]:02x} at column {column}); "
                            "save it as UTF-8") from None
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise UserError(f"{source}: more than the {MAX_BYTES >> 20} MiB a params or models file may have")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{source}: not valid YAML{where}: {getattr(error, 'problem', None) or error}") from None


def read_yaml(path):
    """The YAML file at ``path``, read as ``load_yaml`` reads: a regular file, its size checked before reading."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (run from the repository root)") from None
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path}: is a directory, not a YAML file")
    if not stat.S_ISREG(info.st_mode):  # /dev/zero would be read for ever, a pipe might never open
        raise UserError(f"{path}: is a pipe or a device, not a YAML file")
    if info.st_size > MAX_BYTES:
        raise UserError(f"{path}: {info.st_size:,} bytes, more than the {MAX_BYTES >> 20} MiB a params or models "
                        "file may have (params.yaml is a few KB); remove what does not belong there")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    return load_yaml(data, path)


_SHOWN = None


def shown(value, limit=80):
    """A value as a message quotes it: its repr, never longer than ``limit`` characters, built without
    walking more of it than it shows (a value a billion items long is cut, not printed)."""
    global _SHOWN
    if _SHOWN is None:
        import reprlib

        _SHOWN = reprlib.Repr()
        _SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxtuple = 3, 8, 6, 8
    _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = limit, limit, 40
    text = repr(value) if isinstance(value, Unrepresentable) else _SHOWN.repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def as_written(value, limit=80):
    """A value as params.yaml writes it (true/false, numbers, quoted text), bounded as ``shown``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(value, limit)
