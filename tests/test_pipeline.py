"""Tier 3: `dvc repro` and `dvc exp run` on a temporary git repo holding the project."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ALL_STAGES, dvc, dvc_env, output_bytes, stages_run

pytestmark = pytest.mark.pipeline


def test_repro_on_a_fresh_clone_writes_every_output(baseline_repo, pipeline_repo):
    _, output = baseline_repo
    repo = pipeline_repo  # DVC commands run in a private copy, never in the shared baseline
    # A clone has the small outputs kept in git but not the cached ones (no remote): every stage
    # with a cached output runs. check_params, eda and plot_templates, whose outputs all live in git, are
    # up to date, and so is evaluate: the models it reads come out byte-identical to the ones dvc.lock names.
    assert stages_run(output) == ALL_STAGES - {"check_params", "eda", "evaluate", "plot_templates"}
    assert all(output_bytes(repo).values())
    for name in ("test_mse", "evaluate", "cv", "fit", "eda", "data"):
        assert json.loads((repo / "metrics" / f"{name}.json").read_text())
    assert "up to date" in dvc("status", cwd=repo).stdout


def test_a_misspelt_key_fails_repro_before_any_stage_runs(pipeline_repo):
    params = pipeline_repo / "params.yaml"
    params.write_text(params.read_text() + "lrr: 0.001\n")
    before = output_bytes(pipeline_repo)
    result = dvc("repro", cwd=pipeline_repo, check=False)
    assert result.returncode != 0
    assert "unknown key 'lrr' (did you mean 'lr'?)" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert stages_run(result.stdout) == {"check_params"}
    after = output_bytes(pipeline_repo)
    assert {path: data for path, data in after.items() if path != "data/params.ok"} == \
           {path: data for path, data in before.items() if path != "data/params.ok"}


def test_a_stage_killed_mid_run_is_redone_by_the_next_repro(pipeline_repo):
    before = output_bytes(pipeline_repo)
    process = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "-f", "fit@net"], cwd=pipeline_repo,
                               env=dvc_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen = ""
    while "Running stage 'fit@net'" not in seen:
        line = process.stdout.readline()
        assert line, f"dvc ended before the net stage started:\n{seen}"
        seen += line
    time.sleep(0.8)  # inside the stage: importing, training or writing
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode != 0
    truncated = [path for path, data in before.items()
                 if (pipeline_repo / path).exists() and (pipeline_repo / path).read_bytes() != data]
    assert truncated == [], "a killed stage left a changed output behind"
    missing = [path for path in before if not (pipeline_repo / path).exists()]
    result = dvc("repro", cwd=pipeline_repo)
    # Killed before it finished: the next repro redoes it, or, when the killed run's inputs are the committed
    # ones, restores its outputs from DVC's cache (if it finished, nothing is left to do).
    assert not missing or "fit@net" in stages_run(result.stdout) or "didn't change" in result.stdout, missing
    assert output_bytes(pipeline_repo) == before
    assert "up to date" in dvc("status", cwd=pipeline_repo).stdout
