"""Every bad CSV: one line naming the file, the column and the line, and no output written."""

import numpy as np
import pytest

from tests.conftest import BOSTON_CSV, only_error_line, run_load

HEADER = "CRIM,ZN,INDUS,CHAS,NOX,RM,AGE,DIS,RAD,TAX,PTRATIO,B,LSTAT,MEDV"
LINES = BOSTON_CSV.read_text().splitlines()


def boston_with(row_index, column, cell):
    """The Boston CSV with one cell replaced; row_index 0 is the first data row (file line 3)."""
    lines = list(LINES)
    fields = lines[2 + row_index].split(",")
    fields[HEADER.split(",").index(column)] = cell
    lines[2 + row_index] = ",".join(fields)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    ("", "data.csv: the file is empty"),
    ("\n\n", "data.csv: the file is empty"),
    ("506,13\n", "no column names after line 1"),
    (HEADER + "\n", "data.csv: has column names but no data rows"),
    (HEADER.replace(",", ";") + "\n1;2;3\n", "data.csv: line 1 is separated by ';', not commas"),
    (boston_with(4, "RM", "six"), "column 'RM', line 7: 'six' is not a number"),
    (boston_with(9, "MEDV", ""), "column 'MEDV', line 12: is empty (a missing value)"),
    (boston_with(0, "LSTAT", "NaN"), "column 'LSTAT', line 3: is 'NaN' (not a number)"),
    (boston_with(0, "LSTAT", "nan"), "column 'LSTAT', line 3: is 'nan' (not a number)"),
    (boston_with(2, "CRIM", "inf"), "column 'CRIM', line 5: 'inf' is infinite"),
    ("\n".join(LINES[:5]) + "\n1,2,3\n" + "\n".join(LINES[5:8]) + "\n",
     "line 6 has 3 fields, fewer than the 14 columns of the header (line 2)"),
    ("\n".join(LINES[:5]) + "\n" + LINES[5] + ",1,2\n" + "\n".join(LINES[6:9]) + "\n",
     "line 6 has 16 fields, more than the 14 columns of the header (line 2)"),
    ("\n".join(LINES[:4]) + "\n\n\n" + "\n".join(LINES[4:9]).replace(",6.998,", ",six,") + "\n",
     "column 'RM', line 8: 'six' is not a number"),  # blank lines keep the file's line numbers
])
def test_bad_csv_is_one_line_and_writes_nothing(project, capsys, text, expected):
    project.write_csv_text(text)
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert line.startswith("error: load: ") and expected in line
    assert not (project.root / "train.csv").exists()
    assert not (project.root / "test.csv").exists()


def test_missing_file(project, capsys):
    project.set("data.csv", "nowhere.csv")
    assert run_load(project) == 1
    assert "nowhere.csv: file not found; point data.csv in params.yaml at your CSV" in only_error_line(capsys)


@pytest.mark.parametrize("key, value, expected", [
    ("data.target", "PRICE", "no column 'PRICE' (from data.target in params.yaml); columns are: CRIM"),
    ("data.features", ["ROOMS"], "no column 'ROOMS' (from data.features in params.yaml); columns are: CRIM"),
    ("data.features", ["RM", "LSTATT"], "no column 'LSTATT' (from data.features in params.yaml; did you mean "
                                        "'LSTAT'?)"),
    ("data.features", ["rm"], "did you mean 'RM'?"),
])
def test_missing_column_names_the_key_and_lists_the_columns(project, capsys, key, value, expected):
    project.set(key, value)
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert expected in line and "MEDV" in line


def test_too_few_rows_and_constant_feature(project, capsys):
    project.write_csv_text("\n".join(LINES[:4]) + "\n")  # two data rows
    assert run_load(project) == 1
    assert "2 data rows with data.test_size = 0.2 split into 1 training and 1 test rows" in only_error_line(capsys)
    project.write_csv_text("x,MEDV\n" + "".join(f"1.5,{i}\n" for i in range(20)))
    project.set("data.features", ["x"])
    assert run_load(project) == 1
    assert "column 'x' (data.features) is constant (every row is 1.5)" in only_error_line(capsys)


def test_the_split_is_scikit_learns_and_keeps_every_byte(project):
    from sklearn.model_selection import train_test_split

    from stages.load import split_rows

    for n, test_size, seed in ((506, 0.2, 42), (17, 0.3, 0), (1000, 0.001 * 3, 2**32 - 1)):
        train, test = train_test_split(np.arange(n), test_size=test_size, random_state=seed)
        ours = split_rows(n, test_size, seed)
        assert np.array_equal(ours[0], train) and np.array_equal(ours[1], test)
    assert run_load(project) == 0
    rows = set(LINES[2:])
    written = (project.root / "train.csv").read_text().splitlines()
    assert written[0] == HEADER and set(written[1:]) <= rows and len(written) == 405


def test_several_features_and_a_constant_column_nobody_uses(project):
    lines = [LINES[0], LINES[1] + ',"K"'] + [line + ",7" for line in LINES[2:]]
    project.write_csv_text("\n".join(lines) + "\n").set("data.features", ["RM", "LSTAT"])
    assert run_load(project) == 0
    assert (project.root / "test.csv").read_text().splitlines()[0] == HEADER + ",K"


def test_a_failed_load_keeps_the_previous_outputs(project, capsys):
    assert run_load(project) == 0
    before = (project.root / "train.csv").read_bytes()
    project.write_csv_text(boston_with(0, "RM", "oops"))
    assert run_load(project) == 1
    only_error_line(capsys)
    assert (project.root / "train.csv").read_bytes() == before


def test_plain_csv_without_the_count_line_loads(project):
    project.write_csv_text("\n".join(LINES[1:]) + "\n")
    assert run_load(project) == 0
    assert len((project.root / "train.csv").read_text().splitlines()) == 405  # header + 404 rows
