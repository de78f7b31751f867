"""Experiments and review: `dvc exp`, `dvc plots diff`, the PR report and its gates."""

import json
import shutil
import sys
import time

import pytest

from tests.conftest import dvc, run, stages_run

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def lr_experiment(baseline_repo, tmp_path_factory):
    """A copy of the baseline with `dvc exp run -S lr=0.001` applied: (repo, exp name, dvc output)."""
    source, _ = baseline_repo
    repo = tmp_path_factory.mktemp("lr") / "repo"
    shutil.copytree(source, repo, symlinks=True)
    result = dvc("exp", "run", "-S", "lr=0.001", cwd=repo)
    name = dvc("exp", "list", "--name-only", cwd=repo).stdout.split()[0]
    return repo, name, result.stdout


def report(repo, *args):
    return run([sys.executable, "-m", "tools.report", *args], cwd=repo, check=False)


def test_lr_experiment_reruns_only_the_stages_that_read_lr(lr_experiment):
    _, _, output = lr_experiment
    # check_params reads the whole params file, so it reruns on any change; its output never changes.
    assert stages_run(output) == {"check_params", "gd", "evaluate"}


def test_metrics_diff_changes_under_gd_and_evaluate_only(lr_experiment):
    repo, _, _ = lr_experiment
    diff = json.loads(dvc("metrics", "diff", "main", "--json", cwd=repo).stdout)
    changed = {(path, key) for path, metrics in diff.items() for key, entry in metrics.items()
               if entry.get("old") != entry.get("new")}
    assert ("metrics/gd.json", "gd.train_mse") in changed
    assert ("metrics/evaluate.json", "gd.rmse") in changed
    assert {path for path, _ in changed} == {"metrics/gd.json", "metrics/evaluate.json"}
    assert all(key.startswith("gd.") for _, key in changed)  # no other model moved


def test_report_shows_the_lr_change_the_gd_change_and_real_images(lr_experiment):
    repo, _, _ = lr_experiment
    result = report(repo, "--base", "main", "--out", "report/report.md", "--check")
    assert result.returncode == 0, result.stderr  # lr=0.001 keeps gd within 1% of least squares
    text = (repo / "report/report.md").read_text()
    assert "| params.yaml | `lr` | 0.01 | 0.001 |" in text
    assert "| metrics/gd.json | `gd.train_mse` |" in text
    assert "## Leaderboard (test split)" in text and "| 1 | **net** |" in text
    assert "✅ PASS: gd test MSE is" in text
    images = [line.split("(")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert "plot_gradient_descent_loss.png" in images
    for image in images:
        assert (repo / "report" / image).read_bytes()[:4] == b"\x89PNG"


def test_plots_diff_renders_both_loss_curves_and_an_offline_page(lr_experiment):
    repo, name, _ = lr_experiment
    rendered = json.loads(dvc("plots", "diff", "main", name, "--json", cwd=repo).stdout)["data"]
    loss = rendered["Gradient descent loss"][0]
    assert set(loss["revisions"]) == {"main", name}
    revs_in_data = {point["rev"] for point in loss["content"]["data"]["values"]}
    assert revs_in_data == {"main", name}
    assert "Net loss" in rendered and "plots/net/pieces.png" in rendered
    result = run([sys.executable, "-m", "tools.plots_html", "main", name], cwd=repo)
    page = (repo / "dvc_plots/index.html").read_text()
    assert "Gradient descent loss" in page and "vegaEmbed(" in page
    assert "cdn.jsdelivr" not in page and "<script src=" not in page, result.stdout


def test_gate_flag_fails_when_params_break_a_threshold(pipeline_repo):
    assert report(pipeline_repo, "--check").returncode == 0  # the defaults pass every gate
    dvc("exp", "run", "-S", "gd.steps=10", cwd=pipeline_repo)
    result = report(pipeline_repo, "--check")
    assert result.returncode == 1
    assert "gate failed: gd test MSE is" in result.stderr
    assert "gate failed: gd test RMSE rose" in result.stderr
    assert report(pipeline_repo).returncode == 0  # without --check the report is still written
    assert "❌ FAIL" in (pipeline_repo / "report/report.md").read_text()


def experiments(repo):
    """{experiment name: (lr, gd metrics, evaluate metrics)} from `dvc exp show --json`."""
    found = {}
    for baseline in json.loads(dvc("exp", "show", "--json", cwd=repo).stdout):
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                data = rev["data"]
                found[rev["name"]] = (data["params"]["params.yaml"]["data"]["lr"],
                                      data["metrics"]["metrics/gd.json"]["data"],
                                      data["metrics"]["metrics/evaluate.json"]["data"])
    return found


def test_a_queued_sweep_on_two_workers_matches_each_run_alone(pipeline_repo):
    dvc("exp", "run", "--queue", "-S", "lr=0.1,0.01,0.001", cwd=pipeline_repo)
    dvc("queue", "start", "-j", "2", cwd=pipeline_repo)
    deadline = time.monotonic() + 600
    while True:
        status = dvc("queue", "status", cwd=pipeline_repo).stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        assert time.monotonic() < deadline, f"queue still busy after 10 minutes:\n{status}"
        time.sleep(3)
    assert status.count("Success") == 3, status
    queued = {lr: (gd, evaluate) for lr, gd, evaluate in experiments(pipeline_repo).values()}
    assert set(queued) == {0.1, 0.01, 0.001}
    for lr in (0.1, 0.01, 0.001):
        before = set(experiments(pipeline_repo))
        dvc("exp", "run", "-S", f"lr={lr}", cwd=pipeline_repo)
        (alone,) = set(experiments(pipeline_repo)) - before
        _, gd, evaluate = experiments(pipeline_repo)[alone]
        assert (gd, evaluate) == queued[lr], lr
    steps = {lr: gd["gd"]["steps_run"] for lr, (gd, _) in queued.items()}
    assert steps[0.1] < steps[0.01] < steps[0.001]  # a larger rate converges in fewer steps
