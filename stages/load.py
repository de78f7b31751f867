"""Stage `load`: read and validate the CSV, then write a seeded train/test split.

    python -m stages.load --train data/prepared/train.csv --test data/prepared/test.csv
    (optional: --summary metrics/data.json, the split's facts and warnings as JSON)

Reads bytes, not assumptions: UTF-8 with or without a byte-order mark; anything else (another
encoding, UTF-16, a compressed or binary file, a directory) is named as what it is. Ambiguous
tables are refused, never guessed: duplicate or space-padded column names, rows wider or narrower
than the header, another separator, a title or comment above the column names, true/false cells.
Every message names the file, the line and the column as the user's editor shows them.

Data that loads but would mislead is said, not refused: a `warning: load: ...` line on stderr for
test rows that copy training rows, more features than training rows, and values far outside the
rest of their column. ``--summary`` writes these facts (and what the tutorial's exact lookup table
does with the split) as JSON.
"""

import math
import os
import unicodedata
import stat
import sys
from pathlib import Path

import numpy as np

from stages.cli import UserError, path_option, stage_main, stage_parser
from project.files import write_json, write_lines
from project.params import read_params

# Values are refused beyond this: a square, a sum over 10^6 rows, random_search's coefficients (up to
# 1e9, times up to ~100 features) and the spread of fold MSEs (fourth powers) all stay inside float64
# (about 1.8e308) ...
LARGEST_VALUE = 1e50  # written out as ±1e50 in the messages
# ... and non-zero values below this in size are refused too: standardising such a column divides by
# a spread whose square underflows, and the models would see a constant.
SMALLEST_NONZERO = 1e-50
MIN_TRAIN_ROWS, MIN_TEST_ROWS = 3, 2
MISSING_WORDS = {"nan", "na", "n/a", "null", "none", "#n/a", "-nan", "missing", "?"}
BOOLEAN_WORDS = {"true", "false", "yes", "no"}  # pandas reads a column of TRUE/FALSE as booleans
SAMPLE_LINES = 20  # the first lines, where a separator, a title or a comment shows
SEPARATORS = (";", "\t", "|", ":")  # what a CSV is not separated by: Excel's European CSV, TSV, pipes, passwd
# A value is far outside its column when it is more than FAR_SPREADS interquartile ranges from the
# column's median *and* more than FAR_GAP times farther from it than every value nearer in: the long
# tail of a skewed column (CRIM: up to 25 IQRs on the bundled data; a lognormal like it at 10^6 rows
# reaches 5,000-30,000 IQRs, each value at most ~4 times the next) is a continuum with no such gap;
# a typo like 1e45, a unit slip or a code like -9999 is not. Scale-free: units and origin do not matter.
FAR_SPREADS, FAR_GAP = 100.0, 100.0

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
    """The file's bytes, past a UTF-8 byte-order mark; UserError if it is not a UTF-8 text file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; point data.csv in params.yaml at your CSV") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path}: is a directory, not a CSV file; point data.csv at the file itself")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a character device (like /dev/null)" if stat.S_ISCHR(info.st_mode)
                else "a named pipe" if stat.S_ISFIFO(info.st_mode) else "not a regular file")
        raise UserError(f"{path}: is {kind}, not a CSV file; point data.csv at your CSV")
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip():
        raise UserError(f"{path}: the file is empty")
    for mark, encoding in BOMS:
        if data.startswith(mark):
            raise UserError(f"{path}: is {encoding} text (its first bytes are a {encoding} byte-order mark); "
                             "save the file as UTF-8")
    for magic, kind in MAGIC:
        if data.startswith(magic):
            raise UserError(f"{path}: is {kind}, not a text CSV; extract or export it as a UTF-8 CSV")
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    nul = data.find(b"\x00", 0, 1 << 16)
    if nul >= 0:
        head = data[:1 << 12]
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            raise UserError(f"{path}: looks like UTF-16 text without a byte-order mark (every other byte is 0); "
                             "save the file as UTF-8")
        line = data.count(b"\n", 0, nul) + 1
        raise UserError(f"{path}: is a binary file, not a text CSV (a NUL byte on line {line}); "
                         "point data.csv at a comma-separated text file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[start:error.start].decode("utf-8", errors="replace")) + 1
        raise UserError(f"{path}: line {line} is not UTF-8 (byte 0x{data[error.start]:02x} at column "
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
    ``numbers``, the 1-based file line of each data row (blank lines are skipped, not renumbered);
    ``count_line``, scikit-learn's first line of counts (bytes), or None."""

    def __init__(self, path, frame, names, rows, numbers, header_line, count_line=None):
        self.path, self.frame, self.names, self.rows = path, frame, names, rows
        self.numbers, self.header_line, self.count_line = numbers, header_line, count_line

    def cell(self, row, column):
        """The raw text of one cell, as the file has it."""
        fields = self.rows[row].split(b",") if b'"' not in self.rows[row] else \
            [field.encode() for field in _fields(self.rows[row])]
        return fields[column].decode("utf-8").strip(" \t")  # other spaces (e.g. U+00A0) stay visible

    def where(self, row, column):
        return f"{self.path}: column {self.names[column]!r}, line {self.numbers[row]}"


def check_quoted_line_breaks(path, data, head=1 << 16):
    """Refuse a line break inside a quoted cell of the file's first lines (a column name, most often).

    RFC 4180 allows it, but every line below would then be read as the wrong row; it is said for what
    it is before anything else blames a title line or a field count.
    """
    import csv
    import io

    if b'"' not in data[:head]:
        return
    text = data[:head].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for _, row in zip(range(SAMPLE_LINES), reader):
            start = reader.line_num
            for field in row:
                bad = next((char for char in field if char in "\r\n"), None)
                if bad is not None:
                    line = start - field.count("\n") - field.count("\r")
                    raise UserError(f"{path}: line {line}: the quoted cell {field!r} has {bad!r} in its name or "
                                     "value (a line break inside quotes), so every line below would be read as the "
                                     "wrong row; put the cell on one line")
    except csv.Error:
        return  # an unclosed quote in the head: the checks below say where


def read_table(path):
    """The CSV as a Table; UserError naming any bad byte, line, header or cell.

    Accepts scikit-learn's layout (a first line of counts such as `506,13,,,` above the column
    names) and a plain CSV whose first line is the names. The happy path is pandas' C parser on
    the file's bytes (fast at 10^6 rows); the diagnosis runs only on failure.
    """
    import io

    import pandas as pd

    data = read_bytes(path)
    check_quoted_line_breaks(path, data)
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

    check_separator(path, lines[:SAMPLE_LINES], numbers)
    first = [field.strip() for field in _fields(lines[0])]
    skip = 1 if all(field == "" or _is_number(field) for field in first) else 0
    if len(lines) <= skip:
        raise UserError(f"{path}: no column names after line {numbers[0]}; the file has no table")
    if skip and all(_is_number(field.strip()) for field in _fields(lines[1])):
        # Numbers on both first lines: data with no header, or column names that are numbers. Either
        # way which line names the columns is a guess, and a wrong guess shifts every column.
        raise UserError(f"{path}: lines {numbers[0]} and {numbers[1]} are both numbers, so no line names the "
                         "columns; put a line of column names (not numbers) above the data")
    check_preamble(path, lines, numbers, skip)
    header, header_line = lines[skip], numbers[skip]
    if _is_comment(header):  # numpy.savetxt(header=...) writes the names so: "# RM,MEDV"
        raise UserError(f"{path}: line {header_line} starts with '#' ({_show(header)}): a comment, not column "
                         "names; a CSV has no comments: if it names the columns remove the '#', else delete it")
    names = _fields(header)
    check_names(path, names, header_line)
    rows, numbers = lines[skip + 1:], numbers[skip + 1:]
    if not rows:
        raise UserError(f"{path}: has column names but no data rows")
    check_widths(path, rows, numbers, len(names), header_line)

    frame = pd.read_csv(io.BytesIO(b"\n".join(rows)), header=None, names=names, index_col=False,
                        keep_default_na=False, na_values=[""], engine="c")
    table = Table(path, frame, names, rows, numbers, header_line, lines[0] if skip else None)
    check_values(table)
    table.frame = frame.astype(np.float64)
    return table


def check_names(path, names, line):
    for position, name in enumerate(names, 1):
        if not name.strip():
            raise UserError(f"{path}: column {position} has no name in the header (line {line}); name it")
        if name != name.strip():
            raise UserError(f"{path}: column {name!r} has spaces around its name (header, line {line}); "
                             f"remove them, e.g. {name.strip()!r}")
        unsafe = next((char for char in name if char in "<>" or unicodedata.category(char) in ("Cc", "Cf")), None)
        if unsafe is not None:
            # Names become labels in the plots page DVC writes, inside a <script>, without escaping.
            raise UserError(f"{path}: column {name!r} has {unsafe!r} in its name (header, line {line}), which "
                             f"would be markup or an invisible control in the plots and the report; rename it, "
                             f"e.g. {''.join(char for char in name if char.isalnum() or char in '_-. ') or 'x'!r}")
    seen = {}
    for position, name in enumerate(names, 1):
        if name in seen:
            raise UserError(f"{path}: column {name!r} appears twice in the header (line {line}): columns "
                             f"{seen[name]} and {position}; rename one so every column has its own name")
        seen[name] = position


def _show(line, limit=60):
    """A line of the file as a message quotes it: its text, shortened."""
    text = line.decode("utf-8").strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _is_comment(line):
    """A line that starts with '#' (but not a first column named just '#', e.g. a row number's)."""
    return line.lstrip().startswith(b"#") and not line.lstrip()[1:].lstrip(b" \t").startswith((b",", b'"'))


def _agreement(counts):
    """The share of lines on the most common positive count (0.0 when every count is 0)."""
    positive = [count for count in counts if count > 0]
    if not positive:
        return 0.0
    mode = max(set(positive), key=lambda count: (positive.count(count), count))
    return counts.count(mode) / len(counts)


def check_separator(path, lines, numbers):
    """Refuse a file whose first lines agree on another separator better than on commas.

    A CSV's lines agree on their number of fields; a semicolon, tab, pipe or colon file (Excel's
    European CSV, a TSV, /etc/passwd) has its commas, if any, at random and its own separator on
    every line. Spaces count only where no line has a comma (a whitespace-aligned table). Comment
    lines are left out: they are refused as such, later.
    """
    sample = [(number, line) for number, line in zip(numbers, lines) if not _is_comment(line)]
    if not sample:
        return
    texts = [line.decode("utf-8") for _, line in sample]
    commas = _agreement([len(_fields(line)) - 1 for _, line in sample])
    best = max(SEPARATORS, key=lambda separator: _agreement([text.count(separator) for text in texts]))
    share = _agreement([text.count(best) for text in texts])
    if share >= 0.5 and share > commas:
        line = next(number for (number, _), text in zip(sample, texts) if best in text)
        raise UserError(f"{path}: line {line} is separated by {best!r}, not commas; "
                         "save the file as comma-separated CSV")
    if commas == 0 and _agreement([len(text.split()) - 1 for text in texts]) >= 0.5:
        line = next(number for (number, _), text in zip(sample, texts) if len(text.split()) > 1)
        raise UserError(f"{path}: line {line} is separated by spaces, not commas; "
                         "save the file as comma-separated CSV")


def _line_kind(line):
    """What a line looks like on its own: 'numbers' (mostly numbers: a row of data), 'counts' (a few
    numbers and more empty fields: scikit-learn's `506,13,,,` line), 'comment', 'names' or 'empty'."""
    if _is_comment(line):
        return "comment"
    fields = [field.strip() for field in _fields(line)]
    filled = [field for field in fields if field]
    count = sum(1 for field in filled if _is_number(field))
    if 2 * count > len(filled):
        return "counts" if count == len(filled) and len(fields) > 2 * count else "numbers"
    words = [field for field in filled if not _is_number(field) and field.lower() not in MISSING_WORDS]
    return "names" if words else "empty"


def check_preamble(path, lines, numbers, skip):
    """Refuse lines between the start (or scikit-learn's count line) and the column names.

    The column names are the first line of names followed by lines of numbers, provided no row of
    data comes before it; a title, a note, a comment or a count line above them would otherwise be
    read as the header, and the rows below blamed for it.
    """
    kinds = [_line_kind(line) for line in lines[skip:skip + SAMPLE_LINES]]
    for header, kind in enumerate(kinds):
        if kind == "numbers":
            return  # data before any header-like line: the first line is the header, as before
        following = kinds[header + 1:header + 3]
        if kind == "names" and following and all(after == "numbers" for after in following):
            break
    else:
        return
    if header == 0:
        return
    first, names = lines[skip], lines[skip + header]
    where, names_line = numbers[skip], numbers[skip + header]
    if _is_comment(first):
        raise UserError(f"{path}: line {where} is a comment ({_show(first)}) above the column names on line "
                         f"{names_line}; a CSV has no comments: delete it, so the column names come first")
    fields = [field.strip() for field in _fields(first)]
    if len(fields) != len(_fields(names)) or sum(1 for field in fields if field) <= 1:
        raise UserError(f"{path}: line {where} ({_show(first)}) is not part of the table (a title or a note?): "
                         f"the column names are on line {names_line}; delete it, so the column names come first")
    raise UserError(f"{path}: lines {where} and {names_line} both hold names, not numbers, so which line names "
                     "the columns is a guess; keep one line of column names above the data (delete the other, "
                     "e.g. a line of units)")


def _row_problem(table, row):
    """What is wrong with a whole data row, if it is not a row of data at all (else None)."""
    line, number = table.rows[row], table.numbers[row]
    if _is_comment(line):
        count = sum(1 for other in table.rows if _is_comment(other))
        return (f"{table.path}: line {number} is a comment ({_show(line)}); a CSV has no comments: delete every "
                f"line that starts with '#' ({count} such line{'s' * (count > 1)})")
    if table.count_line is not None and line.strip() == table.count_line.strip():
        return (f"{table.path}: line {number} repeats the count line (line 1, {_show(table.count_line)}) (two "
                "files joined?); delete it")
    fields = [field.strip() for field in _fields(line)]
    if len(table.names) > 1 and _line_kind(line) == "names" and not any(_is_number(field) for field in fields):
        if fields == list(table.names):
            return (f"{table.path}: line {number} repeats the column names of line {table.header_line} "
                    "(two files joined?); delete it")
        if not all(field.lower() in BOOLEAN_WORDS for field in fields):
            return (f"{table.path}: line {number} holds names, not numbers (a second header, e.g. units?); "
                    f"keep only the column names on line {table.header_line} above the data and delete it")
    return None


def check_widths(path, rows, numbers, width, header_line):
    """Every row has exactly one field per column: pandas would otherwise shift or pad columns."""
    if any(b'"' in row for row in rows):
        counts = np.fromiter((len(_fields(row)) for row in rows), dtype=np.int64, count=len(rows))
    else:
        counts = np.fromiter((row.count(b",") for row in rows), dtype=np.int64, count=len(rows)) + 1
    bad = np.flatnonzero(counts != width)
    if bad.size:
        row, count = int(bad[0]), int(counts[bad[0]])
        if _is_comment(rows[row]):
            comments = sum(1 for line in rows if _is_comment(line))
            raise UserError(f"{path}: line {numbers[row]} is a comment ({_show(rows[row])}); a CSV has no "
                             f"comments: delete every line that starts with '#' ({comments} such "
                             f"line{'s' * (comments > 1)})")
        side = "more" if count > width else "fewer"
        hint = " (a comma inside a number, e.g. 1,000?)" if count > width else ""
        raise UserError(f"{path}: line {numbers[row]} has {count} field{'s' * (count != 1)}, {side} than the "
                         f"{width} column{'s' * (width != 1)} of the header (line {header_line}){hint}; every row "
                         f"needs exactly one value per column ({bad.size} such row{'s' * (bad.size > 1)})")


def check_values(table):
    """Every cell a finite number within ±LARGEST_VALUE; else the first bad cell, by column."""
    import pandas as pd

    frame = table.frame
    for column, name in enumerate(table.names):
        values = frame[name]
        if values.dtype.kind == "b":  # a column of nothing but TRUE/FALSE: pandas made it booleans
            bad = np.ones(len(values), dtype=bool)
        elif values.dtype.kind not in "fiu":  # some cell is not a number: find the first one
            parsed = pd.to_numeric(values.astype(object), errors="coerce")
            bad = (parsed.isna() & values.notna()).to_numpy()
        if values.dtype.kind not in "fiu":
            row = int(bad.argmax())
            whole_row = _row_problem(table, row)
            if whole_row:
                raise UserError(whole_row)
            text = table.cell(row, column)
            problem = (f"is {text!r} (not a number)" if text.lower() in MISSING_WORDS
                       else f"{text!r} is a true/false value, not a number; write it as 1 or 0"
                       if text.lower() in BOOLEAN_WORDS else f"{text!r} is not a number")
            every = "" if text.lower() in BOOLEAN_WORDS else "; every cell must be a number"
            raise UserError(f"{table.where(row, column)}: {problem}{every} ({int(bad.sum())} bad in this column)")
        numbers = values.to_numpy(dtype=np.float64)
        size = np.abs(numbers)
        bad = ~(size <= LARGEST_VALUE) | ((size < SMALLEST_NONZERO) & (size > 0))  # NaN, inf, too large or small
        if bad.any():
            row = int(bad.argmax())
            value, text = numbers[row], table.cell(row, column)
            if np.isnan(value):
                whole_row = _row_problem(table, row)
                if whole_row:  # e.g. '#,,,' with as many commas as the header: empty cells, but a comment
                    raise UserError(whole_row)
                problem = "is empty (a missing value); every cell must be a finite number"
            elif np.isinf(value):
                problem = f"{text!r} is infinite; every cell must be a finite number"
            elif abs(value) > LARGEST_VALUE:
                problem = (f"{text} is too large: values must lie within ±1e50 so that squares "
                           "and sums stay finite; rescale the column (e.g. to thousands)")
            else:
                problem = (f"{text} is too small: values other than 0 must be at least 1e-50 in size, "
                           "or the column's spread underflows; rescale the column (e.g. to millionths)")
            raise UserError(f"{table.where(row, column)}: {problem} ({int(bad.sum())} bad in this column)")


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
                raise UserError(f"{path}: no column {column!r} (from {key} in params.yaml"
                                 f"{_did_you_mean(column, table.names)}); columns are: {', '.join(table.names)}")
    n = len(frame)
    n_test = math.ceil(n * test_size)
    n_train = n - n_test
    if n_test < MIN_TEST_ROWS or n_train < MIN_TRAIN_ROWS:
        least = MIN_TRAIN_ROWS + MIN_TEST_ROWS
        advice = (f"use at least {least} rows" if n < least else
                  f"raise data.test_size to at least {MIN_TEST_ROWS / n:.2g}" if n_test < MIN_TEST_ROWS else
                  f"lower data.test_size to at most {1 - MIN_TRAIN_ROWS / n:.2g}")
        raise UserError(f"{path}: {n} data row{'s' * (n != 1)} with data.test_size = {test_size:g} split into "
                         f"{n_train} training and {n_test} test rows; need at least {MIN_TRAIN_ROWS} training "
                         f"and {MIN_TEST_ROWS} test rows: {advice}")
    for key, column in [("data.target", target)] + [("data.features", feature) for feature in features]:
        values = frame[column].to_numpy()
        if _constant(values):
            what = "there is nothing to predict" if key == "data.target" else \
                "drop it from data.features or choose a column that varies"
            raise UserError(f"{path}: column {column!r} ({key}) is constant (every row is {values[0]:g}); {what}")


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


def _row_hashes(columns):
    """One 64-bit hash per row of equal-length float columns, from their bits; equal rows, equal hashes."""
    hashes = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:  # splitmix-style: xor in a column, multiply, fold the high bits down
            hashes ^= (column + 0.0).view(np.uint64)  # + 0.0: -0.0 and 0.0 are equal, so give them equal bits
            hashes *= np.uint64(0xBF58476D1CE4E5B9)
            hashes ^= hashes >> np.uint64(31)
    return hashes


def matching_rows(columns, train, test):
    """Which test rows equal a training row on every one of ``columns`` (float arrays, one per column),
    exactly: a mask over ``test``, and for each matching test row the first training row (in split
    order) it equals.

    Row hashes find the candidates with a sort and a merge (~0.1 s at 10^6 rows × 14 columns, a column
    at a time); each candidate is then compared with its training row value by value, and a hash
    collision (odds ~n²/2^64) falls back to a dictionary of whole rows as bytes.
    """
    hashes = _row_hashes(columns)
    train_hashes, test_hashes = hashes[train], hashes[test]
    ordered, query = np.sort(train_hashes), np.argsort(test_hashes)
    position = np.minimum(np.searchsorted(ordered, test_hashes[query]), len(ordered) - 1)
    hit = np.zeros(len(test), dtype=bool)
    hit[query] = ordered[position] == test_hashes[query]
    if not hit.any():
        return hit, np.empty(0, dtype=np.int64)
    wanted = np.sort(test_hashes[hit])
    candidates = np.flatnonzero(wanted[np.minimum(np.searchsorted(wanted, train_hashes), len(wanted) - 1)]
                                == train_hashes)  # the training rows with a wanted hash, in split order
    by_hash = candidates[np.argsort(train_hashes[candidates], kind="stable")]
    partner = train[by_hash[np.searchsorted(train_hashes[by_hash], test_hashes[hit])]]
    if all(np.array_equal(column[test[hit]], column[partner]) for column in columns):
        return hit, partner
    rows = np.column_stack(columns) + 0.0
    first = {rows[index].tobytes(): index for index in train[::-1]}  # the earliest in split order wins
    found = np.array([first.get(rows[index].tobytes(), -1) for index in test], dtype=np.int64)
    return found >= 0, found[found >= 0]


def far_values(column):
    """(rows, median, reach): the rows whose value is far outside the rest of the column, the
    column's median and how far from it the other values reach (see FAR_SPREADS and FAR_GAP)."""
    ordered = np.sort(column)
    n = len(ordered)
    median = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    spread = ordered[(3 * n) // 4] - ordered[n // 4]
    distance = np.abs(column - median)
    if spread == 0:  # most rows share one value (a 0/1 flag): measure against the others' distances
        others = np.sort(distance[distance > 0])
        spread = others[(len(others) - 1) // 2] if len(others) else 0.0
    beyond = distance > FAR_SPREADS * spread
    if spread == 0 or not beyond.any():
        return np.empty(0, dtype=np.int64), median, 0.0
    inner = distance[~beyond].max() if not beyond.all() else 0.0
    steps = np.concatenate([[inner], np.sort(distance[beyond])])
    gaps = np.flatnonzero((steps[1:] > FAR_GAP * steps[:-1]) & (steps[:-1] > 0))
    if not gaps.size:
        return np.empty(0, dtype=np.int64), median, 0.0
    cut = steps[gaps[0] + 1]
    return np.flatnonzero(distance >= cut), median, float(steps[gaps[0]])


def split_facts(table, data, train, test):
    """The split's facts for --summary, and the warning lines (without their prefix)."""
    from fromzero.lookup import lookup_table_report

    path, features, target = table.path, data["features"], data["target"]
    columns = {name: table.frame[name].to_numpy(dtype=np.float64) for name in table.names}
    used = [columns[name] for name in (*features, target)]
    warnings = []
    hit, partner = matching_rows(used, train, test)
    shared = int(hit.sum())
    # Equal rows are copies beyond doubt when they are equal on columns no model uses, too. A file of
    # only the used columns cannot tell a copy from values too coarse to differ (50,000 rows of x to 4
    # decimals share 16 % of the test rows by chance): there, only a majority of the test split is said.
    unused = [name for name in table.names if name not in (*features, target)]
    if unused and shared:
        copied, partner = matching_rows(list(columns.values()), train, test)
    else:
        copied = hit
    if copied.any() and (unused or 2 * shared >= len(test)):
        example = int(np.argmin(test[copied]))
        lines = sorted((table.numbers[test[copied][example]], table.numbers[partner[example]]))
        on = (f"on data.features and data.target, {int(copied.sum())} of them on every column" if unused
              else "on every column")
        warnings.append(f"{path}: {shared} of the {len(test)} test rows equal a training row {on} (copied rows, "
                        f"e.g. lines {lines[0]} and {lines[1]}): models that memorise their training rows (knn, "
                        "the lookup table) score better on the test split than they will on new data; remove the "
                        "repeated rows to see their true scores")
    if len(features) + 1 > len(train):
        warnings.append(f"{path}: {len(features)} features (data.features) and an intercept for {len(train)} "
                        "training rows: least squares has no unique fit (it returns the minimum-norm one) and "
                        "any model can fit the training rows exactly; use fewer features or more rows")
    outliers = 0
    for position, name in enumerate([*features, target]):
        rows, median, reach = far_values(used[position])
        outliers += len(rows)
        if len(rows):
            row, column = int(rows.min()), table.names.index(name)
            more = f" ({len(rows)} such values in this column)" if len(rows) > 1 else ""
            warnings.append(f"{table.where(row, column)}: {table.cell(row, column)} is far outside the rest of "
                            f"the column (median {median:.4g}, every other value within {reach:.3g} of it){more}: "
                            "least squares, gd and the net can fit it alone and predict about the mean for every "
                            "other row; check it (a typo, a unit, a code for a missing value?)")
    X = np.column_stack(used[:-1])
    dropped, miss = lookup_table_report(X[train], X[test])
    facts = {"rows": len(table.frame), "train_rows": len(train), "test_rows": len(test), "shared_rows": shared,
             "lookup_miss": miss,  # share of test rows the tutorial's exact-match dict cannot answer
             "lookup_dropped": dropped,  # training rows the dict loses to repeated keys
             "outliers": outliers, "warnings": warnings}
    return facts, warnings




@stage_main
def main(argv=None):
    parser = stage_parser(__doc__, READS)
    path_option(parser, "train", "the training split to write (CSV)")
    path_option(parser, "test", "the held-out split to write (CSV)")
    parser.add_argument("--summary", type=Path, metavar="PATH",
                        help="a JSON file of the split's facts and warnings (rows, shared_rows, outliers, ...)")
    args = parser.parse_args(argv)
    params = read_params(args.params, keys=READS)
    summary = args.summary
    data, seed = params["data"], params["seed"]
    table = read_table(data["csv"])
    check_columns(table, data["features"], data["target"], data["test_size"])
    train_rows, test_rows = split_rows(len(table.frame), data["test_size"], seed)
    for column in [data["target"], *data["features"]]:
        key = "data.target" if column == data["target"] else "data.features"
        if _constant(table.frame[column].to_numpy()[train_rows]):
            raise UserError(f"{data['csv']}: the training split's {column!r} ({key}) is constant; "
                             "use more rows, another seed or a smaller data.test_size")
    facts, warnings = split_facts(table, data, train_rows, test_rows)
    header = csv_header(table.names)
    splits = [(path, [unquoted(table.rows[row]) for row in rows])
              for path, rows in ((args.train, train_rows), (args.test, test_rows))]
    for path, lines in splits:  # everything is validated and computed: now write
        write_lines(path, header, lines)
    if summary:
        write_json(summary, {"details": {"split": facts}})
    for warning in warnings:
        print(f"warning: load: {warning}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
