"""The train and test splits: written by the load stage, read by every later stage, one way.

A split is a header (the column names, written by the csv module) and the data file's own rows, as
bytes (quotes around numbers dropped). What load writes, this reader accepts, and nothing else: the
names by project/column_names.py's rule (NFC, no markup, controls, line separators or formula starts,
each once, no two alike), every cell a finite number. A split edited by hand (a column renamed, a
cell that is no number, a NaN) is one UserError naming the file and the command that writes it again;
never a traceback in a later stage. The header is read in one pass (a 20,000-column split: milliseconds).
"""

import csv
import io

from project.column_names import MAX_HEADER_CHARS, header_problem
from project.errors import UserError
from project.files import regular_file, write_lines
from project.yamlfile import shown

RERUN = "rerun `dvc repro -f load`"


def csv_header(names):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(names)
    return buffer.getvalue().encode()


def unquoted(row):
    """A validated data row as the split stores it: the file's own bytes, quotes around numbers dropped.
    Every cell is a number by now, so a quote can only enclose a whole cell, and none holds a comma."""
    if b'"' not in row:
        return row
    return b",".join(field.strip() for field in row.replace(b'"', b"").split(b","))


def write_split(path, names, rows, quoted=True):
    """A split: ``names`` (checked by load) as its header, then ``rows`` (the data file's lines, bytes);
    ``quoted``: whether a row may hold quotes (else the rows are written as they are)."""
    write_lines(path, csv_header(names), [unquoted(row) for row in rows] if quoted else rows)


_PROBLEMS = {"empty": "is empty", "spaces": "has spaces around it", "long": "is too long",
             "formula": "starts with {char!r} (a spreadsheet formula)", "form": "is not in Unicode's NFC form",
             "character": "has {char!r} in it", "twice": "is listed twice", "look-alike": "looks like column {other}"}


def split_header(path):
    """The column names of a split written by the load stage (its first line), checked as load checks them."""
    regular_file(path, "a split the load stage writes; rerun `dvc repro -f load`")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            line = handle.readline(MAX_HEADER_CHARS + 2)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run `dvc repro load` first") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 ({error.reason} at byte {error.start}), which the load stage never "
                        f"writes; {RERUN}") from None
    try:
        names = next(csv.reader([line.rstrip("\r\n")], strict=True)) if line.endswith("\n") else None
    except (csv.Error, StopIteration):
        names = None
    if not names:
        raise UserError(f"{path}: its first line is not a header the load stage writes; {RERUN}")
    problem = header_problem(names)
    if problem is not None:
        position, kind, char, other = problem
        said = _PROBLEMS[kind].format(char=char, other=shown(names[other]) if other >= 0 else "")
        raise UserError(f"{path}: column name {shown(names[position])} {said}, which the load stage never "
                        f"writes; {RERUN}")
    return names


def _positions(path, columns):
    names = split_header(path)
    position = {name: index for index, name in enumerate(names)}
    missing = [column for column in columns if column not in position]
    if missing:
        listed = ", ".join(names[:30]) + (f", … ({len(names):,} columns)" if len(names) > 30 else "")
        raise UserError(f"{path}: no column {shown(missing[0])}; it has {listed}; "
                        "rerun `dvc repro load` after changing data.features or data.target")
    return names, [position[column] for column in columns]


def _parse(path, lines, usecols, skiprows=0):
    import warnings

    import numpy as np

    try:
        with warnings.catch_warnings():  # an empty file is reported by the caller, in one line
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(lines, delimiter=",", ndmin=2, usecols=usecols, dtype=np.float64, skiprows=skiprows,
                              encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as error:  # a cell that is no number, a row of another width
        raise UserError(f"{path}: not the CSV the load stage writes ({str(error).splitlines()[0][:120]}); "
                        f"{RERUN}") from None


def read_columns(path, columns):
    """The named columns of a train or test CSV written by the load stage, as one float array (n, len(columns))."""
    import numpy as np

    _, usecols = _positions(path, columns)
    values = _parse(path, path, usecols, skiprows=1)
    # The load stage writes only finite numbers and at least two rows; anything else was edited by hand.
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise UserError(f"{path}: {'no data rows' if len(values) == 0 else 'a missing or infinite value'}, "
                        f"which the load stage never writes; {RERUN}")
    return values


def column_chunks(path, columns, chunk_values=1 << 21):
    """The named columns of a split, as float arrays of at most ``chunk_values`` values (rows × columns) each,
    read one chunk at a time: a stage that only sums over rows holds one chunk, not the file. Checked as
    ``read_columns`` checks the whole (numbers, finite, at least one row)."""
    import itertools

    import numpy as np

    names, usecols = _positions(path, columns)
    rows = max(1, chunk_values // max(len(names), 1))
    seen = 0
    with open(path, encoding="utf-8", newline="") as handle:
        handle.readline()
        while True:
            lines = list(itertools.islice(handle, rows))
            if not lines:
                break
            values = _parse(path, lines, usecols)
            if not np.all(np.isfinite(values)):
                raise UserError(f"{path}: a missing or infinite value, which the load stage never writes; {RERUN}")
            seen += len(values)
            if len(values):
                yield values
    if not seen:
        raise UserError(f"{path}: no data rows, which the load stage never writes; {RERUN}")


def read_xy(path, features, target):
    """(X, y) of a split: X (n, d) from the columns ``features``, y (n,) from ``target``."""
    values = read_columns(path, [*features, target])
    return values[:, :-1], values[:, -1]
