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

    from stages.split import split_rows

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


# ---- issue 19, item 7: every misdiagnosis names its real cause ------------------------------------------

PLAIN = "\n".join(LINES[1:]) + "\n"  # no count line: the names on line 1
TEXT = "\n".join(LINES) + "\n"


def column_as(column, cells):
    """The Boston CSV with every cell of one column replaced by cells(value)."""
    index = HEADER.split(",").index(column)
    lines = list(LINES)
    for number in range(2, len(lines)):
        fields = lines[number].split(",")
        fields[index] = cells(fields[index])
        lines[number] = ",".join(fields)
    return "\n".join(lines) + "\n"


def with_line(number, line, text=TEXT):
    """``text`` with ``line`` inserted so that it becomes file line ``number``."""
    lines = text.splitlines()
    return "\n".join(lines[:number - 1] + [line] + lines[number - 1:]) + "\n"


PASSWD = "".join(f"user{i}:x:{1000 + i}:{1000 + i}:User {i},,,:/home/user{i}:/bin/bash\n" for i in range(12))
# (class, case, CSV text, words of the one line)
MISDIAGNOSES = [
    ("separator", "colons (data.csv=/etc/passwd)", "root:x:0:0:root:/root:/bin/bash\n" + PASSWD,
     "data.csv: line 1 is separated by ':', not commas; save the file as comma-separated CSV"),
    ("separator", "semicolons below a comma header", LINES[1] + "\n" + "\n".join(
        line.replace(",", ";") for line in LINES[2:]) + "\n", "data.csv: line 2 is separated by ';', not commas"),
    ("separator", "European CSV (decimal commas)", "\n".join(
        line.replace(",", ";").replace(".", ",") for line in LINES[1:]) + "\n", "line 1 is separated by ';'"),
    ("separator", "pipes", PLAIN.replace(",", "|"), "data.csv: line 1 is separated by '|', not commas"),
    ("separator", "whitespace-aligned (housing.data)", "\n".join(
        " " + "  ".join(line.split(",")) for line in LINES[2:]) + "\n",
     "data.csv: line 1 is separated by spaces, not commas"),
    ("line above the names", "a title", "Boston house prices\n" + PLAIN,
     "data.csv: line 1 ('Boston house prices') is not part of the table (a title or a note?): the column names "
     "are on line 2; delete it, so the column names come first"),
    ("line above the names", "a title with a comma", "Boston house prices, 1978\n" + PLAIN,
     "line 1 ('Boston house prices, 1978') is not part of the table"),
    ("line above the names", "a title as Excel exports it", "Boston house prices" + "," * 13 + "\n" + PLAIN,
     "line 1 ('Boston house prices,,,,,,,,,,,,,') is not part of the table"),
    ("line above the names", "a title above the count line", "Boston house prices\n" + TEXT,
     "line 1 ('Boston house prices') is not part of the table (a title or a note?): the column names are on line 3"),
    ("line above the names", "a title below the count line", with_line(2, "Boston house prices"),
     "line 2 ('Boston house prices') is not part of the table"),
    ("line above the names", "a second line of names (units)", with_line(3, ",".join(["unit"] * 14)),
     "data.csv: lines 2 and 3 both hold names, not numbers, so which line names the columns is a guess"),
    ("comment", "above the names", "# exported from R on 2024-01-01\n" + TEXT,
     "data.csv: line 1 is a comment ('# exported from R on 2024-01-01') above the column names on line 3; "
     "a CSV has no comments: delete it, so the column names come first"),
    ("comment", "above the names, with a comma", "# exported by hand, 2024\n" + PLAIN,
     "line 1 is a comment ('# exported by hand, 2024') above the column names on line 2"),
    ("comment", "among the rows", with_line(11, "# second batch"),
     "data.csv: line 11 is a comment ('# second batch'); a CSV has no comments: delete every line that starts "
     "with '#' (1 such line)"),
    ("comment", "among the rows, as wide as the header", with_line(40, "# checked" + "," * 13),
     "line 40 is a comment ('# checked,,,,,,,,,,,,,')"),
    ("comment", "at the end, twice", TEXT + "# end of file\n# really\n", "line 509 is a comment ('# end of file')"
     "; a CSV has no comments: delete every line that starts with '#' (2 such lines)"),
    ("comment", "on the names (numpy.savetxt's header)", "# RM,MEDV\n" + "".join(
        f"{6 + i / 10},{20 + i}\n" for i in range(9)), "data.csv: line 1 starts with '#' ('# RM,MEDV'): a comment, "
     "not column names; a CSV has no comments: if it names the columns remove the '#', else delete it"),
    ("comment", "nothing but comments (with spaces, not read as a separator)", "# one note\n# another\n",
     "data.csv: line 1 starts with '#' ('# one note'): a comment, not column names"),
    ("true/false", "a whole column", column_as("CHAS", lambda v: "TRUE" if v == "1" else "FALSE"),
     "data.csv: column 'CHAS', line 3: 'FALSE' is a true/false value, not a number; write it as 1 or 0 "
     "(506 bad in this column)"),
    ("true/false", "lower case", column_as("CHAS", lambda v: "true" if v == "1" else "false"),
     "column 'CHAS', line 3: 'false' is a true/false value"),
    ("true/false", "one cell among numbers", boston_with(3, "CHAS", "TRUE"),
     "column 'CHAS', line 6: 'TRUE' is a true/false value, not a number; write it as 1 or 0 (1 bad in this column)"),
    ("true/false", "yes/no", column_as("CHAS", lambda v: "yes" if v == "1" else "no"),
     "column 'CHAS', line 3: 'no' is a true/false value"),
    ("names among the rows", "the header again (two files joined)", with_line(100, LINES[1].replace('"', "")),
     "data.csv: line 100 repeats the column names of line 2 (two files joined?); delete it"),
    ("names among the rows", "a second file's count line and header (cat a.csv b.csv)", TEXT + TEXT,
     "data.csv: line 510 repeats the column names of line 2 (two files joined?); delete it"),
    ("names among the rows", "... and once its header is gone, the count line", TEXT + LINES[0] + "\n" + TEXT.split(
        "\n", 2)[2], "data.csv: line 509 repeats the count line (line 1, '506,13,,,,,,,,,,,,') (two files joined?)"),
    ("names among the rows", "a line of words", with_line(100, ",".join(["n/a", "total"] * 7)),
     "data.csv: line 100 holds names, not numbers (a second header, e.g. units?)"),
    ("field counts", "one field (singular)", with_line(5, "7"), "line 5 has 1 field, fewer than the 14 columns"),
]


@pytest.mark.parametrize("kind, text, expected", [
    pytest.param(kind, text, expected, id=f"{kind}: {case}") for kind, case, text, expected in MISDIAGNOSES])
def test_a_misdiagnosis_now_names_its_cause(project, capsys, kind, text, expected):
    project.write_csv_text(text)
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert line.startswith("error: load: ") and expected in line, line
    assert not (project.root / "train.csv").exists() and not (project.root / "test.csv").exists()


def test_every_misdiagnosis_class_has_cases():
    counts = {kind: sum(1 for row in MISDIAGNOSES if row[0] == kind) for kind, *_ in MISDIAGNOSES}
    assert all(count >= 1 for count in counts.values()) and len(counts) >= 6, counts


@pytest.mark.parametrize("name, text, features, refused", [
    ("a comma CSV with a time column (colons on every row) is about its cells, not colons",
     "when,RM,MEDV\n" + "".join(f"12:{i:02d}:00,{6 + i / 50},{20 + i / 3}\n" for i in range(40)), ["RM"],
     "column 'when', line 2: '12:00:00' is not a number"),
    ("a semicolon in a quoted name loads",
     '"R;M",MEDV\n' + "".join(f"{6 + i / 50},{20 + i / 3}\n" for i in range(40)), ["R;M"], None),
    ("a row-number column named '#' loads",
     "#,RM,MEDV\n" + "".join(f"{i},{6 + i / 50},{20 + i / 3}\n" for i in range(40)), ["RM"], None),
    ("a first row of missing words is missing values, not a title",
     "\n".join(LINES[1:2] + [",".join(["NA"] * 13 + ["1"])] + LINES[2:]) + "\n", ["RM"],
     "column 'CRIM', line 2: is 'NA' (not a number)"),
])
def test_ordinary_files_are_not_misread_as_another_class(project, capsys, name, text, features, refused):
    project.write_csv_text(text).set("data.features", features)
    if refused:
        assert run_load(project) == 1
        assert refused in only_error_line(capsys)
    else:
        assert run_load(project) == 0


# ---- issue 19, item 6: silent data problems are said (exit 0, a warning line each, the --summary facts) -------

SUMMARY_KEYS = {"rows", "train_rows", "test_rows", "shared_rows", "lookup_miss", "lookup_dropped", "outliers",
                "warnings"}


def run_load_with_summary(project):
    from stages import load

    return load.main(["--params", project.path("params.yaml"), "--train", project.path("train.csv"),
                      "--test", project.path("test.csv"), "--summary", project.path("data.json")])


def wide_csv(features=500, rows=506):
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(features)] + ["MEDV"]
    body = (",".join(f"{value:.3f}" for value in row) for row in rng.normal(size=(rows, features + 1)))
    return ",".join(names) + "\n" + "\n".join(body) + "\n"


def column_rows(column, rows, value):
    """The Boston CSV with ``column`` set to ``value`` on the given data rows (0 is file line 3)."""
    index = HEADER.split(",").index(column)
    lines = list(LINES)
    for row in rows:
        fields = lines[2 + row].split(",")
        fields[index] = value
        lines[2 + row] = ",".join(fields)
    return "\n".join(lines) + "\n"


BOSTON = {"rows": 506, "train_rows": 404, "test_rows": 102}
COPIED = "models that memorise their training rows (knn, the lookup table) score better on the test split"
FAR = "least squares, gd and the net can fit it alone and predict about the mean for every other row"
# (class, case, CSV text, params changes, the warning lines (key words of each), summary values)
WARNINGS = [
    ("rows shared by the splits", "every row twice", "\n".join(LINES + LINES[2:]) + "\n", {},
     [["data.csv: 157 of the 203 test rows equal a training row on data.features and data.target, 157 of them "
       "on every column (copied rows, e.g. lines 26 and 532)", COPIED, "remove the repeated rows"]],
     {"rows": 1012, "train_rows": 809, "test_rows": 203, "shared_rows": 157, "outliers": 0}),
    ("rows shared by the splits", "one row copied to the end", "\n".join(LINES + LINES[2:3]) + "\n", {},
     [["data.csv: 1 of the 102 test rows equal a training row", "1 of them on every column (copied rows, e.g. "
       "lines 3 and 509)", COPIED]],
     {"rows": 507, "train_rows": 405, "test_rows": 102, "shared_rows": 1}),
    ("rows shared by the splits", "every row twice, a file of only the used columns",
     "RM,MEDV\n" + "".join(f"{line.split(',')[5]},{line.split(',')[13]}\n" for line in LINES[2:] * 2), {},
     [["data.csv: 157 of the 203 test rows equal a training row on every column (copied rows, e.g. lines 25 "
       "and 531)", COPIED]], {"rows": 1012, "test_rows": 203, "shared_rows": 157}),
    ("more features than training rows", "500 features, 404 training rows", wide_csv(),
     {"data.features": [f"f{i}" for i in range(500)]},
     [["data.csv: 500 features (data.features) and an intercept for 404 training rows: least squares has no "
       "unique fit (it returns the minimum-norm one)", "use fewer features or more rows"]],
     dict(BOSTON, shared_rows=0, outliers=0, lookup_miss=1.0, lookup_dropped=0)),
    ("more features than training rows", "404 features and an intercept, 404 training rows", wide_csv(404),
     {"data.features": [f"f{i}" for i in range(404)]},
     [["data.csv: 404 features (data.features) and an intercept for 404 training rows"]], BOSTON),
    ("values far outside their column", "one RM of 1e45", boston_with(4, "RM", "1e45"), {},
     [["data.csv: column 'RM', line 7: 1e45 is far outside the rest of the column (median 6.208, every other "
       "value within 2.65 of it)", FAR, "check it (a typo, a unit, a code for a missing value?)"]],
     dict(BOSTON, outliers=1, shared_rows=0)),
    ("values far outside their column", "a missing-value code in 20 targets",
     column_rows("MEDV", range(10, 30), "-9999"), {},
     [["data.csv: column 'MEDV', line 13: -9999 is far outside the rest of the column", "(20 such values in this "
       "column)"]], dict(BOSTON, outliers=20)),
    ("values far outside their column", "a 0/1 column (CHAS) with one 1e9", boston_with(50, "CHAS", "1e9"),
     {"data.features": ["RM", "CHAS"]}, [["column 'CHAS', line 53: 1e9 is far outside the rest of the column"]],
     dict(BOSTON, outliers=1)),
    ("values far outside their column", "a unit slip (one RM in thousandths)", boston_with(7, "RM", "6172"),
     {"data.features": ["RM", "LSTAT"]}, [["column 'RM', line 10: 6172 is far outside"]], dict(BOSTON, outliers=1)),
    ("several at once", "every row twice, one huge RM", "\n".join(LINES + LINES[2:]).replace(",6.998,", ",1e45,", 1)
     + "\n", {}, [["157 of the 203 test rows equal a training row", "157 of them on every column"],
                  ["column 'RM', line 6: 1e45 is far outside"]], {"rows": 1012, "shared_rows": 157, "outliers": 1}),
]
QUIET = [  # (case, CSV text, params changes, summary values): facts without a warning
    ("the bundled data", TEXT, {}, dict(BOSTON, shared_rows=0, outliers=0, lookup_dropped=38, lookup_miss=0.78431)),
    ("the bundled data, every column a feature", TEXT, {"data.features": HEADER.split(",")[:-1]},
     dict(BOSTON, shared_rows=0, outliers=0, lookup_dropped=0, lookup_miss=1.0)),
    ("a skewed column (CRIM) alone", TEXT, {"data.features": ["CRIM"]}, dict(BOSTON, outliers=0)),
    # ZN is mostly 0 and MEDV repeats: 58 test rows equal a training row on (ZN, MEDV) by chance, none is a copy
    ("equal rows by chance on few columns", TEXT, {"data.features": ["ZN"]}, dict(BOSTON, shared_rows=58)),
    # Only RM and MEDV in the file, to 4 decimals on 50,000 rows: 16 % of the test rows equal a training row by
    # chance, which a file without other columns cannot tell from copies (test_hostile's knn case, too).
    ("coarse values in a file of only the used columns", "RM,MEDV\n" + "".join(
        f"{x:.4f},{9 * x - 35:.4f}\n" for x in np.random.default_rng(0).normal(6.3, 0.7, size=50_000)), {},
     {"rows": 50_000, "test_rows": 10_000, "shared_rows": 1644}),
    ("as many features as training rows less one (a unique exact fit)", wide_csv(403),
     {"data.features": [f"f{i}" for i in range(403)]}, BOSTON),
]


@pytest.mark.parametrize("text, changes, warnings, facts", [
    pytest.param(text, changes, warnings, facts, id=f"{kind}: {case}") for kind, case, text, changes, warnings, facts
    in WARNINGS])
def test_a_silent_data_problem_is_said(project, capsys, text, changes, warnings, facts):
    import json

    project.write_csv_text(text)
    for key, value in changes.items():
        project.set(key, value)
    assert run_load_with_summary(project) == 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "Traceback" not in err and len(lines) == len(warnings), err
    for line, words in zip(lines, warnings):
        assert line.startswith("warning: load: data.csv: "), line
        for word in words:
            assert word in line, (word, line)
    summary = json.loads((project.root / "data.json").read_text())["details"]["split"]
    assert set(summary) == SUMMARY_KEYS
    assert {key: summary[key] for key in facts} == facts
    assert summary["warnings"] == [line.removeprefix("warning: load: ") for line in lines]
    assert (project.root / "train.csv").exists() and (project.root / "test.csv").exists()


@pytest.mark.parametrize("text, changes, facts", [
    pytest.param(text, changes, facts, id=case) for case, text, changes, facts in QUIET])
def test_ordinary_data_gives_facts_and_no_warning(project, capsys, text, changes, facts):
    import json

    project.write_csv_text(text)
    for key, value in changes.items():
        project.set(key, value)
    assert run_load_with_summary(project) == 0
    assert capsys.readouterr().err == ""
    summary = json.loads((project.root / "data.json").read_text())["details"]["split"]
    assert {key: summary[key] for key in facts} == facts and summary["warnings"] == []


def test_every_class_of_warning_has_cases():
    kinds = {row[0] for row in WARNINGS}
    assert {"rows shared by the splits", "more features than training rows", "values far outside their column"} <= kinds


def test_the_summary_is_stable_json_and_the_lookup_is_the_librarys(project):
    import json

    from fromzero.lookup import lookup_table_report
    from project.splits import read_xy

    assert run_load_with_summary(project) == 0
    text = (project.root / "data.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    summary = json.loads(text)["details"]["split"]
    assert sorted(summary) == sorted(SUMMARY_KEYS)
    features, target = project.params["data"]["features"], project.params["data"]["target"]
    X_train, _ = read_xy(project.root / "train.csv", features, target)
    X_test, _ = read_xy(project.root / "test.csv", features, target)
    dropped, miss = lookup_table_report(X_train, X_test)
    assert summary["lookup_dropped"] == dropped and summary["lookup_miss"] == float(f"{miss:.5g}")
    assert isinstance(summary["shared_rows"], int) and isinstance(summary["outliers"], int)


def test_the_summary_is_written_only_when_asked_and_only_after_everything_is_valid(project, capsys):
    assert run_load(project) == 0
    assert not (project.root / "data.json").exists()
    assert run_load_with_summary(project) == 0
    before = {name: (project.root / name).read_bytes() for name in ("train.csv", "test.csv", "data.json")}
    project.write_csv_text("Boston house prices\n" + "\n".join(LINES[1:]) + "\n")
    assert run_load_with_summary(project) == 1
    only_error_line(capsys)
    assert {name: (project.root / name).read_bytes() for name in before} == before
    assert not [path for path in project.root.iterdir() if path.name.endswith(".tmp")]


# ---- the rules underneath, on arrays --------------------------------------------------------------------------

def test_far_values_is_scale_free_and_quiet_on_skewed_and_flag_columns():
    from stages.split_facts import far_values

    rng = np.random.default_rng(0)
    for seed in range(3):  # a CRIM-like lognormal at 10^6 rows reaches ~10^4 IQRs, as a continuum
        column = np.exp(np.random.default_rng(seed).normal(-1.4, 2.1, size=10**6))
        assert far_values(column)[0].size == 0
    flag = (rng.random(10**5) < 0.005).astype(float)  # 0.5 % ones: the interquartile range is 0
    assert far_values(flag)[0].size == 0
    for position, name in enumerate(HEADER.split(",")):
        column = np.loadtxt(BOSTON_CSV, delimiter=",", skiprows=2, usecols=position)
        assert far_values(column)[0].size == 0, name
    column = rng.normal(6.3, 0.7, size=1000)
    column[[17, 400]] = 1e45, -3e30
    rows, median, reach = far_values(column)
    assert rows.tolist() == [17, 400]
    for scale, shift in ((1e-3, 0.0), (1e6, -5e6), (-1.0, 2.0)):  # units and origin do not matter
        assert far_values(column * scale + shift)[0].tolist() == [17, 400]
    flag[[3]] = 1e9
    assert far_values(flag)[0].tolist() == [3]


def test_matching_rows_is_exact_even_when_every_hash_collides(monkeypatch):
    from stages import split_facts as load
    from stages.split import split_rows

    rng = np.random.default_rng(1)
    values = rng.integers(0, 3, size=(400, 2)).astype(float)  # many equal rows
    values[5] = [-0.0, 1.0]
    values[300] = [0.0, 1.0]  # -0.0 equals 0.0
    train, test = split_rows(400, 0.25, 3)
    expected = np.array([any((values[t] == values[r]).all() for r in train) for t in test])
    hit, partner = load.matching_rows(list(values.T), train, test)
    assert np.array_equal(hit, expected) and np.array_equal(values[test[hit]], values[partner])
    first = {tuple(values[r] + 0.0): r for r in train[::-1]}
    assert partner.tolist() == [first[tuple(values[t] + 0.0)] for t in test[hit]]  # the first in split order
    monkeypatch.setattr(load, "_row_hashes", lambda columns: np.zeros(len(columns[0]), dtype=np.uint64))
    collided, partner_again = load.matching_rows(list(values.T), train, test)
    assert np.array_equal(collided, expected) and np.array_equal(partner_again, partner)


# ---- issue 23 #10, #12: the names load writes are the names every later stage reads -------------------------

def header_text(names, rows=LINES[2:]):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(names)
    return buffer.getvalue() + "\n".join(rows) + "\n"


NAMES = HEADER.split(",")


@pytest.mark.parametrize("name", ["a=b", "x-1", "e@mail", "R+M", "it's", 'a "quoted" name', "Ünïcödé 名前 😀",
                                  "R,M", "a|b", "[x](https://e.vil)", "100%", "ΜΕΣΟ", "Плотность"])
def test_a_name_that_is_only_text_goes_through_as_written(project, name):
    from project.splits import read_columns, split_header

    project.write_csv_text(header_text([name if n == "ZN" else n for n in NAMES])).set("data.features", ["RM", name])
    assert run_load(project) == 0
    for split in ("train.csv", "test.csv"):
        assert split_header(project.root / split)[1] == name
        assert read_columns(project.root / split, [name]).shape[1] == 1


def test_names_are_written_in_nfc_as_params_yaml_types_them(project):
    import unicodedata

    from project.splits import split_header

    decomposed, composed = "pie\u0301ces", "pi\u00e9ces"
    project.write_csv_text(header_text([decomposed if n == "ZN" else n for n in NAMES]))
    project.set("data.features", ["RM", composed])
    assert run_load(project) == 0
    names = split_header(project.root / "train.csv")
    assert names[1] == composed and all(unicodedata.is_normalized("NFC", name) for name in names)


@pytest.mark.parametrize("name, words", [
    ('=HYPERLINK("http://e.vil")', "starts with '=' (a spreadsheet formula)"),
    ("@SUM(1)", "starts with '@'"),
    ("+1", "starts with '+'"),
    ("-1", "starts with '-'"),
    ("\uff1d1", "starts with '＝'"),
    ("a\u2028b", "has '\\u2028' in it"),
    ("a\u2029b", "has '\\u2029' in it"),
    ("pie\u0301ces", "is not in Unicode's NFC form"),
    ("R\u041c", "column name 'RM' looks like column 'R\u041c'"),
    ("R\u00a0M", None),  # alone it is a name; beside 'R M' a look-alike
    ("x" * 1001, "is too long"),
])
def test_the_split_reader_refuses_the_names_load_refuses(tmp_path, name, words):
    from project.errors import UserError
    from project.splits import split_header

    path = tmp_path / "train.csv"
    names = [name, "RM", "MEDV"] if words is None else [name if n == "ZN" else n for n in NAMES]
    path.write_text(header_text(names, rows=["1,2,3"] if words is None else LINES[2:5]), encoding="utf-8")
    if words is None:
        assert split_header(path) == names
        path.write_text(header_text([name, "R M", "MEDV"], rows=["1,2,3"]), encoding="utf-8")
        words = "looks like column 'R\\xa0M'"
    with pytest.raises(UserError) as caught:
        split_header(path)
    message = str(caught.value)
    assert words in message and "which the load stage never writes; rerun `dvc repro -f load`" in message, message
    assert len(message) < 400


# ---- issue 24 #4: width costs what it reads (every column is still checked: the splits copy every column) -----

def wide_boston(extra, broken=None):
    """The Boston CSV (no count line) with ``extra`` numeric columns x0, x1, ... no model reads; ``broken`` =
    (column, file line): that cell of the extra columns is a word."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(len(LINES) - 2, extra))
    rows = []
    for number, (line, row) in enumerate(zip(LINES[2:], values), 2):
        cells = [f"{value:.3f}" for value in row]
        if broken and broken[1] == number:
            cells[broken[0]] = "n/a?"
        rows.append(line + "," + ",".join(cells))
    return ",".join(NAMES + [f"x{i}" for i in range(extra)]) + "\n" + "\n".join(rows) + "\n"


def test_a_wide_file_splits_whole_and_its_unused_columns_are_still_checked(project, capsys):
    from project.splits import read_xy, split_header

    project.write_csv_text(wide_boston(2000))
    assert run_load(project) == 0
    assert len(split_header(project.root / "train.csv")) == 2014
    X, y = read_xy(project.root / "train.csv", ["RM", "x1999"], "MEDV")
    assert X.shape == (404, 2) and y.shape == (404,)
    project.write_csv_text(wide_boston(2000, broken=(1500, 300)))
    assert run_load(project) == 1
    assert "data.csv: column 'x1500', line 300: 'n/a?' is not a number" in only_error_line(capsys)
