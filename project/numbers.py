"""Rows of numbers as floats, by a C parser: numpy's for a small file, pandas' for a large one, one long column
for a wide one. Each gives every cell its correctly rounded float, so the arrays are the same whichever reads
them; the load stage (project/table.py) and the splits' reader (project/splits.py) both parse through here.
"""

import io

import numpy as np

# Every byte a row of numbers can hold (digits, signs, points, exponents, 'inf' and 'infinity', spaces,
# quotes, commas): a row with any other byte holds a cell that is not a number. pandas would read a
# column of nothing but TRUE/FALSE as 1.0/0.0, so such bytes go straight to the diagnosis.
NUMBER_BYTES = b"0123456789+-.eE \t,\"\niInNfFtTyY"
# Below this many bytes the rows are parsed by numpy (correctly rounded, as pandas' parser is): the same
# floats, without pandas' quarter-second import; anything numpy will not read goes to pandas as before.
SMALL_BYTES = 1 << 20
# From this many columns the cells are parsed as one long column (every row's width is checked first): pandas
# spends about 50 µs a column building a frame, a second at 20,000 columns; one column of all the cells, none.
WIDE_COLUMNS = 64


def parse_wide(body, rows, width):
    """The cells of ``rows`` rows of ``width`` fields each (``body``: the rows, one per line), read as one column by
    pandas' C parser, as (rows, width) floats; None if pandas reads anything else (a cell that is no number)."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body.replace(b"\n", b",")), header=None, sep=";", lineterminator=",",
                            dtype=np.float64, engine="c", skip_blank_lines=False, keep_default_na=False,
                            na_values=["", "nan", "NaN", "-nan"], low_memory=False)
    except (ValueError, pd.errors.ParserError):
        return None
    if frame.shape != (rows * width, 1):
        return None
    return frame[0].to_numpy(dtype=np.float64).reshape(rows, width)


def parse_numbers(rows, width=None, body=None):
    """The rows' cells as floats, (n, columns), in one pass of a C parser; None if any cell is not a number,
    or a row is not ``width`` fields wide (an empty cell is NaN here: check_values says where). ``body``: the
    rows joined by newlines, if the caller has them."""
    body = b"\n".join(rows) if body is None else body
    if body.translate(None, NUMBER_BYTES):
        return None
    if len(body) < SMALL_BYTES:  # numpy alone, when it can: pandas' import takes longer than the Boston file's parse
        try:
            values = np.loadtxt(body.decode("ascii").splitlines(), delimiter=",", ndmin=2, dtype=np.float64,
                                comments=None)
        except ValueError:  # an empty cell, quotes, a malformed number: pandas reads it (NaN) or refuses it
            values = None
        if values is not None and values.shape == (len(rows), width or values.shape[1]):
            return values
    if width and width >= WIDE_COLUMNS:  # every row is width fields wide by now (read_table counted them)
        values = parse_wide(body, len(rows), width)
        if values is not None:
            return values
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body), header=None, index_col=False, dtype=np.float64,
                            keep_default_na=False, na_values=[""], engine="c", low_memory=False)
    except (ValueError, pd.errors.ParserError):
        return None
    if frame.shape != (len(rows), width or frame.shape[1]):
        return None
    return frame.to_numpy(dtype=np.float64)
