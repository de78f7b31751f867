"""tools/sweep.py: a sweep fanned out over (simulated) CI runners, and its matrix expansion.

Each runner is an independent clone of one bare origin that runs one experiment and pushes it; a
collector clone pulls them all and writes the leaderboard, whose metrics must equal the same sweep
run serially in one clone.
"""

import json
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import dvc, git, run, stages_run
from tests.test_sharing import bare_origin, fresh_clone
from tools.sweep import SweepError, expand, experiment_name, main, parse_override

SWEEP = ["lr=0.1,0.01,0.001"]
UNAFFECTED_BY_LR = {"load", "knn", "random_search", "net"}  # restored from the run-cache, never rerun


# ---- expand: no DVC needed -------------------------------------------------------------------

def params_file(tmp_path):
    from tests.conftest import ROOT

    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    return str(path)


def test_expand_is_the_cartesian_product_in_the_queue_syntax(tmp_path):
    matrix = expand(["lr=0.1,0.01,0.001", "knn.k=1,3"], params_file(tmp_path), prefix="s7")
    entries = matrix["include"]
    assert len(entries) == 6
    assert entries[0] == {"name": "s7_lr-0.1_knn.k-1", "set": ["lr=0.1", "knn.k=1"]}
    assert {tuple(entry["set"]) for entry in entries} == {
        (f"lr={lr}", f"knn.k={k}") for lr in ("0.1", "0.01", "0.001") for k in ("1", "3")}
    assert len({entry["name"] for entry in entries}) == 6
    assert parse_override("lr=0.1, 0.1 ,0.01") == ("lr", ["0.1", "0.01"])  # duplicates dropped
    names = [experiment_name([("lr", "1e-3")]), experiment_name([("a", "x/../y")], prefix="p")]
    for name in names:
        assert subprocess.run(["git", "check-ref-format", f"refs/exps/{name}"]).returncode == 0, name


@pytest.mark.parametrize("overrides, message", [
    (["lr"], "expected key=value"),
    (["lr=0.1,,0.2"], "empty"),
    (["lrr=0.1"], "has no key 'lrr'"),
    (["knn=3"], "is a section"),
    (["lr=0.1", "lr=0.2"], "given twice"),
    (["knn.k=0,3"], "knn.k"),   # the stages' own params validation, before any runner starts
    (["lr=-1"], "lr"),
    (["seed=" + ",".join(map(str, range(300)))], "at most 256 jobs"),
])
def test_expand_rejects_bad_overrides_in_one_line(tmp_path, capsys, overrides, message):
    with pytest.raises(SweepError, match=message):
        expand(overrides, params_file(tmp_path))
    assert main(["expand", "--params", params_file(tmp_path), *overrides]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: sweep expand: ") and err.count("\n") == 1 and "Traceback" not in err


# ---- the fan-out, simulated with clones of one bare origin -----------------------------------

def sweep(*args, cwd):
    return run([sys.executable, "-m", "tools.sweep", *args], cwd=cwd)


@pytest.mark.pipeline
def test_runners_fan_out_and_the_leaderboard_matches_a_serial_sweep(baseline_repo, tmp_path, monkeypatch):
    source, _ = baseline_repo
    seed = tmp_path / "seed"
    shutil.copytree(source, seed, symlinks=True)
    storage = tmp_path / "dvc-storage"  # a directory remote: the documented one-machine fallback
    dvc("remote", "add", "-d", "shared", str(storage), cwd=seed)
    git("add", ".dvc/config", cwd=seed)
    git("commit", "-q", "-m", "DVC remote", cwd=seed)
    origin = bare_origin(tmp_path, seed)
    dvc("push", "--run-cache", cwd=seed)

    matrix = json.loads(sweep("expand", "--prefix", "t1", *SWEEP, cwd=seed).stdout)
    entries = matrix["include"]
    runner_seconds = []
    for i, entry in enumerate(entries):  # one at a time: this machine's cores are shared
        runner = fresh_clone(origin, tmp_path / f"runner{i}")
        started = time.monotonic()
        result = sweep("run", "--entry", json.dumps(entry), cwd=runner)
        runner_seconds.append(time.monotonic() - started)
        # The runner pulled the run-cache: only the stages that read lr ran.
        assert not stages_run(result.stdout) & UNAFFECTED_BY_LR, result.stdout
        assert "pushed refs/exps/" in result.stdout and "DVC remote" in result.stdout

    collector = fresh_clone(origin, tmp_path / "collector")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    started = time.monotonic()
    sweep("collect", "--prefix", "t1", "--sort", "gd.rmse", "--out", "sweep/board.md", cwd=collector)
    collect_seconds = time.monotonic() - started
    board = (collector / "sweep/board.md").read_text()
    rows = json.loads((collector / "sweep/board.json").read_text())
    assert summary.read_text() == board
    assert [row["name"] for row in rows][0] == "(baseline)"
    assert {row["name"] for row in rows[1:]} == {entry["name"] for entry in entries}
    for entry in entries:
        assert f"**{entry['name']}**" in board
    gd_rmse = [row["metrics"]["gd"]["rmse"] for row in rows[1:]]
    assert gd_rmse == sorted(gd_rmse)
    assert "`lr=0.1`" in board and "`lr=0.001`" in board  # the changed params, per experiment

    # The same sweep, serially in one clone (the seed, which already ran main).
    serial = {}
    started = time.monotonic()
    for entry in entries:
        (setting,) = entry["set"]
        before = set(dvc("exp", "list", "--name-only", cwd=seed).stdout.split())
        dvc("exp", "run", "-S", setting, cwd=seed)
        (name,) = set(dvc("exp", "list", "--name-only", cwd=seed).stdout.split()) - before
        shown = subprocess.run(["git", "show", f"{experiment_ref(seed, name)}:metrics/evaluate.json"],
                               cwd=seed, capture_output=True, text=True, check=True).stdout
        serial[setting] = json.loads(shown)
    serial_seconds = time.monotonic() - started
    fanned = {f"lr={row['params']['lr']}": row["metrics"] for row in rows[1:] if "lr" in row["params"]}
    fanned["lr=0.01"] = next(row["metrics"] for row in rows[1:] if row["name"].endswith("lr-0.01"))
    assert fanned == serial
    print(f"\nfan-out: N={len(entries)} runners, {', '.join(f'{s:.1f}' for s in runner_seconds)} s each "
          f"(sum {sum(runner_seconds):.1f} s), collect {collect_seconds:.1f} s; serially in one clone "
          f"{serial_seconds:.1f} s")


def experiment_ref(repo, name):
    refs = git("for-each-ref", "--format=%(refname)", "refs/exps", cwd=repo).stdout.split()
    (ref,) = [ref for ref in refs if ref.rsplit("/", 1)[-1] == name]
    return ref
