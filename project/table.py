"""The data CSV as a checked table of numbers: ``read_table(path)``, one reader for the load stage.

Accepts scikit-learn's layout (a first line of counts such as `506,13,,,` above the column names) and
a plain CSV whose first line is the names. The bytes are checked first (project/text_file.py), then the
lines (project/csv_layout.py), the names (project/column_names.py), and every cell of every column:
each must be a finite number within ±LARGEST_VALUE, because the splits copy every column and the later
stages read them (eda ranks each one). The happy path is one pass of a C parser, as floats, over the
file's bytes (numpy's below a megabyte, pandas' above: about 1.3 s for 10^7 cells); the diagnosis runs
only on failure, and names the first bad cell by column, as written (a bounded excerpt), with its file line.
"""

import re

import numpy as np

from project.column_names import (MAX_HEADER_CHARS, MAX_NAME_CHARS, difference, formula_start, header_problem,
                                  normal)
from project.csv_layout import (BOOLEAN_WORDS, MISSING_WORDS, ROW_OF_NUMBERS, check_preamble, check_quotes,
                                check_separator, check_widths, fields, is_comment, is_number, row_problem, show,
                                split_lines)
from project.errors import UserError
from project.numbers import WIDE_COLUMNS, parse_numbers
from project.text_file import read_utf8
from project.yamlfile import shown

# Values are refused beyond this: a square, a sum over 10^6 rows, random_search's coefficients (up to
# 1e9, times up to ~100 features) and the spread of fold MSEs (fourth powers) all stay inside float64
# (about 1.8e308) ...
LARGEST_VALUE = 1e50  # written out as ±1e50 in the messages
# ... and non-zero values below this in size are refused too: standardising such a column divides by
# a spread whose square underflows, and the models would see a constant.
SMALLEST_NONZERO = 1e-50


class Table:
    """The parsed CSV: ``names`` (NFC), ``values`` (n, columns) float64, the raw data ``rows`` (bytes, no
    newline), ``numbers``, the 1-based file line of each row (blank lines are skipped, not renumbered),
    ``header_line``, ``count_line``, scikit-learn's first line of counts (bytes), or None, and ``quoted``,
    whether the file holds a quote at all."""

    def __init__(self, path, names, rows, numbers, header_line, count_line=None, quoted=True):
        self.path, self.names, self.rows, self.numbers = path, names, rows, numbers
        self.header_line, self.count_line, self.quoted, self.values = header_line, count_line, quoted, None
        self.index = {name: position for position, name in enumerate(names)}

    def __len__(self):
        return len(self.rows)

    def column(self, name):
        return self.values[:, self.index[name]]

    def cell(self, row, column):
        """The text of one cell, as the file has it (quotes removed)."""
        return fields(self.rows[row])[column]

    def where(self, row, column):
        return f"{self.path}: column {shown(self.names[column])}, line {self.numbers[row]}"

    def row_problem(self, row):
        return row_problem(self.path, self.rows, self.numbers, row, self.names, self.header_line, self.count_line)


def read_table(path):
    """The CSV as a Table; UserError naming any bad byte, line, header or cell."""
    data = read_utf8(path)
    lines, numbers = split_lines(data)
    if b'"' in data:
        check_quotes(path, data, lines, numbers)
    tiny, quoted = may_underflow(data), b'"' in data
    del data  # the lines hold the bytes from here on: one copy of the file, not two
    check_separator(path, lines, numbers)
    first = [field.strip() for field in fields(lines[0])]
    skip = 1 if all(field == "" or is_number(field) for field in first) else 0
    if len(lines) <= skip:
        raise UserError(f"{path}: no column names after line {numbers[0]}; the file has no table")
    if skip and all(is_number(field.strip()) for field in fields(lines[1])):
        # Numbers on both first lines: data with no header, or column names that are numbers. Either
        # way which line names the columns is a guess, and a wrong guess shifts every column.
        raise UserError(f"{path}: lines {numbers[0]} and {numbers[1]} are both numbers, so no line names the "
                        "columns; put a line of column names (not numbers) above the data")
    check_preamble(path, lines, numbers, skip)
    header, header_line = lines[skip], numbers[skip]
    if is_comment(header):  # numpy.savetxt(header=...) writes the names so: "# RM,MEDV"
        raise UserError(f"{path}: line {header_line} starts with '#' ({show(header)}): a comment, not column "
                        "names; a CSV has no comments: if it names the columns remove the '#', else delete it")
    if len(header) > MAX_HEADER_CHARS:
        raise UserError(f"{path}: the column names (line {header_line}) take {len(header):,} bytes, more than "
                        f"the {MAX_HEADER_CHARS:,} a split's header may hold; use fewer or shorter names")
    written = fields(header)
    names = [normal(name) for name in written]
    check_header(path, written, names, header_line)
    rows, numbers = lines[skip + 1:], numbers[skip + 1:]
    if not rows:
        raise UserError(f"{path}: has column names but no data rows")
    width, body = len(names), b"\n".join(rows)
    # Without quotes, as many commas in all as the rows need is every row's width unless a long row and a short
    # one cancel out, which the parse then finds (pandas refuses a row wider than the first, and reads a first
    # row wider than the header as more columns): only then, or with quotes, is each row counted on its own.
    counted = quoted or width >= WIDE_COLUMNS or body.count(b",") != len(rows) * (width - 1)
    if counted:
        check_widths(path, rows, numbers, width, header_line, quoted)
    table = Table(path, names, rows, numbers, header_line, lines[0] if skip else None, quoted)
    table.values = parse_numbers(rows, width, body)
    if table.values is None:
        if not counted:
            check_widths(path, rows, numbers, width, header_line, quoted)
        raise UserError(non_number(table))
    check_values(table, tiny)
    return table


def _plain(name):
    """A name suggested in place of a refused one: without the characters a formula or a padding starts with."""
    while name and (formula_start(name) or name[0] in " \t._"):
        name = name[1:]
    return name.rstrip() or "x"


def check_header(path, written, names, line):
    """The names as project/column_names.py rules them, said for a data file: the header's line, and how to fix it."""
    problem = header_problem(names)
    if problem is None:
        return
    position, kind, char, other = problem
    name = names[position]
    ref, at = shown(name), f"(header, line {line})"
    if kind == "empty":
        raise UserError(f"{path}: column {position + 1} has no name in the header (line {line}); name it")
    if kind == "spaces":
        raise UserError(f"{path}: column {ref} has spaces around its name {at}; remove them, e.g. "
                        f"{shown(name.strip())}")
    if kind == "long":
        raise UserError(f"{path}: column {position + 1} has a name of {len(name):,} characters {at}, more than the "
                        f"{MAX_NAME_CHARS:,} params.yaml can name ({shown(name)}); shorten it")
    if kind == "character":
        what = ("markup" if char in "<>" else "a line break" if char in "\r\n\u2028\u2029\x85\x0b\x0c"
                else "an invisible control")
        keep = "".join(letter for letter in name if letter.isalnum() or letter in "_-. ")
        raise UserError(f"{path}: column {ref} has {char!r} in its name {at}, which would be {what} in the plots, "
                        f"the report and `dvc exp show`; rename it, e.g. {shown(_plain(keep))}")
    if kind == "formula":
        raise UserError(f"{path}: column {ref} starts with {char!r} {at}, which a spreadsheet runs as a formula "
                        f"when it opens the splits or the plots' CSVs (CSV injection); rename it, e.g. "
                        f"{shown(_plain(name))}")
    if kind == "twice":
        how = "" if written[position] == written[other] else \
            " (typed two ways that look the same: with an accent as one character and as a combining one)"
        raise UserError(f"{path}: column {ref} appears twice in the header (line {line}): columns {other + 1} and "
                        f"{position + 1}{how}; rename one so every column has its own name")
    raise UserError(f"{path}: columns {shown(names[other])} ({other + 1}) and {ref} ({position + 1}) look the same "
                    f"but are different names: {difference(name, names[other])} {at}; rename one so no two names "
                    "look alike")


def _cell_text(text):
    """A cell as a message shows it: as written (repr), shortened (with its length) when long."""
    return shown(text) + (f" ({len(text):,} characters)" if len(text) > 60 else "")


def number_text(text, limit=40):
    """A number as a message shows it: as written, shortened (with its length) when long."""
    return text if len(text) <= limit else f"{text[:limit - 12]}…{text[-8:]} ({len(text):,} characters)"


def non_number(table):
    """The line for the first cell, by column, that is not a number (the fast parse found one). Each line is
    matched whole against a row of numbers first; only the lines that fail are split into cells."""
    bad = {}  # column -> the rows where its cell is not a number
    for row, line in enumerate(table.rows):
        if ROW_OF_NUMBERS.fullmatch(line):
            continue
        for column, cell in enumerate(fields(line)):
            if cell != "" and not is_number(cell):
                bad.setdefault(column, []).append(row)
    if not bad:
        return (f"{table.path}: a line pandas cannot read as numbers, though every cell is one; check the file's "
                "quotes (a quote inside a cell must be doubled)")
    column = min(bad)
    row = bad[column][0]
    whole_row = table.row_problem(row)
    if whole_row:
        return whole_row
    cell = table.cell(row, column)
    word = cell.strip(" \t").lower()
    if word in MISSING_WORDS:
        problem = f"is {_cell_text(cell)} (not a number); every cell must be a number"
    elif word in BOOLEAN_WORDS:
        problem = f"{_cell_text(cell)} is a true/false value, not a number; write it as 1 or 0"
    elif not cell.strip():
        problem = f"is {_cell_text(cell)}, blank (a missing value); every cell must be a number"
    else:
        problem = f"{_cell_text(cell)} is not a number; every cell must be a number"
    return f"{table.where(row, column)}: {problem} ({len(bad[column])} bad in this column)"


# Where a non-zero number may read as 0.0 (below about 2.5e-324): an exponent of -100 or lower, or 200 zeros
# after the point (with an exponent above -100, a value under 1e-323 needs at least 224). Searched for as
# literals first (a regular expression with a literal prefix scans 100 MB in milliseconds); only the cells
# found are parsed again, one by one.
EXPONENTS = (re.compile(rb"e-0*[1-9][0-9]{2}"), re.compile(rb"E-0*[1-9][0-9]{2}"))
ZEROS = b"." + b"0" * 200


def _candidates(line):
    """Positions in ``line`` where a cell may be a non-zero number too small for a float."""
    yield from (match.start() for pattern in EXPONENTS for match in pattern.finditer(line))
    start = line.find(ZEROS)
    while start >= 0:
        yield start
        comma = line.find(b",", start)
        start = -1 if comma < 0 else line.find(ZEROS, comma)


def may_underflow(data):
    """Whether the file's bytes hold a cell that may be a non-zero number too small for a float."""
    return ZEROS in data or any(pattern.search(data) for pattern in EXPONENTS)


def _underflows(rows):
    """(row, column) of each cell that is a non-zero number whose float is 0.0."""
    found = set()
    for row, line in enumerate(rows):
        cells = None
        for position in _candidates(line):
            cells = cells or fields(line)
            column = line.count(b",", 0, position)
            text = cells[column].strip(" \t")
            mantissa = text.lower().split("e")[0]
            if float(text) == 0.0 and any(digit in mantissa for digit in "123456789"):
                found.add((row, column))
    return sorted(found)


def check_values(table, tiny=True):
    """Every value finite and within ±LARGEST_VALUE (0 or at least SMALLEST_NONZERO in size); else the first
    bad cell, by column. One vectorised pass over the whole table; ``tiny``: whether to look for cells that
    read as 0.0 but are not 0 (``may_underflow``)."""
    values = table.values
    size = np.abs(values)
    bad = ~(size <= LARGEST_VALUE) | ((size < SMALLEST_NONZERO) & (size > 0))  # NaN, inf, too large or small
    if tiny and not bad.any():
        for row, column in _underflows(table.rows):  # too small to be anything but 0.0 as a float: said, not zeroed
            bad[row, column] = True
    if not bad.any():
        return
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    row = int(bad[:, column].argmax())
    value, text = values[row, column], table.cell(row, column).strip(" \t")
    if np.isnan(value):
        whole_row = table.row_problem(row)
        if whole_row:  # e.g. '#,,,' with as many commas as the header: empty cells, but a comment
            raise UserError(whole_row)
        problem = "is empty (a missing value); every cell must be a finite number"
    elif np.isinf(value):
        beyond = "" if text.lower().lstrip("+-") in ("inf", "infinity") else \
            " as a 64-bit float (beyond about 1.8e308)"
        problem = f"{_cell_text(text)} is infinite{beyond}; every cell must be a finite number"
    elif abs(value) > LARGEST_VALUE:
        problem = (f"{number_text(text)} is too large: values must lie within ±1e50 so that squares and sums stay "
                   "finite; rescale the column (e.g. to thousands)")
    else:
        problem = (f"{number_text(text)} is too small: values other than 0 must be at least 1e-50 in size, or the "
                   "column's spread underflows; rescale the column (e.g. to millionths)")
    raise UserError(f"{table.where(row, column)}: {problem} ({int(bad[:, column].sum())} bad in this column)")
