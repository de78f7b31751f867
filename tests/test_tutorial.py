"""docs/tutorial.md is generated: the page and its pictures are what tools.tutorial makes of the committed outputs.

Fast: regenerated from this checkout's outputs into a temporary folder, byte for byte (where the
DVC-tracked outputs, models/ and data/prepared/, are absent, as in a fresh clone before `dvc repro`, from the
suite's one reproduced copy of the project instead); every picture it shows is a file of the repository with alt text; a
number moves when its output does; the tie count on a case worked by hand; refusals as one line, with
nothing written. Pipeline tier: a fresh copy's `dvc repro` gives the committed page and pictures byte for
byte, and `dvc exp run -S knn.k=5` or `-S lr=0.001` changes exactly the sections and pictures that read it.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, dvc, dvc_env, git
from tools.tutorial import cli, facts

PAGE, PICTURES = ROOT / "docs" / "tutorial.md", ROOT / "docs" / "tutorial"
INPUTS = ["params.yaml", "models.yaml", "dvc.lock", "metrics", "models", "data/prepared", "data/raw",
          "plots/eda/ranking.csv", "docs/results.json"]  # what the tool reads
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def tool(*args, cwd=ROOT):
    env = dict(dvc_env(), PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "tools.tutorial", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def outputs_here():
    return (ROOT / "models").is_dir() and (ROOT / "data" / "prepared" / "train.csv").is_file()


@pytest.fixture(scope="module")
def outputs_root(request):
    """Where the outputs the tool reads are: this checkout, or (a fresh clone keeps them in DVC's cache, not in
    git) the suite's reproduced copy of it, whose outputs are the same bytes (tests/test_reproducibility.py)."""
    return ROOT if outputs_here() else request.getfixturevalue("baseline_repo")[0]


def files(folder):
    """{relative path: bytes} of the page and its pictures under ``folder``."""
    found = {"tutorial.md": (folder / "tutorial.md").read_bytes()}
    found.update({f"tutorial/{path.name}": path.read_bytes() for path in sorted((folder / "tutorial").iterdir())})
    return found


def copy_inputs(destination, root):
    for name in INPUTS:
        source, target = root / name, destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, outputs_root):
    """The page and pictures regenerated from this checkout's outputs, in a temporary folder."""
    folder = tmp_path_factory.mktemp("tutorial")
    result = tool("--out", str(folder), cwd=outputs_root)
    assert result.returncode == 0, result.stderr
    return folder


def test_the_page_and_its_pictures_are_what_the_outputs_give(regenerated):
    committed = files(ROOT / "docs")
    fresh = files(regenerated)
    stale = sorted(name for name in set(committed) | set(fresh) if committed.get(name) != fresh.get(name))
    assert not stale, f"{stale} out of date: run `python -m tools.tutorial` (and commit the page with the run)"


def test_every_picture_is_a_file_of_the_repository_with_alt_text():
    text = PAGE.read_text(encoding="utf-8")
    images = IMAGE.findall(text)
    assert len(images) >= 8, "the story's pictures are missing"
    shown = set()
    for alt, target in images:
        assert not re.match(r"^[a-z]+:", target) and not target.startswith("/"), f"{target}: not a relative path"
        path = (PAGE.parent / target).resolve()
        assert path.is_file() and path.suffix == ".png", f"{target}: no such picture"
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0
        assert not ignored, f"{target}: ignored by git, so GitHub cannot show it"
        assert len(alt.split()) >= 8, f"{target}: alt text {alt!r} does not say what the picture shows"
        shown.add(path)
    unshown = sorted(path.name for path in PICTURES.iterdir() if path.resolve() not in shown)
    assert not unshown, f"docs/tutorial/ holds pictures the page does not show: {unshown}"


def test_the_page_names_its_run(tmp_path, monkeypatch):
    """By a fingerprint of dvc.lock's params and outputs: it moves with an output's hash, not with a code hash."""
    import yaml

    from tools.tutorial import run as tutorial_run

    text = PAGE.read_text(encoding="utf-8")
    assert text.startswith("<!-- written by tools.tutorial;")
    if not outputs_here():
        return
    assert f"fingerprint `{tutorial_run._lock_hash()[:16]}`" in text
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())
    monkeypatch.chdir(tmp_path)

    def fingerprint(edit):
        changed = yaml.safe_load(yaml.safe_dump(lock))
        edit(changed["stages"]["eda"])
        (tmp_path / "dvc.lock").write_text(yaml.safe_dump(changed))
        return tutorial_run._lock_hash()

    same = fingerprint(lambda stage: None)
    assert fingerprint(lambda stage: stage["deps"][-1].update(md5="0" * 32)) == same  # eda's code: not the run
    assert fingerprint(lambda stage: stage["outs"][0].update(md5="0" * 32)) != same  # an output: another run


def test_a_number_moves_when_its_output_does(tmp_path, outputs_root):
    copy_inputs(tmp_path, outputs_root)
    path = tmp_path / "metrics" / "evaluate.json"
    evaluate = json.loads(path.read_text())
    evaluate["details"]["test"]["knn"].update(mse=12.345, mse_low=6.789, mse_high=23.456)
    path.write_text(json.dumps(evaluate))
    result = tool("--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "tutorial.md").read_text(encoding="utf-8")
    assert "`knn` scores 12.3 [6.79, 23.5]" in page


def test_ties_are_counted_and_broken_as_worked_by_hand():
    from fromzero.neighbors import KNearestNeighbors

    x, y = np.array([1.0, 2.0, 3.0, 3.0]), np.array([10.0, 20.0, 30.0, 40.0])
    queries, truth = np.array([2.0, 10.0]), np.array([0.0, 0.0])
    shared = KNearestNeighbors(k=3).fit(x[:, None], y).predict(queries[:, None])
    # At 2: distances 1, 0, 1, 1; the 3rd and 4th nearest are both 1 away: a tie. The row at 0 counts fully,
    # the three at 1 share the two places left: (20 + 2/3·(10 + 30 + 40)) / 3. In file order: (20 + 10 + 30) / 3.
    assert shared[0] == pytest.approx((20 + 2 / 3 * 80) / 3)
    # At 10: distances 9, 8, 7, 7; the 3rd is 8 away, the 4th 9: no tie.
    ties = facts.nearest_ties(x, y, queries, truth, 3, shared)
    assert ties.rows.tolist() == [0]
    assert ties.in_file_order[0] == pytest.approx(20.0) and ties.in_file_order[1] == shared[1]
    assert ties.largest_move == pytest.approx(abs(20.0 - shared[0]))


def test_significant_digits_of_agreement():
    assert facts.agreeing_digits({"a": np.array([1.0, 0.5])}, {"a": np.array([1.0, 0.5 + 3e-9])}) == 8
    assert facts.agreeing_digits({"a": np.array([2.0])}, {"a": np.array([2.0])}) == float("inf")


def test_more_than_one_column_is_refused_in_one_line_with_nothing_written(tmp_path, outputs_root):
    copy_inputs(tmp_path, outputs_root)
    params = tmp_path / "params.yaml"
    params.write_text(params.read_text().replace("features: [RM]", "features: [RM, LSTAT]"))
    result = tool("--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: tutorial: params.yaml: data.features = [RM, LSTAT]"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_check_names_every_file_that_differs(regenerated, tmp_path, capsys):
    shutil.copytree(regenerated, tmp_path / "docs")
    page, pictures = tmp_path / "docs" / "tutorial.md", tmp_path / "docs" / "tutorial"
    text = (regenerated / "tutorial.md").read_text(encoding="utf-8")
    drawn = {path.name: path.read_bytes() for path in (regenerated / "tutorial").iterdir()}
    assert cli.differences(tmp_path / "docs", text, drawn) == []
    page.write_text(text.replace("## The loss", "## The loss, edited"), encoding="utf-8")
    (pictures / "knn.png").write_bytes(drawn["knn.png"][:-1])
    (pictures / "old.png").write_bytes(drawn["net.png"])
    (pictures / "net.png").unlink()
    found = cli.differences(tmp_path / "docs", text, drawn)
    assert sorted(line.split(": ")[0] for line in found) == sorted(
        [str(page), str(pictures / "knn.png"), str(pictures / "net.png"), str(pictures / "old.png")]), found


def test_a_page_it_did_not_write_is_never_replaced(regenerated, tmp_path):
    text = (regenerated / "tutorial.md").read_text(encoding="utf-8")
    drawn = {path.name: path.read_bytes() for path in (regenerated / "tutorial").iterdir()}
    mine = tmp_path / "tutorial.md"
    mine.write_text("# my notes\n", encoding="utf-8")
    with pytest.raises(cli.UserError, match="tools.tutorial did not write it"):
        cli.install(tmp_path, text, drawn)
    assert mine.read_text() == "# my notes\n" and not (tmp_path / "tutorial").exists()
    mine.unlink()
    (tmp_path / "tutorial").mkdir()
    (tmp_path / "tutorial" / "knn.png").write_text("not a picture")
    with pytest.raises(cli.UserError, match="is not a picture"):
        cli.install(tmp_path, text, drawn)
    assert not mine.exists()


# ---- the pipeline tier: a fresh copy, then one param changed -----------------------------------

def sections(text):
    """{index: (heading, text)} of the page's parts: 0 the header, then one per `## ` section."""
    parts = re.split(r"(?m)^(?=## )", text)
    return {index: (next(line for line in part.splitlines() if line.startswith("#")), part)
            for index, part in enumerate(parts)}


@pytest.mark.pipeline
def test_a_fresh_copy_reproduces_the_page_and_its_pictures(pipeline_repo):
    check = tool("--check", cwd=pipeline_repo)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.pipeline
@pytest.mark.parametrize("change, moved_sections, moved_pictures", [
    ("knn.k=5", {"# The tutorial, told by the pipeline", "## The 3 nearest neighbours",
                 "## What changes with more columns"}, {"knn.png"}),
    ("lr=0.001", {"# The tutorial, told by the pipeline", "## Gradient descent", "## What changes with more columns"},
     {"gradient_descent.png"}),
])
def test_a_change_moves_only_the_sections_and_pictures_that_read_it(pipeline_repo, change, moved_sections,
                                                                     moved_pictures):
    first = tool(cwd=pipeline_repo)
    assert first.returncode == 0, first.stderr
    before = files(pipeline_repo / "docs")
    dvc("exp", "run", "-S", change, cwd=pipeline_repo)
    again = tool(cwd=pipeline_repo)
    assert again.returncode == 0, again.stderr
    after = files(pipeline_repo / "docs")
    assert {name.split("/")[-1] for name in before if before[name] != after[name]} == {"tutorial.md", *moved_pictures}
    old, new = sections(before["tutorial.md"].decode()), sections(after["tutorial.md"].decode())
    assert len(old) == len(new)
    changed = {old[index][0] for index in old if old[index][1] != new[index][1]}
    assert "# The tutorial, told by the pipeline" in changed and len(changed) >= 2, changed  # the params, the step
    assert changed <= moved_sections, changed
