"""Stage `load`: read and validate the CSV, then write a seeded train/test split.

    python -m stages.load --train data/prepared/train.csv --test data/prepared/test.csv
"""

import math
import os

import numpy as np

from stages.cli import StageError, stage_arguments, stage_main
from stages.files import write_csv, write_lines


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_table(path):
    """(the CSV as a DataFrame of floats, lines above the names); StageError naming any bad line.

    Accepts scikit-learn's layout (a first line of counts such as `506,13,,,`
    above the column names) and a plain CSV whose first line is the names.
    """
    import pandas as pd

    if not os.path.isfile(path):
        raise StageError(f"{path}: file not found; point data.csv in params.yaml at your CSV")
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [handle.readline() for _ in range(2)]
    if not lines[0].strip():
        raise StageError(f"{path}: the file is empty (or its first line is blank)")
    first = [field.strip() for field in lines[0].strip().split(",")]
    skip = 1 if all(field == "" or _is_number(field) for field in first) else 0
    header = lines[skip]
    for delimiter in (";", "\t", "|"):
        if header.count(delimiter) >= 1 and header.count(",") == 0:
            raise StageError(f"{path}: line {skip + 1} is separated by {delimiter!r}, not commas; "
                             "save the file as comma-separated CSV")
    try:
        frame = pd.read_csv(path, skiprows=skip)  # C parser, floats straight away: fast at 10^6 rows
    except pd.errors.EmptyDataError:
        raise StageError(f"{path}: no column names after line {skip}; the file has no table") from None
    except pd.errors.ParserError as error:
        raise StageError(f"{path}: not a well-formed CSV: {str(error).strip()}") from None
    if frame.empty:
        raise StageError(f"{path}: has column names but no data rows")
    first_data_line = skip + 2  # 1-based line of frame row 0
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "fiu":  # some cell is not a number: find the first one
            parsed = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
            row = int((parsed.isna() & values.notna()).to_numpy().argmax())
            raise StageError(f"{path}: column {column!r}, line {first_data_line + row}: "
                             f"{str(values.iloc[row]).strip()!r} is not a number; every cell must be a number")
        bad = ~np.isfinite(values.to_numpy(dtype=np.float64))
        if bad.any():
            row = int(bad.argmax())
            value = values.iloc[row]
            problem = "is empty (a missing value)" if np.isnan(value) else f"'{value}' is infinite"
            raise StageError(f"{path}: column {column!r}, line {first_data_line + row}: {problem}; "
                             f"every cell must be a finite number ({int(bad.sum())} bad in this column)")
    return frame.astype(np.float64), skip


def data_lines(path, skip, n_rows):
    """The file's data rows as raw lines, or None if they don't line up with the parsed rows.

    The split is written by copying the validated rows' original text: every
    value passes through byte for byte, and no float is formatted, which at a
    million rows is about ten times faster than DataFrame.to_csv.
    """
    with open(path, "rb") as handle:
        lines = [line.rstrip(b"\r") for line in handle.read().split(b"\n") if line.strip()]
    lines = lines[skip + 1:]  # past the count line, if any, and the names
    return lines if len(lines) == n_rows else None


def csv_header(columns):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(columns)
    return buffer.getvalue().encode()


def check_columns(frame, path, feature, target, test_size):
    for key, column in (("data.feature", feature), ("data.target", target)):
        if column not in frame.columns:
            raise StageError(f"{path}: no column {column!r} (from {key} in params.yaml); "
                             f"columns are: {', '.join(frame.columns)}")
    if frame[feature].nunique() < 2:
        raise StageError(f"{path}: column {feature!r} (data.feature) is constant; "
                         "choose a feature that varies")
    n_test = math.ceil(len(frame) * test_size)
    if n_test < 1 or len(frame) - n_test < 2:
        raise StageError(f"{path}: {len(frame)} rows are too few for data.test_size = {test_size}; "
                         "need at least 2 training rows and 1 test row")


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "test")
    data, seed = params["data"], params["seed"]
    frame, skip = read_table(data["csv"])
    check_columns(frame, data["csv"], data["feature"], data["target"], data["test_size"])

    from sklearn.model_selection import train_test_split

    train_rows, test_rows = train_test_split(np.arange(len(frame)), test_size=data["test_size"],
                                             random_state=seed)
    if frame[data["feature"]].iloc[train_rows].nunique() < 2:
        raise StageError(f"{data['csv']}: the training split's {data['feature']!r} is constant; "
                         "use more rows or another seed")
    lines = data_lines(data["csv"], skip, len(frame))
    for path, rows in ((args.train, train_rows), (args.test, test_rows)):
        if lines is None:
            write_csv(path, frame.iloc[rows])
        else:
            write_lines(path, csv_header(frame.columns), [lines[row] for row in rows])


if __name__ == "__main__":
    raise SystemExit(main())
