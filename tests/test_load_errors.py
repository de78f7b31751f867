"""Every bad CSV: one line naming the file, the column and the line, and no output written."""

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
    ("506,13\n", "no column names after line 1"),
    (HEADER + "\n", "data.csv: has column names but no data rows"),
    (HEADER.replace(",", ";") + "\n1;2;3\n", "data.csv: line 1 is separated by ';', not commas"),
    (boston_with(4, "RM", "six"), "column 'RM', line 7: 'six' is not a number"),
    (boston_with(9, "MEDV", ""), "column 'MEDV', line 12: is empty (a missing value)"),
    (boston_with(0, "LSTAT", "NaN"), "column 'LSTAT', line 3: is empty (a missing value)"),
    (boston_with(2, "CRIM", "inf"), "column 'CRIM', line 5: 'inf' is infinite"),
    ("\n".join(LINES[:5]) + "\n1,2,3\n" + "\n".join(LINES[5:8]) + "\n", "column 'CHAS', line 6: is empty"),
    ("\n".join(LINES[:5]) + "\n" + LINES[5] + ",1,2\n" + "\n".join(LINES[6:9]) + "\n",
     "not a well-formed CSV: Error tokenizing data. C error: Expected 14 fields in line 6, saw 16"),
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


@pytest.mark.parametrize("key, column", [("data.target", "PRICE"), ("data.feature", "ROOMS")])
def test_missing_column_names_the_key_and_lists_the_columns(project, capsys, key, column):
    project.set(key, column)
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert f"no column '{column}' (from {key} in params.yaml)" in line and "MEDV" in line


def test_too_few_rows_and_constant_feature(project, capsys):
    project.write_csv_text("\n".join(LINES[:4]) + "\n")  # two data rows
    assert run_load(project) == 1
    assert "2 rows are too few for data.test_size = 0.2" in only_error_line(capsys)
    project.write_csv_text("x,MEDV\n" + "".join(f"1.5,{i}\n" for i in range(20)))
    project.set("data.feature", "x")
    assert run_load(project) == 1
    assert "column 'x' (data.feature) is constant" in only_error_line(capsys)


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
