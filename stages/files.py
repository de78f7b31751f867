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
        for temporary, target in _PENDING[1:]:
            _rename(temporary, target)
    finally:
        for pair in _PENDING[1:]:
            if os.path.exists(pair[0]):
                os.remove(pair[0])
        _PENDING.clear()


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


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


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


def split_header(path):
    """The column names of a split written by the load stage (its first line)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return next(csv.reader([handle.readline().rstrip("\r\n")]))  # names may be quoted
    except FileNotFoundError:
        raise StageError(f"{path}: not found; run `dvc repro load` first") from None


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
    except ValueError as error:
        raise StageError(f"{path}: {error}; rerun `dvc repro -f load`") from None
    # The load stage writes only finite numbers and at least two rows; anything else was edited by hand.
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise StageError(f"{path}: {'no data rows' if len(values) == 0 else 'a missing or infinite value'}, "
                         "which the load stage never writes; rerun `dvc repro -f load`")
    return values


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
