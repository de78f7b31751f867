"""docs/results.md is generated: its tables are docs/results.json rendered, and docs/results.json is what the runs gave.

Fast: the page's generated parts equal what tools.results renders from docs/results.json; the default
configuration's numbers there equal the committed metrics/; every decimal number the hand-written prose
cites appears in the tables; bad inputs (a page, a data file, metrics, arguments) are a table, one row per
class, each one line and exit 1 with nothing written. Pipeline tier: one non-default configuration, rerun,
gives docs/results.json's numbers.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from project.models import read_models
from tests.conftest import ROOT
from tools.owned import json_text
from tools.results import cli, page, runs, tables

PAGE, DATA = ROOT / "docs" / "results.md", ROOT / "docs" / "results.json"


def data():
    return json.loads(DATA.read_text(encoding="utf-8"))


def configuration(name):
    return next(item for item in data()["configurations"] if item["name"] == name)


def registry():
    return read_models(ROOT / "models.yaml")


def test_the_page_is_what_the_tool_renders_from_the_json():
    text = PAGE.read_text(encoding="utf-8")
    assert page.generated_parts(text) == tables.render_all(data(), registry()), \
        "docs/results.md out of date: run `python -m tools.results --render`"
    assert cli.main(["--check"]) == 0


def test_the_json_holds_every_configuration_the_page_describes():
    found = data()
    assert [item["name"] for item in found["configurations"]] == list(runs.CONFIGURATIONS)
    for item in found["configurations"]:
        assert item["set"] == runs.CONFIGURATIONS[item["name"]][1]
        assert set(item["test"]) == set(registry().entries), item["name"]
    assert found["settings"] == runs.settings(ROOT), "params.yaml changed since the runs: rerun tools.results"


def test_the_default_configuration_is_the_committed_metrics():
    assert {kind: configuration("default")[kind] for kind in runs.METRICS} == runs.read_metrics(ROOT)


def test_the_tables_name_the_reference_models_yaml_names():
    reference = registry().reference
    text = "\n".join(page.generated_parts(PAGE.read_text(encoding="utf-8")).values())
    assert f"minus {tables.possessive(reference.replace('_', ' '))} [paired" in text
    header = tables.render("default", configuration("default"), data()["settings"], list(registry().entries),
                           None).splitlines()[2]
    assert "minus the reference's [paired" in header  # models.yaml without a reference: said, not a KeyError


def test_the_prose_cites_only_numbers_the_tables_show():
    text = PAGE.read_text(encoding="utf-8")
    tables_text = "\n".join(page.generated_parts(text).values())
    prose = text
    for name in runs.CONFIGURATIONS:
        start, end = page.markers(name)
        prose = prose.split(start)[0] + prose.split(end)[1]
    prose = re.sub(r"```.*?```|`[^`]*`", "", prose, flags=re.S)
    cited = re.findall(r"[-+]?\d[\d,]*\.\d+(?:e-?\d+)?", prose)
    assert cited, "the prose cites no number: has the page lost its text?"
    missing = sorted({number for number in cited if number not in tables_text})
    assert not missing, f"docs/results.md's prose cites numbers its tables no longer show: {missing}"


def test_compare_says_where_the_workspace_differs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "metrics", tmp_path / "metrics")
    shutil.copy(DATA, tmp_path / "results.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--compare", "default", "--data", "results.json"]) == 0
    assert "metrics/ equal docs/results.json's default" in capsys.readouterr().out
    assert cli.main(["--compare", "rm_lstat", "--data", "results.json"]) == 1
    evaluate = json.loads((tmp_path / "metrics" / "evaluate.json").read_text())
    page_mse = evaluate["details"]["test"]["gd"]["mse"]
    evaluate["details"]["test"]["gd"]["mse"] = 46.235  # a stacked `-S lr=0.001`
    (tmp_path / "metrics" / "evaluate.json").write_text(json.dumps(evaluate))
    capsys.readouterr()
    assert cli.main(["--compare", "default", "--data", "results.json"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"test.gd.mse: 46.235 in metrics, {page_mse} in docs/results.json (default)"]
    assert cli.main(["--compare", "nope", "--data", "results.json"]) == 1
    assert "no configuration 'nope'" in capsys.readouterr().err


def test_check_fails_on_an_edited_table(tmp_path, capsys):
    edited = tmp_path / "results.md"
    edited.write_text(PAGE.read_text(encoding="utf-8").replace("| knn |", "| knn (edited) |", 1), encoding="utf-8")
    assert cli.main(["--check", "--page", str(edited), "--data", str(DATA)]) == 1
    assert "the default table is not what docs/results.json gives" in capsys.readouterr().out


def test_a_run_refuses_a_data_file_it_did_not_write_before_running_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_configurations", lambda *args: pytest.fail("ran before refusing"))
    foreign = tmp_path / "params.json"
    foreign.write_text('{"mine": true}\n')
    assert cli.main(["--only", "twelve", "--data", str(foreign)]) == 1
    assert "tools.results did not write it" in capsys.readouterr().err
    assert foreign.read_text() == '{"mine": true}\n'


def test_render_needs_the_markers(tmp_path, capsys):
    bare = tmp_path / "results.md"
    bare.write_text("# no markers\n", encoding="utf-8")
    assert cli.main(["--render", "--page", str(bare), "--data", str(DATA)]) == 1
    assert "no `<!-- results:default" in capsys.readouterr().err
    assert bare.read_text() == "# no markers\n"


# ---- hostile inputs: one line, exit 1, nothing written --------------------------------------------------

def edited_data(change):
    """docs/results.json as the tool wrote it, with ``change(data)`` applied: text to write as --data."""
    found = data()
    change(found)
    return json_text({key: value for key, value in found.items() if key != "written_by"}, "tools.results")


def set_in(path, value):
    def change(found):
        node = found
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


RESULTS_BAD_INPUTS = [  # (argv, files to make in the folder {name: text | bytes | "dir" | ("link", target)}, words)
    pytest.param(["--only", "all"], {}, "argument --only: invalid choice: 'all'", id="only-unknown"),
    pytest.param(["--render", "--check"], {}, "not allowed with argument", id="two-actions"),
    pytest.param(["--bogus"], {}, "unrecognized arguments: --bogus", id="unknown-option"),
    pytest.param(["--render", "--page", "nowhere.md"], {}, "nowhere.md: not found", id="page-missing"),
    pytest.param(["--render", "--page", "folder.md"], {"folder.md": "dir"}, "folder.md: not a regular file",
                 id="page-directory"),
    pytest.param(["--render", "--page", "link.md"], {"link.md": ("link", "results.md")}, "link.md: not a regular file",
                 id="page-symlink"),
    pytest.param(["--render", "--page", "/dev/null"], {}, "/dev/null: not a regular file", id="page-device"),
    pytest.param(["--render", "--page", "latin1.md"], {"latin1.md": "café\n".encode("latin-1")}, "not UTF-8",
                 id="page-not-utf8"),
    pytest.param(["--render", "--page", "huge.md"], {"huge.md": "x" * (5 << 20)}, "more than a results page has",
                 id="page-huge"),
    pytest.param(["--check", "--data", "none.json"], {}, "none.json: not found; run `python -m tools.results`",
                 id="data-missing"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": "{"}, "d.json: not what tools.results writes",
                 id="data-not-json"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": '{"settings": NaN}'}, "NaN", id="data-nan"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": '{"a": 1, "a": 2}'}, "key 'a' appears twice",
                 id="data-key-twice"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": "[" * 100_000 + "]" * 100_000},
                 "d.json: not what tools.results writes", id="data-nested-too-deep"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": "[]"}, "the file is not a JSON object", id="data-a-list"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": edited_data(lambda d: d.pop("settings"))},
                 "settings must hold seed, seeds", id="data-no-settings"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": edited_data(set_in(["settings", "confidence"], 95))},
                 "settings.confidence must be between 0 and 1", id="data-confidence-a-percent"),
    pytest.param(["--check", "--data", "d.json"], {"d.json": edited_data(set_in(["configurations"], {}))},
                 "configurations must be a non-empty list", id="data-configurations-not-a-list"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(set_in(["configurations", 0, "name"], "<b>x</b>"))},
                 "configurations[0] must be an object whose name is one of default, rm_lstat, twelve",
                 id="data-unknown-configuration"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(set_in(["configurations", 0, "test", "<script>x</script>"], {"mse": 1}))},
                 "which is not a model name", id="data-model-name-markup"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(set_in(["configurations", 0, "test", "knn", "mse"], "45"))},
                 "configuration default: test.knn.mse must be a finite number", id="data-number-as-text"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(set_in(["configurations", 0, "test", "knn", "mse_low"], True))},
                 "test.knn.mse_low must be a finite number", id="data-number-a-bool"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(lambda d: d["configurations"][0]["test"]["knn"].pop("mse_high"))},
                 "test.knn lacks mse_high", id="data-missing-key"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(lambda d: d["configurations"][0]["test"]["knn"].pop("vs_reference_low"))},
                 "test.knn lacks vs_reference_low", id="data-half-an-interval"),
    pytest.param(["--check", "--data", "d.json"],
                 {"d.json": edited_data(set_in(["configurations", 0, "cv", "knn"], [1, 2]))},
                 "cv.knn must be an object of numbers", id="data-row-a-list"),
    pytest.param(["--compare", "default"], {}, "metrics/evaluate.json: not found; run `dvc repro`",
                 id="compare-no-metrics"),
    pytest.param(["--compare", "default"], {"metrics/evaluate.json": '{"details": {"test": []}}'},
                 "metrics/evaluate.json: expected details.test = {model: {...}}", id="compare-metrics-shape"),
    pytest.param(["--compare", "default"],
                 {"metrics/evaluate.json": '{"details": {"test": {"gd": {"mse": Infinity}}}}'},
                 "metrics/evaluate.json: not what the pipeline writes", id="compare-metrics-infinity"),
    pytest.param(["--compare", "twelve", "--data", "d.json"],
                 {"d.json": edited_data(lambda d: d["configurations"].pop())}, "no configuration 'twelve'",
                 id="compare-unknown-configuration"),
]


@pytest.mark.parametrize("argv, files, words", RESULTS_BAD_INPUTS)
def test_every_bad_input_is_one_line_exit_1_and_writes_nothing(tmp_path, argv, files, words):
    shutil.copy(PAGE, tmp_path / "results.md")
    shutil.copy(DATA, tmp_path / "results.json")
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "dir":
            path.mkdir()
        elif isinstance(content, tuple):
            path.symlink_to(content[1])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    defaults = ["--page", "results.md"] * ("--page" not in argv) + ["--data", "results.json"] * ("--data" not in argv)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink()}
    result = subprocess.run([sys.executable, "-m", "tools.results", *argv, *defaults], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: results: ") and result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink()} \
        == before


@pytest.mark.parametrize("value, sign, text", [
    (0, False, "0"), (35.028, False, "35.0"), (106.53, False, "107"), (1633.6, False, "1,634"),
    (2561700.0, True, "+2.56e6"), (2e-07, True, "+2.00e-7"), (-0.80479, True, "-0.805"), (0.0014228, False, "0.00142"),
])
def test_numbers_keep_three_significant_digits(value, sign, text):
    assert tables.number(value, sign=sign) == text


@pytest.mark.parametrize("row, verdict", [
    ({"vs_reference": -10.0, "vs_reference_low": -20.0, "vs_reference_high": -1.0}, "**better**"),
    ({"vs_reference": 10.0, "vs_reference_low": 1.0, "vs_reference_high": 20.0}, "worse"),
    ({"vs_reference": -10.0, "vs_reference_low": -20.0, "vs_reference_high": 1.0}, "within noise"),
    ({"vs_reference": 0.0, "vs_reference_low": 0.0, "vs_reference_high": 0.0}, "same predictions"),
    # the split says better, but one seed of five is worse than the reference: within the seeds' noise
    ({"vs_reference": -10.0, "vs_reference_low": -20.0, "vs_reference_high": -1.0, "mse_seeds_min": 30.0,
      "mse_seeds_max": 50.0}, "within noise"),
    ({}, "–"),
])
def test_the_verdict_needs_the_split_and_the_seeds_to_agree(row, verdict):
    assert tables.verdict(row, reference_mse=46.0) == verdict


# A rerun of rm_lstat giving the numbers the page shows: tests/test_model_experiments.py (one RM, LSTAT run).
