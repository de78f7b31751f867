"""Reading the split and writing outputs: atomically, and byte-for-byte reproducibly.

Every write goes to a temporary file beside the target and is renamed into
place, so a stage that fails or is killed leaves the old file or none, never a
truncated one. Same values in, same bytes out: JSON with sorted keys and
rounded floats, PNGs without a timestamp or software tag.
"""

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from stages.cli import StageError

SIGNIFICANT_DIGITS = 5  # metrics: enough to see a real change, few enough to fit `dvc exp show`


@contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's folder; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


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


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_csv(path, frame, float_format=None):
    """A DataFrame as CSV without its index; ``float_format`` e.g. '%.6g' for plot data."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format=float_format, lineterminator="\n")


def read_split_frame(path, columns=None):
    """A train or test CSV written by the load stage as a float DataFrame (all columns by default)."""
    import pandas as pd  # heavy: only in stages that read a split

    try:
        return pd.read_csv(path, usecols=None if columns is None else list(columns), dtype="float64")
    except FileNotFoundError:
        raise StageError(f"{path}: not found; run `dvc repro load` first") from None
    except ValueError as error:
        raise StageError(f"{path}: {error}; rerun `dvc repro -f load`") from None


def read_split(path, columns):
    """The named columns of a train or test CSV, as float arrays."""
    frame = read_split_frame(path, columns)
    return [frame[column].to_numpy() for column in columns]


def read_feature_target(path, params):
    """(x, y) of a split: the params' data.feature and data.target columns."""
    return read_split(path, (params["data"]["feature"], params["data"]["target"]))


def save_figure(figure, path, dpi=110):
    """Save a matplotlib figure as a PNG whose bytes depend only on what it shows."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        # No 'Software' tag (it carries the version) and no timestamp: same plot, same bytes.
        figure.savefig(temporary, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(figure)


def loss_curve_frame(losses, limit=2000):
    """Plot data for a loss per step: every step up to ``limit`` points, then evenly thinned.

    The first and last steps are always kept, so the curve's ends are exact.
    """
    import numpy as np
    import pandas as pd

    steps = np.arange(len(losses))
    if len(losses) > limit:
        steps = np.unique(np.linspace(0, len(losses) - 1, limit).round().astype(int))
    return pd.DataFrame({"step": steps, "loss": np.asarray(losses)[steps]})

