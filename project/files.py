"""Reading the split and writing outputs: atomically, and byte-for-byte reproducibly.

Every write goes to a temporary file beside the target and is renamed into
place, so a stage that fails or is killed leaves the old file or none, never a
truncated one. Same values in, same bytes out: JSON with sorted keys and
rounded floats, PNGs without a timestamp or software tag.
"""

import csv
import io
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from project.errors import UserError

SIGNIFICANT_DIGITS = 5  # metrics: enough to see a real change, few enough to fit `dvc exp show`


def _umask():
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def _rename(temporary, target):
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise UserError(f"{target}: cannot be written ({error.strerror or error})") from None


@contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's folder; rename it to ``path`` on success.

    The file gets the permissions an ordinary ``open()`` would give (0644 under
    umask 022), not mkstemp's private 0600. Temporaries that a killed run left
    beside the target are removed first. A write the disk or the folder refuses
    is one UserError naming the path.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
    except OSError as error:
        raise UserError(f"{path}: cannot be written ({error.strerror or error})") from None
    try:
        try:
            yield temporary
        except OSError as error:  # the disk filled up or the file system refused mid-write
            raise UserError(f"{path}: cannot be written ({error.strerror or error})") from None
        _rename(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_bytes(path, data):
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_text(path, text):
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def round_significant(value, digits=SIGNIFICANT_DIGITS):
    """Round floats (also inside dicts and lists) to ``digits`` significant digits (None: as they are).

    Raises ValueError on NaN or infinity anywhere inside.
    """
    if isinstance(value, dict):
        return {key: round_significant(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_significant(item, digits) for item in value]
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if not math.isfinite(value):
        # JSON has no NaN: a non-finite metric is a bug upstream, never written.
        raise ValueError(f"refusing to write a non-finite number: {value}")
    return value if digits is None else float(f"{value:.{digits}g}")


def write_json(path, data, digits=SIGNIFICANT_DIGITS):
    """Stable JSON: sorted keys, 2-space indent, floats rounded (None keeps full precision)."""
    data = round_significant(data, digits)
    write_text(path, json.dumps(data, sort_keys=True, indent=2, allow_nan=False) + "\n")


def write_lines(path, header, lines):
    """A CSV from its header and row lines (bytes, without newlines)."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(header + b"\n")
            handle.write(b"\n".join(lines))
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())


class NotOurJSON(ValueError):
    """A JSON file the stages would never have written: NaN or Infinity, a key twice, too large."""


def _no_constant(name):
    raise NotOurJSON(f"it holds {name}, which JSON has not and no stage writes")


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise NotOurJSON(f"key {key!r} appears twice")
        seen[key] = value
    return seen


def regular_file(path, what="a file"):
    """Refuse a path that is not a regular file before opening it (UserError): a FIFO would block the stage
    for ever, /dev/zero or /dev/urandom would be read until memory runs out. A missing path passes (the
    caller says what writes it)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise UserError(f"{path}: is {kind}, not {what}")


def read_json(path, max_bytes=None):
    """The JSON file at ``path``, strictly: NaN, Infinity or a repeated key is NotOurJSON (a ValueError),
    and so is a file above ``max_bytes`` (checked before it is read: a 1 GB file is not parsed), or a path
    that is no regular file (a FIFO, /dev/zero)."""
    import stat

    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
        raise NotOurJSON("it is not a regular file (a pipe or a device)")
    with open(path, encoding="utf-8") as handle:
        if max_bytes is not None:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise NotOurJSON(f"it has {size:,} bytes, more than the {max_bytes:,} a stage writes there")
        return json.load(handle, parse_constant=_no_constant, object_pairs_hook=_unique_keys)


def write_columns(path, columns, digits=6):
    """A CSV from named columns of equal length (name -> sequence), floats at ``digits`` significant digits.

    Quoted as RFC 4180 says (the csv module): a column name or a value with a comma, a quote or a
    line break stays one cell. numpy only: the stages that rerun on every experiment never import pandas.
    """
    import numpy as np

    names = list(columns)
    arrays = [np.asarray(columns[name]) for name in names]

    def cell(value):
        if isinstance(value, (float, np.floating)):
            return f"{float(value):.{digits}g}"
        return str(value)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([cell(value) for value in row] for row in zip(*arrays))
    write_text(path, buffer.getvalue())
