"""Stage `load`: read and validate the CSV, then write a seeded train/test split.

    python -m stages.load --train data/prepared/train.csv --test data/prepared/test.csv

Reads bytes, not assumptions: UTF-8 with or without a byte-order mark; anything else (another
encoding, UTF-16, a compressed or binary file, a directory) is named as what it is. Ambiguous
tables are refused, never guessed: duplicate or space-padded column names, rows wider or narrower
than the header. Every message names the file, the line and the column as the user's editor shows them.
"""

import math
import os
import stat

import numpy as np

from stages.cli import StageError, stage_arguments, stage_main
from stages.files import write_lines

# Values are refused beyond this: a square, a sum over 10^6 rows, random_search's coefficients (up to
# 1e9, times up to ~100 features) and the spread of fold MSEs (fourth powers) all stay inside float64
# (about 1.8e308) ...
LARGEST_VALUE = 1e50  # written out as ±1e50 in the messages
# ... and non-zero values below this in size are refused too: standardising such a column divides by
# a spread whose square underflows, and the models would see a constant.
SMALLEST_NONZERO = 1e-50
MIN_TRAIN_ROWS, MIN_TEST_ROWS = 3, 2
MISSING_WORDS = {"nan", "na", "n/a", "null", "none", "#n/a", "-nan", "missing", "?"}

MAGIC = (  # leading bytes -> what the file is
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx workbook)"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "a compiled program (ELF)"),
)
BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)
UTF8_BOM = b"\xef\xbb\xbf"


def read_bytes(path):
    """The file's bytes, past a UTF-8 byte-order mark; StageError if it is not a UTF-8 text file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise StageError(f"{path}: file not found; point data.csv in params.yaml at your CSV") from None
    if stat.S_ISDIR(info.st_mode):
        raise StageError(f"{path}: is a directory, not a CSV file; point data.csv at the file itself")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a character device (like /dev/null)" if stat.S_ISCHR(info.st_mode)
                else "a named pipe" if stat.S_ISFIFO(info.st_mode) else "not a regular file")
        raise StageError(f"{path}: is {kind}, not a CSV file; point data.csv at your CSV")
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip():
        raise StageError(f"{path}: the file is empty")
    for mark, encoding in BOMS:
        if data.startswith(mark):
            raise StageError(f"{path}: is {encoding} text (its first bytes are a {encoding} byte-order mark); "
                             "save the file as UTF-8")
    for magic, kind in MAGIC:
        if data.startswith(magic):
            raise StageError(f"{path}: is {kind}, not a text CSV; extract or export it as a UTF-8 CSV")
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    nul = data.find(b"\x00", 0, 1 << 16)
    if nul >= 0:
        head = data[:1 << 12]
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            raise StageError(f"{path}: looks like UTF-16 text without a byte-order mark (every other byte is 0); "
                             "save the file as UTF-8")
        line = data.count(b"\n", 0, nul) + 1
        raise StageError(f"{path}: is a binary file, not a text CSV (a NUL byte on line {line}); "
                         "point data.csv at a comma-separated text file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[start:error.start].decode("utf-8", errors="replace")) + 1
        raise StageError(f"{path}: line {line} is not UTF-8 (byte 0x{data[error.start]:02x} at column "
                         f"{column}); save the file as UTF-8") from None
    return data


def _fields(line):
    import csv

    return next(csv.reader([line.decode("utf-8")]), [])


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


class Table:
    """The parsed CSV: ``frame`` (floats), ``names``, the raw data ``rows`` (bytes, no newline) and
    ``numbers``, the 1-based file line of each data row (blank lines are skipped, not renumbered)."""

    def __init__(self, path, frame, names, rows, numbers, header_line):
        self.path, self.frame, self.names, self.rows = path, frame, names, rows
        self.numbers, self.header_line = numbers, header_line

    def cell(self, row, column):
        """The raw text of one cell, as the file has it."""
        fields = self.rows[row].split(b",") if b'"' not in self.rows[row] else \
            [field.encode() for field in _fields(self.rows[row])]
        return fields[column].decode("utf-8").strip(" \t")  # other spaces (e.g. U+00A0) stay visible

    def where(self, row, column):
        return f"{self.path}: column {self.names[column]!r}, line {self.numbers[row]}"


def read_table(path):
    """The CSV as a Table; StageError naming any bad byte, line, header or cell.

    Accepts scikit-learn's layout (a first line of counts such as `506,13,,,` above the column
    names) and a plain CSV whose first line is the names. The happy path is pandas' C parser on
    the file's bytes (fast at 10^6 rows); the diagnosis runs only on failure.
    """
    import io

    import pandas as pd

    data = read_bytes(path)
    if b"\r" in data:  # Windows' CRLF and old Mac's lone CR both end a line
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if any(not line.strip() for line in lines):  # keep each row's own line number
        numbers = [number for number, line in enumerate(lines, 1) if line.strip()]
        lines = [line for line in lines if line.strip()]
    else:
        numbers = range(1, len(lines) + 1)

    first = [field.strip() for field in _fields(lines[0])]
    skip = 1 if all(field == "" or _is_number(field) for field in first) else 0
    if len(lines) <= skip:
        raise StageError(f"{path}: no column names after line {numbers[0]}; the file has no table")
    if skip and all(_is_number(field.strip()) for field in _fields(lines[1])):
        # Numbers on both first lines: data with no header, or column names that are numbers. Either
        # way which line names the columns is a guess, and a wrong guess shifts every column.
        raise StageError(f"{path}: lines {numbers[0]} and {numbers[1]} are both numbers, so no line names the "
                         "columns; put a line of column names (not numbers) above the data")
    header, header_line = lines[skip], numbers[skip]
    for delimiter in (";", "\t", "|"):
        if header.count(delimiter.encode()) >= 1 and header.count(b",") == 0:
            raise StageError(f"{path}: line {header_line} is separated by {delimiter!r}, not commas; "
                             "save the file as comma-separated CSV")
    names = _fields(header)
    check_names(path, names, header_line)
    rows, numbers = lines[skip + 1:], numbers[skip + 1:]
    if not rows:
        raise StageError(f"{path}: has column names but no data rows")
    check_widths(path, rows, numbers, len(names), header_line)

    frame = pd.read_csv(io.BytesIO(b"\n".join(rows)), header=None, names=names, index_col=False,
                        keep_default_na=False, na_values=[""], engine="c")
    table = Table(path, frame, names, rows, numbers, header_line)
    check_values(table)
    table.frame = frame.astype(np.float64)
    return table


def check_names(path, names, line):
    for position, name in enumerate(names, 1):
        if not name.strip():
            raise StageError(f"{path}: column {position} has no name in the header (line {line}); name it")
        if name != name.strip():
            raise StageError(f"{path}: column {name!r} has spaces around its name (header, line {line}); "
                             f"remove them, e.g. {name.strip()!r}")
    seen = {}
    for position, name in enumerate(names, 1):
        if name in seen:
            raise StageError(f"{path}: column {name!r} appears twice in the header (line {line}): columns "
                             f"{seen[name]} and {position}; rename one so every column has its own name")
        seen[name] = position


def check_widths(path, rows, numbers, width, header_line):
    """Every row has exactly one field per column: pandas would otherwise shift or pad columns."""
    if any(b'"' in row for row in rows):
        counts = np.fromiter((len(_fields(row)) for row in rows), dtype=np.int64, count=len(rows))
    else:
        counts = np.fromiter((row.count(b",") for row in rows), dtype=np.int64, count=len(rows)) + 1
    bad = np.flatnonzero(counts != width)
    if bad.size:
        row, count = int(bad[0]), int(counts[bad[0]])
        side = "more" if count > width else "fewer"
        hint = " (a comma inside a number, e.g. 1,000?)" if count > width else ""
        raise StageError(f"{path}: line {numbers[row]} has {count} fields, {side} than the {width} columns "
                         f"of the header (line {header_line}){hint}; every row needs exactly one value per "
                         f"column ({bad.size} such row{'s' * (bad.size > 1)})")


def check_values(table):
    """Every cell a finite number within ±LARGEST_VALUE; else the first bad cell, by column."""
    import pandas as pd

    frame = table.frame
    for column, name in enumerate(table.names):
        values = frame[name]
        if values.dtype.kind not in "fiu":  # some cell is not a number: find the first one
            parsed = pd.to_numeric(values.astype(object), errors="coerce")
            bad = (parsed.isna() & values.notna()).to_numpy()
            row = int(bad.argmax())
            text = table.cell(row, column)
            problem = (f"is {text!r} (not a number)" if text.lower() in MISSING_WORDS
                       else f"{text!r} is not a number")
            raise StageError(f"{table.where(row, column)}: {problem}; every cell must be a number "
                             f"({int(bad.sum())} bad in this column)")
        numbers = values.to_numpy(dtype=np.float64)
        size = np.abs(numbers)
        bad = ~(size <= LARGEST_VALUE) | ((size < SMALLEST_NONZERO) & (size > 0))  # NaN, inf, too large or small
        if bad.any():
            row = int(bad.argmax())
            value, text = numbers[row], table.cell(row, column)
            if np.isnan(value):
                problem = "is empty (a missing value); every cell must be a finite number"
            elif np.isinf(value):
                problem = f"{text!r} is infinite; every cell must be a finite number"
            elif abs(value) > LARGEST_VALUE:
                problem = (f"{text} is too large: values must lie within ±1e50 so that squares "
                           "and sums stay finite; rescale the column (e.g. to thousands)")
            else:
                problem = (f"{text} is too small: values other than 0 must be at least 1e-50 in size, "
                           "or the column's spread underflows; rescale the column (e.g. to millionths)")
            raise StageError(f"{table.where(row, column)}: {problem} ({int(bad.sum())} bad in this column)")


def _did_you_mean(name, names):
    import difflib

    by_case = [column for column in names if column.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _constant(values):
    return values.size > 0 and bool(np.all(values == values[0]))


def check_columns(table, features, target, test_size):
    """The params' columns exist and vary, and the rows are enough for the split."""
    frame, path = table.frame, table.path
    for key, columns in (("data.target", [target]), ("data.features", features)):
        for column in columns:
            if column not in frame.columns:
                raise StageError(f"{path}: no column {column!r} (from {key} in params.yaml"
                                 f"{_did_you_mean(column, table.names)}); columns are: {', '.join(table.names)}")
    n = len(frame)
    n_test = math.ceil(n * test_size)
    n_train = n - n_test
    if n_test < MIN_TEST_ROWS or n_train < MIN_TRAIN_ROWS:
        least = MIN_TRAIN_ROWS + MIN_TEST_ROWS
        advice = (f"use at least {least} rows" if n < least else
                  f"raise data.test_size to at least {MIN_TEST_ROWS / n:.2g}" if n_test < MIN_TEST_ROWS else
                  f"lower data.test_size to at most {1 - MIN_TRAIN_ROWS / n:.2g}")
        raise StageError(f"{path}: {n} data row{'s' * (n != 1)} with data.test_size = {test_size:g} split into "
                         f"{n_train} training and {n_test} test rows; need at least {MIN_TRAIN_ROWS} training "
                         f"and {MIN_TEST_ROWS} test rows: {advice}")
    for key, column in [("data.target", target)] + [("data.features", feature) for feature in features]:
        values = frame[column].to_numpy()
        if _constant(values):
            what = "there is nothing to predict" if key == "data.target" else \
                "drop it from data.features or choose a column that varies"
            raise StageError(f"{path}: column {column!r} ({key}) is constant (every row is {values[0]:g}); {what}")


def split_rows(n, test_size, seed):
    """(train, test) row indices: the very split of scikit-learn's train_test_split(random_state=seed),
    without importing scikit-learn (one second of start-up)."""
    n_test = math.ceil(n * test_size)
    permutation = np.random.RandomState(seed).permutation(n)
    return permutation[n_test:], permutation[:n_test]


def unquoted(row):
    """A validated data row as the split stores it: the file's own bytes, quotes around numbers dropped
    (every cell is a number by now, so none holds a comma)."""
    if b'"' not in row:
        return row
    return ",".join(field.strip() for field in _fields(row)).encode()


def csv_header(columns):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(columns)
    return buffer.getvalue().encode()


READS = ["seed", "data.csv", "data.target", "data.features", "data.test_size"]


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, {"train": "the training split to write (CSV)",
                                                   "test": "the held-out split to write (CSV)"}, READS)
    data, seed = params["data"], params["seed"]
    table = read_table(data["csv"])
    check_columns(table, data["features"], data["target"], data["test_size"])
    train_rows, test_rows = split_rows(len(table.frame), data["test_size"], seed)
    for column in [data["target"], *data["features"]]:
        key = "data.target" if column == data["target"] else "data.features"
        if _constant(table.frame[column].to_numpy()[train_rows]):
            raise StageError(f"{data['csv']}: the training split's {column!r} ({key}) is constant; "
                             "use more rows, another seed or a smaller data.test_size")
    header = csv_header(table.names)
    for path, rows in ((args.train, train_rows), (args.test, test_rows)):
        write_lines(path, header, [unquoted(table.rows[row]) for row in rows])


if __name__ == "__main__":
    raise SystemExit(main())
