"""Reading the train and test splits the load stage writes: checked as load writes them, read as numbers.

A split edited by hand (a column renamed, a cell that is no number, a NaN) is one UserError naming
the file and the command that writes it again; never a traceback in a later stage.
"""

import csv
import os

from project.errors import UserError
from project.files import regular_file


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
        raise UserError(f"{path}: not found; run `dvc repro load` first") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 ({error.reason} at byte {error.start}), which the load stage never "
                         "writes; rerun `dvc repro -f load`") from None
    try:
        names = next(csv.reader([line.rstrip("\r\n")], strict=True)) if line.endswith("\n") else None
    except (csv.Error, StopIteration):
        names = None
    if not names:
        raise UserError(f"{path}: its first line is not a header the load stage writes; rerun `dvc repro -f load`")
    for name in names:
        unsafe = unsafe_character(name)
        if not name.strip() or name != name.strip() or unsafe is not None or names.count(name) > 1:
            problem = (f"has {unsafe!r} in it" if unsafe else "is listed twice" if names.count(name) > 1
                       else "is empty or has spaces around it")
            raise UserError(f"{path}: column name {name[:60]!r} {problem}, which the load stage never writes; "
                             "rerun `dvc repro -f load`")
    return names


def read_columns(path, columns):
    """The named columns of a train or test CSV written by the load stage, as one float array (n, len(columns))."""
    import numpy as np

    import warnings

    position = {name: index for index, name in enumerate(split_header(path))}
    missing = [column for column in columns if column not in position]
    if missing:
        raise UserError(f"{path}: no column {missing[0]!r}; it has {', '.join(position)}; "
                         "rerun `dvc repro load` after changing data.features or data.target")
    try:
        with warnings.catch_warnings():  # an empty file is reported below, in one line
            warnings.simplefilter("ignore", UserWarning)
            values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2,
                                usecols=[position[column] for column in columns])
    except (ValueError, UnicodeDecodeError) as error:  # a cell that is no number, a row of another width
        raise UserError(f"{path}: not the CSV the load stage writes ({str(error).splitlines()[0][:120]}); "
                         "rerun `dvc repro -f load`") from None
    # The load stage writes only finite numbers and at least two rows; anything else was edited by hand.
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise UserError(f"{path}: {'no data rows' if len(values) == 0 else 'a missing or infinite value'}, "
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
        raise UserError(f"{path}: no column {missing[0]!r}; it has {', '.join(position)}; "
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
                raise UserError(f"{path}: not the CSV the load stage writes ({str(error).splitlines()[0][:120]}); "
                                 "rerun `dvc repro -f load`") from None
            if not np.all(np.isfinite(values)):
                raise UserError(f"{path}: a missing or infinite value, which the load stage never writes; "
                                 "rerun `dvc repro -f load`")
            seen += len(values)
            if len(values):
                yield values
    if not seen:
        raise UserError(f"{path}: no data rows, which the load stage never writes; rerun `dvc repro -f load`")


def read_xy(path, features, target):
    """(X, y) of a split: X (n, d) from the columns ``features``, y (n,) from ``target``."""
    values = read_columns(path, [*features, target])
    return values[:, :-1], values[:, -1]


