"""The shape of a CSV: its lines, its fields, which line names the columns; the checks that read lines, not values.

Ambiguous tables are refused, never guessed: a line break inside a quoted cell or a quote that never
closes (anywhere in the file), another separator, a title, a note, a comment or a second header above
the column names, rows wider or narrower than the header. Every message names the line as the user's
editor shows it (blank lines are skipped, never renumbered), and quotes a line or a cell as a bounded
excerpt: no line of the file, whatever its length, is printed whole.
"""

import csv
import io
import re
import sys
from contextlib import contextmanager

import numpy as np

from project.errors import UserError
from project.yamlfile import shown

SAMPLE_LINES = 20  # the first lines, where a separator, a title or a comment shows
SEPARATORS = (";", "\t", "|", ":")  # what a CSV is not separated by: Excel's European CSV, TSV, pipes, passwd
MISSING_WORDS = {"nan", "na", "n/a", "null", "none", "#n/a", "-nan", "missing", "?"}
BOOLEAN_WORDS = {"true", "false", "yes", "no"}  # pandas reads a column of TRUE/FALSE as booleans
# A number as the splits are parsed (pandas' and numpy's C parsers agree on it): ASCII digits, a point,
# an exponent, or an infinity; spaces and tabs around it. Nothing else (no '1_000', no '0x10', no NaN).
_NUMBER = r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity))[ \t]*"
NUMBER = re.compile(_NUMBER)
_CELL = rf'(?:{_NUMBER}|"(?:{_NUMBER})?")?'  # a number or nothing, bare or in quotes
ROW_OF_NUMBERS = re.compile(rf"{_CELL}(?:,{_CELL})*".encode())  # one C-speed match a line, on its bytes


def is_number(text):
    return NUMBER.fullmatch(text) is not None


@contextmanager
def any_field_size():
    """The csv module refuses a field over 128 KB (csv.Error); a cell of any length is read, then judged."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def fields(line):
    """The fields of one line (bytes, no line end) as text, quotes removed as RFC 4180 says."""
    text = line.decode("utf-8")
    if '"' not in text:
        return text.split(",")
    with any_field_size():
        return next(csv.reader([text]), [])


SPACES_LINE = re.compile(rb"\n[ \t\f\v]+(?:\n|$)")  # a line of nothing but spaces (a literal prefix: fast)


def _has_blank_line(data):
    return b"\n\n" in data or data[:1].isspace() or SPACES_LINE.search(data) is not None


def split_lines(data):
    """(lines, numbers): the file's non-blank lines (bytes; CRLF and a lone CR end a line too) and the
    1-based line number of each, as an editor shows it."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if _has_blank_line(data) and any(not line.strip() for line in lines):  # keep each row's own line number
        numbers = [number for number, line in enumerate(lines, 1) if line.strip()]
        return [line for line in lines if line.strip()], numbers
    return lines, range(1, len(lines) + 1)


def show(line, limit=60):
    """A line of the file as a message quotes it: its text, shortened."""
    text = line[:4 * limit].decode("utf-8", errors="replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _ends_inside_quotes(text):
    with any_field_size():
        reader = csv.reader([text, ""])
        next(reader)
        return reader.line_num > 1


def check_quotes(path, data, lines, numbers):
    """Refuse a line break inside a quoted cell, or a quote that never closes, on any line.

    RFC 4180 allows the first, but every line below would then be read as the wrong row; both are said
    for what they are before anything else blames a field count or a title line. Each line is checked on
    its own (``lines``, the file's lines); only once one ends inside quotes is the file (``data``, its
    bytes) parsed whole, to quote the cell and its line break ('\\r' or '\\n') as they are.
    """
    for index, line in enumerate(lines):
        if b'"' not in line or not _ends_inside_quotes(line.decode("utf-8")):
            continue
        end = index + 1
        while end < len(lines) and _ends_inside_quotes('"' + lines[end].decode("utf-8")):
            end += 1
        if end == len(lines):
            raise UserError(f"{path}: line {numbers[index]} opens a quoted cell (\") that no line below closes, "
                            f"so the rest of the file would be one cell ({show(line)}); close the quote or "
                            "remove it")
        with any_field_size():
            reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
            cell = next(field for row in reader for field in row if "\r" in field or "\n" in field)
        bad = "\r" if "\r" in cell and ("\n" not in cell or cell.index("\r") < cell.index("\n")) else "\n"
        raise UserError(f"{path}: line {numbers[index]}: the quoted cell {shown(cell)} has {bad!r} in its name "
                        f"or value (a line break inside quotes, closed on line {numbers[end]}), so every line below "
                        "would be read as the wrong row; put the cell on one line")


def is_comment(line):
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
    sample = [(number, line) for number, line in zip(numbers, lines[:SAMPLE_LINES]) if not is_comment(line)]
    if not sample:
        return
    texts = [line.decode("utf-8") for _, line in sample]
    commas = _agreement([len(fields(line)) - 1 for _, line in sample])
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


def line_kind(line):
    """What a line looks like on its own: 'numbers' (mostly numbers: a row of data), 'counts' (a few
    numbers and more empty fields: scikit-learn's `506,13,,,` line), 'comment', 'names' or 'empty'."""
    if is_comment(line):
        return "comment"
    cells = [field.strip() for field in fields(line)]
    filled = [field for field in cells if field]
    count = sum(1 for field in filled if is_number(field))
    if 2 * count > len(filled):
        return "counts" if count == len(filled) and len(cells) > 2 * count else "numbers"
    words = [field for field in filled if not is_number(field) and field.lower() not in MISSING_WORDS]
    return "names" if words else "empty"


def check_preamble(path, lines, numbers, skip):
    """Refuse lines between the start (or scikit-learn's count line) and the column names.

    The column names are the first line of names followed by lines of numbers, provided no row of
    data comes before it; a title, a note, a comment or a count line above them would otherwise be
    read as the header, and the rows below blamed for it.
    """
    kinds = {}

    def kind(index):  # lazily: a wide file's lines are long, and two or three lines decide
        if index not in kinds:
            kinds[index] = line_kind(lines[skip + index])
        return kinds[index]

    last = min(SAMPLE_LINES, len(lines) - skip)
    for header in range(last):
        if kind(header) == "numbers":
            return  # data before any header-like line: the first line is the header, as before
        following = [kind(index) for index in range(header + 1, min(header + 3, last))]
        if kind(header) == "names" and following and all(after == "numbers" for after in following):
            break
    else:
        return
    if header == 0:
        return
    first, names = lines[skip], lines[skip + header]
    where, names_line = numbers[skip], numbers[skip + header]
    if is_comment(first):
        raise UserError(f"{path}: line {where} is a comment ({show(first)}) above the column names on line "
                        f"{names_line}; a CSV has no comments: delete it, so the column names come first")
    cells = [field.strip() for field in fields(first)]
    if len(cells) != len(fields(names)) or sum(1 for field in cells if field) <= 1:
        raise UserError(f"{path}: line {where} ({show(first)}) is not part of the table (a title or a note?): "
                        f"the column names are on line {names_line}; delete it, so the column names come first")
    raise UserError(f"{path}: lines {where} and {names_line} both hold names, not numbers, so which line names "
                    "the columns is a guess; keep one line of column names above the data (delete the other, "
                    "e.g. a line of units)")


def comment_problem(path, line, number, rows):
    count = sum(1 for other in rows if is_comment(other))
    return (f"{path}: line {number} is a comment ({show(line)}); a CSV has no comments: delete every line that "
            f"starts with '#' ({count} such line{'s' * (count > 1)})")


def check_widths(path, rows, numbers, width, header_line, quoted=True):
    """Every row has exactly one field per column: pandas would otherwise shift or pad columns. ``quoted``:
    whether the file has a quote at all (else each row's commas are counted, not parsed)."""
    if quoted and any(b'"' in row for row in rows):
        counts = np.fromiter((len(fields(row)) for row in rows), dtype=np.int64, count=len(rows))
    else:
        counts = np.fromiter((row.count(b",") for row in rows), dtype=np.int64, count=len(rows)) + 1
    bad = np.flatnonzero(counts != width)
    if bad.size:
        row, count = int(bad[0]), int(counts[bad[0]])
        if is_comment(rows[row]):
            raise UserError(comment_problem(path, rows[row], numbers[row], rows))
        side = "more" if count > width else "fewer"
        hint = " (a comma inside a number, e.g. 1,000?)" if count > width else ""
        raise UserError(f"{path}: line {numbers[row]} has {count} field{'s' * (count != 1)}, {side} than the "
                        f"{width} column{'s' * (width != 1)} of the header (line {header_line}){hint}; every row "
                        f"needs exactly one value per column ({bad.size} such row{'s' * (bad.size > 1)})")


def row_problem(path, rows, numbers, row, names, header_line, count_line):
    """What is wrong with a whole data row, if it is not a row of data at all (else None): a comment, the
    count line or the header again (two files joined), a second line of names."""
    line, number = rows[row], numbers[row]
    if is_comment(line):
        return comment_problem(path, line, number, rows)
    if count_line is not None and line.strip() == count_line.strip():
        return (f"{path}: line {number} repeats the count line (line 1, {show(count_line)}) (two files joined?); "
                "delete it")
    cells = [field.strip() for field in fields(line)]
    if len(names) > 1 and line_kind(line) == "names" and not any(is_number(field) for field in cells):
        if cells == list(names):
            return (f"{path}: line {number} repeats the column names of line {header_line} (two files joined?); "
                    "delete it")
        if not all(field.lower() in BOOLEAN_WORDS for field in cells):
            return (f"{path}: line {number} holds names, not numbers (a second header, e.g. units?); keep only the "
                    f"column names on line {header_line} above the data and delete it")
    return None
