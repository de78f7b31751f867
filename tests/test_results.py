"""docs/results.md is generated: its tables are docs/results.json rendered, and docs/results.json is what the runs gave.

Fast: the page's generated parts equal what tools.results renders from docs/results.json; the default
configuration's numbers there equal the committed metrics/; every decimal number the hand-written prose
cites appears in the tables. Pipeline tier: one non-default configuration, rerun, gives docs/results.json's
numbers.
"""

import json
import re
import shutil

import pytest

from tests.conftest import ROOT
from tools import results

PAGE, DATA = ROOT / "docs" / "results.md", ROOT / "docs" / "results.json"


def data():
    return json.loads(DATA.read_text(encoding="utf-8"))


def configuration(name):
    return next(item for item in data()["configurations"] if item["name"] == name)


def test_the_page_is_what_the_tool_renders_from_the_json():
    text = PAGE.read_text(encoding="utf-8")
    assert results.generated_parts(text) == results.render_all(data(), results.model_order()), \
        "docs/results.md out of date: run `python -m tools.results --render`"
    assert results.main(["--check"]) == 0


def test_the_json_holds_every_configuration_the_page_describes():
    found = data()
    assert [item["name"] for item in found["configurations"]] == list(results.CONFIGURATIONS)
    for item in found["configurations"]:
        assert item["set"] == results.CONFIGURATIONS[item["name"]][1]
        assert set(item["test"]) == set(results.model_order()), item["name"]
    assert found["settings"] == results.settings(ROOT), "params.yaml changed since the runs: rerun tools.results"


def test_the_default_configuration_is_the_committed_metrics():
    assert {kind: configuration("default")[kind] for kind in results.METRICS} == results.read_metrics(ROOT)


def test_the_prose_cites_only_numbers_the_tables_show():
    text = PAGE.read_text(encoding="utf-8")
    tables = "\n".join(results.generated_parts(text).values())
    prose = text
    for name in results.CONFIGURATIONS:
        start, end = results.markers(name)
        prose = prose.split(start)[0] + prose.split(end)[1]
    prose = re.sub(r"```.*?```|`[^`]*`", "", prose, flags=re.S)
    cited = re.findall(r"[-+]?\d[\d,]*\.\d+(?:e-?\d+)?", prose)
    assert cited, "the prose cites no number: has the page lost its text?"
    missing = sorted({number for number in cited if number not in tables})
    assert not missing, f"docs/results.md's prose cites numbers its tables no longer show: {missing}"


def test_compare_says_where_the_workspace_differs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "metrics", tmp_path / "metrics")
    shutil.copy(DATA, tmp_path / "results.json")
    monkeypatch.chdir(tmp_path)
    assert results.main(["--compare", "default", "--data", "results.json"]) == 0
    assert "metrics/ equal docs/results.json's default" in capsys.readouterr().out
    assert results.main(["--compare", "rm_lstat", "--data", "results.json"]) == 1
    evaluate = json.loads((tmp_path / "metrics" / "evaluate.json").read_text())
    evaluate["details"]["test"]["gd"]["mse"] = 46.235  # a stacked `-S lr=0.001`
    (tmp_path / "metrics" / "evaluate.json").write_text(json.dumps(evaluate))
    capsys.readouterr()
    assert results.main(["--compare", "default", "--data", "results.json"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "test.gd.mse: 46.235 in metrics, 46.145 in docs/results.json (default)"]
    assert results.main(["--compare", "nope", "--data", "results.json"]) == 1
    assert "no configuration 'nope'" in capsys.readouterr().err


def test_check_fails_on_an_edited_table(tmp_path, capsys):
    page = tmp_path / "results.md"
    page.write_text(PAGE.read_text(encoding="utf-8").replace("| knn |", "| knn (edited) |", 1), encoding="utf-8")
    assert results.main(["--check", "--page", str(page), "--data", str(DATA)]) == 1
    assert "the default table is not what docs/results.json gives" in capsys.readouterr().out


def test_a_run_refuses_a_data_file_it_did_not_write_before_running_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(results, "run_configurations", lambda *args: pytest.fail("ran before refusing"))
    foreign = tmp_path / "params.json"
    foreign.write_text('{"mine": true}\n')
    assert results.main(["--only", "twelve", "--data", str(foreign)]) == 1
    assert "tools.results did not write it" in capsys.readouterr().err
    assert foreign.read_text() == '{"mine": true}\n'


def test_render_needs_the_markers(tmp_path, capsys):
    page = tmp_path / "results.md"
    page.write_text("# no markers\n", encoding="utf-8")
    assert results.main(["--render", "--page", str(page), "--data", str(DATA)]) == 1
    assert "no `<!-- results:default" in capsys.readouterr().err
    assert page.read_text() == "# no markers\n"


@pytest.mark.parametrize("value, sign, text", [
    (0, False, "0"), (35.028, False, "35.0"), (106.53, False, "107"), (1633.6, False, "1,634"),
    (2561700.0, True, "+2.56e6"), (2e-07, True, "+2.00e-7"), (-0.80479, True, "-0.805"), (0.0014228, False, "0.00142"),
])
def test_numbers_keep_three_significant_digits(value, sign, text):
    assert results.number(value, sign=sign) == text


@pytest.mark.parametrize("row, verdict", [
    ({"vs_ls": -10.0, "vs_ls_low": -20.0, "vs_ls_high": -1.0}, "**better**"),
    ({"vs_ls": 10.0, "vs_ls_low": 1.0, "vs_ls_high": 20.0}, "worse"),
    ({"vs_ls": -10.0, "vs_ls_low": -20.0, "vs_ls_high": 1.0}, "within noise"),
    ({"vs_ls": 0.0, "vs_ls_low": 0.0, "vs_ls_high": 0.0}, "same predictions"),
    # the split says better, but one seed of five is worse than least squares: within the seeds' noise
    ({"vs_ls": -10.0, "vs_ls_low": -20.0, "vs_ls_high": -1.0, "mse_seeds_min": 30.0, "mse_seeds_max": 50.0},
     "within noise"),
    ({}, "–"),
])
def test_the_verdict_needs_the_split_and_the_seeds_to_agree(row, verdict):
    assert results.verdict(row, reference_mse=46.0) == verdict


@pytest.mark.pipeline
def test_a_rerun_of_rm_and_lstat_gives_the_numbers_the_page_shows(pipeline_repo):
    measured = results.measure(pipeline_repo, "rm_lstat")
    assert measured == {kind: configuration("rm_lstat")[kind] for kind in results.METRICS}
