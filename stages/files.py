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
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from stages.errors import StageError

SIGNIFICANT_DIGITS = 5  # metrics: enough to see a real change, few enough to fit `dvc exp show`
# Model files: far more than any prediction needs, far fewer than the ~16 digits whose last ones
# differ with the CPU's BLAS kernel and summation order (same inputs, same bytes on every machine).
MODEL_DIGITS = 10


def _umask():
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


_PENDING = []  # inside ``all_or_nothing()``: the (temporary, target) pairs still to be renamed


@contextmanager
def all_or_nothing():
    """Every write inside goes to a temporary file beside its target; all are renamed at the end.

    So a stage that fails halfway (a bad value found late, a full disk, a read-only folder, Ctrl-C)
    replaces none of its outputs: the temporaries are removed and the old files stay as they were.
    """
    if _PENDING:  # already inside one: the outer one renames
        yield
        return
    _PENDING.append(None)  # marks the transaction open
    try:
        yield
        with _signals_held():  # Ctrl-C or SIGTERM now would leave a mix: it lands after the last rename
            _rename_all(_PENDING[1:])
    finally:
        for pair in _PENDING[1:]:
            if os.path.exists(pair[0]):
                os.remove(pair[0])
        _PENDING.clear()


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait until the block ends, then act as they would have (the handlers are swapped
    at Python's level: blocking the signal in this thread alone would not stop numpy's threads taking it)."""
    caught, previous = [], {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda number, frame: caught.append(number))
    except ValueError:  # not the main thread: no handler can be set; renames are quick anyway
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # KeyboardInterrupt, or the stage's SIGTERM handler
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), caught[0])


def _rename_all(pairs):
    """Rename every temporary onto its target, or none: a rename that fails (a folder where a file should
    go, a file system that turned read-only) puts back the targets already replaced, from hard links made
    to the old files first (without them, where the file system has no hard links, it cannot)."""
    for _, target in pairs:
        if os.path.isdir(target):
            raise StageError(f"{target}: cannot be written (a folder is in its place)")
    backups, done, existed = {}, [], {target for _, target in pairs if os.path.lexists(target)}
    try:
        for _, target in pairs:
            if os.path.isfile(target):
                backup = f"{os.path.join(os.path.dirname(target), '.' + os.path.basename(target))}.old.tmp"
                try:
                    if os.path.lexists(backup):
                        os.remove(backup)
                    os.link(target, backup)
                    backups[target] = backup
                except OSError:
                    pass
        for temporary, target in pairs:
            _rename(temporary, target)
            done.append(target)
    except BaseException:
        for target in done:
            try:
                if target in backups:
                    os.replace(backups.pop(target), target)
                elif target not in existed:
                    os.remove(target)
            except OSError:
                pass
        raise
    finally:
        for backup in backups.values():
            try:
                os.remove(backup)
            except OSError:
                pass


def _rename(temporary, target):
    try:
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise StageError(f"{target}: cannot be written ({error.strerror or error})") from None


@contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's folder; rename it to ``path`` on success.

    The file gets the permissions an ordinary ``open()`` would give (0644 under
    umask 022), not mkstemp's private 0600. Temporaries that a killed run left
    beside the target are removed first. Inside ``all_or_nothing()`` the rename
    waits for the end of the block. A write the disk or the folder refuses is
    one StageError naming the path.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
    except OSError as error:
        raise StageError(f"{path}: cannot be written ({error.strerror or error})") from None
    try:
        try:
            yield temporary
        except OSError as error:  # the disk filled up or the file system refused mid-write
            raise StageError(f"{path}: cannot be written ({error.strerror or error})") from None
        if _PENDING:
            _PENDING.append((temporary, path))
            return
        _rename(temporary, path)
    finally:
        if not (_PENDING and _PENDING[-1] == (temporary, path)) and os.path.exists(temporary):
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
    """Refuse a path that is not a regular file before opening it (StageError): a FIFO would block the stage
    for ever, /dev/zero or /dev/urandom would be read until memory runs out. A missing path passes (the
    caller says what writes it)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise StageError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise StageError(f"{path}: is {kind}, not {what}")


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


MAX_HEADER_CHARS = 1 << 20


def unsafe_character(name):
    """The first character of a column name that would be markup or an invisible control (None if none):
    ``<``, ``>``, and Unicode's control and format characters (line breaks, right-to-left marks)."""
    import unicodedata

    return next((char for char in name if char in "<>" or unicodedata.category(char) in ("Cc", "Cf")), None)


def split_header(path):
    """The column names of a split written by the load stage (its first line), checked as load checks them:
    named, each once, without markup or control characters."""
    regular_file(path, "a split the load stage writes; rerun `dvc repro -f load`")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            line = handle.readline(MAX_HEADER_CHARS)
    except FileNotFoundError:
        raise StageError(f"{path}: not found; run `dvc repro load` first") from None
    except UnicodeDecodeError as error:
        raise StageError(f"{path}: not UTF-8 ({error.reason} at byte {error.start}), which the load stage never "
                         "writes; rerun `dvc repro -f load`") from None
    try:
        names = next(csv.reader([line.rstrip("\r\n")], strict=True)) if line.endswith("\n") else None
    except (csv.Error, StopIteration):
        names = None
    if not names:
        raise StageError(f"{path}: its first line is not a header the load stage writes; rerun `dvc repro -f load`")
    for name in names:
        unsafe = unsafe_character(name)
        if not name.strip() or name != name.strip() or unsafe is not None or names.count(name) > 1:
            problem = (f"has {unsafe!r} in it" if unsafe else "is listed twice" if names.count(name) > 1
                       else "is empty or has spaces around it")
            raise StageError(f"{path}: column name {name[:60]!r} {problem}, which the load stage never writes; "
                             "rerun `dvc repro -f load`")
    return names


def read_columns(path, columns):
    """The named columns of a train or test CSV written by the load stage, as one float array (n, len(columns))."""
    import numpy as np

    import warnings

    position = {name: index for index, name in enumerate(split_header(path))}
    missing = [column for column in columns if column not in position]
    if missing:
        raise StageError(f"{path}: no column {missing[0]!r}; it has {', '.join(position)}; "
                         "rerun `dvc repro load` after changing data.features or data.target")
    try:
        with warnings.catch_warnings():  # an empty file is reported below, in one line
            warnings.simplefilter("ignore", UserWarning)
            values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2,
                                usecols=[position[column] for column in columns])
    except (ValueError, UnicodeDecodeError) as error:  # a cell that is no number, a row of another width
        raise StageError(f"{path}: not the CSV the load stage writes ({str(error).splitlines()[0][:120]}); "
                         "rerun `dvc repro -f load`") from None
    # The load stage writes only finite numbers and at least two rows; anything else was edited by hand.
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise StageError(f"{path}: {'no data rows' if len(values) == 0 else 'a missing or infinite value'}, "
                         "which the load stage never writes; rerun `dvc repro -f load`")
    return values


def column_chunks(path, columns, chunk_values=1 << 21):
    """The named columns of a split, as float arrays of at most ``chunk_values`` values (rows × columns) each,
    read one chunk at a time: a stage that only sums over rows holds one chunk, not the file. Checked as
    ``read_columns`` checks the whole (numbers, finite, at least one row)."""
    import itertools
    import warnings

    import numpy as np

    names = split_header(path)
    position = {name: index for index, name in enumerate(names)}
    missing = [column for column in columns if column not in position]
    if missing:
        raise StageError(f"{path}: no column {missing[0]!r}; it has {', '.join(position)}; "
                         "rerun `dvc repro load` after changing data.features or data.target")
    rows = max(1, chunk_values // max(len(names), 1))
    seen = 0
    with open(path, encoding="utf-8", newline="") as handle:
        handle.readline()
        while True:
            lines = list(itertools.islice(handle, rows))
            if not lines:
                break
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    values = np.loadtxt(lines, delimiter=",", ndmin=2, usecols=[position[column] for column in columns])
            except (ValueError, UnicodeDecodeError) as error:
                raise StageError(f"{path}: not the CSV the load stage writes ({str(error).splitlines()[0][:120]}); "
                                 "rerun `dvc repro -f load`") from None
            if not np.all(np.isfinite(values)):
                raise StageError(f"{path}: a missing or infinite value, which the load stage never writes; "
                                 "rerun `dvc repro -f load`")
            seen += len(values)
            if len(values):
                yield values
    if not seen:
        raise StageError(f"{path}: no data rows, which the load stage never writes; rerun `dvc repro -f load`")


def read_xy(path, features, target):
    """(X, y) of a split: X (n, d) from the columns ``features``, y (n,) from ``target``."""
    values = read_columns(path, [*features, target])
    return values[:, :-1], values[:, -1]


def write_model(path, name, model):
    """A fitted model as JSON: its name in models.yaml and ``to_dict()``, floats at MODEL_DIGITS."""
    write_json(path, {"model": name, "params": model.to_dict()}, digits=MODEL_DIGITS)


def save_figure(figure, path, dpi=110):
    """Save a matplotlib figure as a PNG whose bytes depend only on what it shows."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        # No 'Software' tag (it carries the version) and no timestamp: same plot, same bytes.
        figure.savefig(temporary, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(figure)


def loss_curve(losses, limit=2000):
    """Plot data for a loss per step, {"step", "loss"}: every step up to ``limit`` points, then evenly thinned.

    The first and last steps are always kept, so the curve's ends are exact.
    """
    import numpy as np

    steps = np.arange(len(losses))
    if len(losses) > limit:
        steps = np.unique(np.linspace(0, len(losses) - 1, limit).round().astype(int))
    return {"step": steps, "loss": np.asarray(losses, dtype=np.float64)[steps]}
