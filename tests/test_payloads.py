"""Column names are data in every file the stages write (issue 19, item 1, for the pipeline's own outputs).

A table of payloads goes through the pipeline as column names: those the load stage accepts come out of
every CSV the stages write as the same cells (the csv module reads each back: no cell split by a comma,
a quote or a line break) and out of every JSON as the same keys; those it refuses (markup, line breaks,
invisible controls) are refused in one line.
"""

import csv
import io
import json

import pytest

from tests.conftest import BOSTON_CSV, only_error_line, pipeline_order, run_load, run_stage

HEADER = "CRIM,ZN,INDUS,CHAS,NOX,RM,AGE,DIS,RAD,TAX,PTRATIO,B,LSTAT,MEDV".split(",")

# Names the load stage accepts: each would break a CSV written by hand, a Markdown table or a spreadsheet.
ACCEPTED = {
    "CRIM": 'a "quoted" name',
    "ZN": "R,M",
    "INDUS": "it's",
    "CHAS": "a|b",
    "NOX": "`code`",
    "RM": "[x](https://e.vil)",
    "AGE": "![i](https://e.vil/i.png)",
    "DIS": "a @mention",
    "RAD": "javascript:alert(1)",
    "TAX": 'a =HYPERLINK("https://e.vil")',  # a formula only where a cell starts with it: refused below
    "PTRATIO": "&amp; \\ %s {0} $x",
    "B": "Ünïcödé 名前 😀",
}
# Names it refuses, whatever else the file holds: (payload, the character named)
REFUSED = [
    ("</script><img src=x onerror=alert(document.domain)>", "'<'"),
    pytest.param("a\nb", "'\\n'", id="a line break in a quoted name"),
    pytest.param("a\rb", "'\\r'", id="a carriage return in a quoted name"),
    ("a\tb", "'\\t'"),
    ("RM\u202e", "'\\u202e'"),  # right-to-left override
    ("R\u200fM", "'\\u200f'"),  # right-to-left mark
    ("R\u200bM", "'\\u200b'"),  # zero-width space
    ("a > b", "'>'"),
    ('=HYPERLINK("https://e.vil")', "'='"),  # a spreadsheet would run it (issue 23)
    ("@mention", "'@'"),
]


def csv_text(names):
    """The bundled data with the header ``names``, every name quoted as RFC 4180 says."""
    lines = BOSTON_CSV.read_text().splitlines()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(names)
    return "\n".join([lines[0], buffer.getvalue().rstrip("\n"), *lines[2:]]) + "\n"


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, strict=True))
    assert rows and all(len(row) == len(rows[0]) for row in rows), path  # no cell split or merged
    return rows


@pytest.fixture(scope="module")
def through(tmp_path_factory):
    """Every stage run on the bundled data with the accepted payloads as its feature columns."""
    import os

    from tests.conftest import Project

    root = tmp_path_factory.mktemp("payloads")
    here = os.getcwd()
    os.chdir(root)
    try:
        project = Project(root)
        project.write_csv_text(csv_text([ACCEPTED.get(name, name) for name in HEADER]))
        project.set("data.features", list(ACCEPTED.values()))
        for name in pipeline_order():
            assert run_stage(project, name) == 0, name
    finally:
        os.chdir(here)
    return root


def test_the_splits_keep_every_name_as_one_cell(through):
    for split in ("train", "test"):
        assert read_csv(through / f"data/prepared/{split}.csv")[0] == [ACCEPTED.get(name, name) for name in HEADER]


@pytest.mark.parametrize("path, column", [
    ("plots/eda/ranking.csv", "feature"),
    ("plots/evaluate/response.csv", "feature"),
])
def test_every_csv_the_stages_write_reads_back_as_the_same_cells(through, path, column):
    rows = read_csv(through / path)
    names = {row[rows[0].index(column)] for row in rows[1:]}
    assert set(ACCEPTED.values()) <= names, names


def test_the_other_csvs_parse_as_rectangles(through):
    for path in sorted(through.rglob("*.csv")):
        read_csv(path)


def test_every_json_the_stages_write_round_trips_with_the_names_as_keys(through):
    for path in sorted([*through.glob("metrics/*.json"), *through.glob("plots/eda/*.json"),
                        *through.glob("models/*/*.json")]):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert json.loads(json.dumps(data)) == data
    eda = json.loads((through / "metrics/eda.json").read_text())["details"]["eda"]
    assert set(eda) == set(ACCEPTED.values())
    matrix = json.loads((through / "plots/eda/correlation.json").read_text())["matrix"]
    assert set(ACCEPTED.values()) <= set(matrix)
    assert all(set(row) <= set(matrix) for row in matrix.values())


@pytest.mark.parametrize("payload, shown", REFUSED)
def test_a_name_with_markup_or_a_control_character_is_refused_in_one_line(project, capsys, payload, shown):
    project.write_csv_text(csv_text([payload if name == "CRIM" else name for name in HEADER]))
    for name in ("train.csv", "test.csv"):
        (project.root / name).write_bytes(b"old\n")
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert all((project.root / name).read_bytes() == b"old\n" for name in ("train.csv", "test.csv"))
    assert f"has {shown} in its name" in line or f"starts with {shown}" in line, line
    assert all((project.root / name).read_bytes() == b"old\n" for name in ("train.csv", "test.csv"))
