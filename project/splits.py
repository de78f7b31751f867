"""The train and test splits: written by the load stage, read by every later stage, one way.

A split is a header (the column names, written by the csv module) and the data file's own rows, as
bytes (quotes around numbers dropped). What load writes, this reader accepts, and nothing else: the
names by project/column_names.py's rule (NFC, no markup, controls, line separators or formula starts,
each once, no two alike), every cell a finite number. A split edited by hand (a column renamed, a
cell that is no number, a NaN) is one UserError naming the file and the command that writes it again;
never a traceback in a later stage. The header is read in one pass (a 20,000-column split: milliseconds);
the values by one C parser (numpy's for a small split, pandas' for a large one), only up to the last column
asked for in a wide split; every row's width is checked.
"""

import csv
import io

from project.column_names import MAX_HEADER_CHARS, header_problem
from project.errors import UserError
from project.files import regular_file, write_lines
from project.numbers import SMALL_BYTES, WIDE_COLUMNS, parse_wide
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


# Below SMALL_BYTES of rows a split is parsed by numpy (pandas' import alone takes 0.25 s, longer than numpy
# takes to read the Boston split); above it by pandas' C parser, about 4x numpy's speed (project/numbers.py).
# A row is cut after the last column a caller reads when the split is at least this many columns wider:
# the fields after it are counted (every row's width is checked) but never parsed.
CUT_COLUMNS = 64


def _body(path):
    """(the split's rows as bytes (header line dropped, "\n"-terminated), their number)."""
    regular_file(path, "a split the load stage writes; rerun `dvc repro -f load`")
    with open(path, "rb") as handle:
        handle.readline(4 * (MAX_HEADER_CHARS + 2))  # split_header read it whole: at most this many UTF-8 bytes
        body = handle.read()
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return body, body.count(b"\n")


def _not_ours(path, problem):
    return UserError(f"{path}: not the CSV the load stage writes ({problem}); {RERUN}")


def _values(path, body, rows, width, usecols):
    """The columns ``usecols`` (positions, in the order asked) of ``rows`` rows of ``width`` fields each, as
    floats (rows, len(usecols)); UserError for a row of another width or a cell that is no number."""
    import numpy as np

    if body.count(b",") != rows * (width - 1):
        raise _not_ours(path, f"a row without the header's {width} fields")
    if not rows:
        return np.empty((0, len(usecols)))
    wanted = sorted(set(usecols))
    last = wanted[-1]
    if width - last - 1 >= CUT_COLUMNS:  # a wide split: parse each row's fields up to the last one read
        body = b"\n".join(b",".join(line.split(b",", last + 1)[:last + 1]) for line in body.split(b"\n")[:-1]) + b"\n"
    elif width >= WIDE_COLUMNS:  # every column of a wide split (eda): its cells as one column, each row counted
        if any(line.count(b",") != width - 1 for line in body.split(b"\n")[:-1]):
            raise _not_ours(path, f"a row without the header's {width} fields")
        values = parse_wide(body, rows, width)
        if values is not None:
            return values if usecols == list(range(width)) else np.take(values, usecols, axis=1)
    if len(body) < SMALL_BYTES:
        values = _parse_numpy(path, body, wanted)
    else:
        values = _parse_pandas(path, body, wanted)
    if values.shape != (rows, len(wanted)):
        raise _not_ours(path, f"{values.shape[0]} rows of {values.shape[1]} fields read, {rows} expected")
    if usecols == wanted:
        return values
    position = {column: index for index, column in enumerate(wanted)}
    return np.take(values, [position[column] for column in usecols], axis=1)  # in the order asked, C-ordered


def _parse_numpy(path, body, usecols):
    import numpy as np

    try:
        return np.loadtxt(body.decode("utf-8").splitlines(), delimiter=",", ndmin=2, usecols=usecols,
                          dtype=np.float64)
    except (ValueError, UnicodeDecodeError) as error:  # a cell that is no number
        raise _not_ours(path, str(error).splitlines()[0][:120]) from None


def _parse_pandas(path, body, usecols):
    """The columns ``usecols`` as a C-ordered float array, copied once from pandas' columns (its frames are
    column-major, and a gather of rows from such an array is 30 times as slow as from rows in order)."""
    import io

    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body), header=None, usecols=usecols, dtype=np.float64, engine="c",
                            encoding="utf-8", keep_default_na=False, na_values=["nan", "NaN", "-nan"],
                            low_memory=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise _not_ours(path, str(error).strip().splitlines()[0][:120]) from None
    values = np.empty(frame.shape)
    for position, column in enumerate(frame.columns):
        values[:, position] = frame[column].to_numpy(dtype=np.float64)
    return values


def read_columns(path, columns):
    """The named columns of a train or test CSV written by the load stage, as one float array (n, len(columns))."""
    import numpy as np

    names, usecols = _positions(path, columns)
    body, rows = _body(path)
    values = _values(path, body, rows, len(names), usecols)
    # The load stage writes only finite numbers and at least two rows; anything else was edited by hand.
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise UserError(f"{path}: {'no data rows' if len(values) == 0 else 'a missing or infinite value'}, "
                        f"which the load stage never writes; {RERUN}")
    return values


def column_chunks(path, columns, chunk_values=1 << 21):
    """The named columns of a split, as float arrays of at most ``chunk_values`` values (rows × columns) each:
    row chunks of a size set by the split's width alone, so a sum over chunks adds in the same order at any
    length. The split is parsed once (its values are held, as the load stage holds the whole file); checked
    as ``read_columns`` checks the whole (numbers, finite, at least one row)."""
    import numpy as np

    names, usecols = _positions(path, columns)
    rows = max(1, chunk_values // max(len(names), 1))
    body, count = _body(path)
    values = _values(path, body, count, len(names), usecols)
    del body
    if not count:
        raise UserError(f"{path}: no data rows, which the load stage never writes; {RERUN}")
    for start in range(0, count, rows):
        chunk = values[start:start + rows]
        if not np.all(np.isfinite(chunk)):
            raise UserError(f"{path}: a missing or infinite value, which the load stage never writes; {RERUN}")
        yield chunk


def read_xy(path, features, target):
    """(X, y) of a split: X (n, d) from the columns ``features``, y (n,) from ``target``."""
    values = read_columns(path, [*features, target])
    return values[:, :-1], values[:, -1]  # views of C-ordered rows: a gather of rows stays fast


def seeded_sample(x, y, rows, seed):
    """At most ``rows`` of (x, y): the same sorted, seeded choice on every run (a large split's sample)."""
    if len(x) <= rows:
        return x, y
    import numpy as np

    chosen = np.sort(np.random.default_rng(seed).choice(len(x), rows, replace=False))
    return x[chosen], y[chosen]
