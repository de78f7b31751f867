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
    """A copy of the baseline with `dvc exp run -S lr=0.001 -S gd.steps=2000` applied: (repo, exp name, dvc output).

    The tutorial's 2,000 steps at a tenth of the rate stop gradient descent short of the line: a small,
    real move of one model (with the default cap, lr=0.001 converges to the same line: see below).
    """
    source, _ = baseline_repo
    repo = tmp_path_factory.mktemp("lr") / "repo"
    shutil.copytree(source, repo, symlinks=True)
    result = dvc("exp", "run", "-S", "lr=0.001", "-S", "gd.steps=2000", cwd=repo)
    name = dvc("exp", "list", "--name-only", cwd=repo).stdout.split()[0]
    return repo, name, result.stdout


def report(repo, *args):
    return run([sys.executable, "-m", "tools.report", *args], cwd=repo, check=False)


@pytest.fixture(scope="module")
def lr_report(lr_experiment):
    """The report of the lr experiment against main, with --check: (repo, the finished process, report text)."""
    repo, _, _ = lr_experiment
    result = report(repo, "--base", "main", "--out", "report/report.md", "--check")
    return repo, result, (repo / "report/report.md").read_text()


def full_leaderboard(text):
    """The lines of the full leaderboard (folded under the compact one), header first."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| # | model |") and "| RMSE |" in line)
    end = next(i for i in range(start, len(lines) + 1) if i == len(lines) or not lines[i].startswith("|"))
    return lines[start:end]


def leaderboard_row(text, model):
    """The full leaderboard's markdown row of ``model``, as its cells."""
    (line,) = [line for line in full_leaderboard(text) if f"| **`{model}`** |" in line]
    return [cell.strip() for cell in line.strip("|").split("|")]


def column(text, header):
    """The index of a full leaderboard column by its header's start."""
    headers = [cell.strip() for cell in full_leaderboard(text)[0].strip("|").split("|")]
    return next(i for i, name in enumerate(headers) if name.startswith(header))


def test_lr_experiment_reruns_only_the_stages_that_read_lr(lr_experiment):
    _, _, output = lr_experiment
    # check_params reads the whole params file, so it reruns on any change; its output never changes.
    # fit@gd cross-validates itself with the same lr; no other model reads it.
    assert stages_run(output) == {"check_params", "fit@gd", "evaluate"}


def test_metrics_diff_changes_under_gd_and_evaluate_only(lr_experiment):
    repo, _, _ = lr_experiment
    diff = json.loads(dvc("metrics", "diff", "main", "--json", cwd=repo).stdout)
    changed = {(path, key) for path, metrics in diff.items() for key, entry in metrics.items()
               if entry.get("old") != entry.get("new")}
    assert ("metrics/fit.json", "details.fit.gd.train_mse") in changed
    assert ("metrics/evaluate.json", "details.test.gd.rmse") in changed
    assert ("metrics/cv.json", "details.cv.gd.mse_mean") in changed
    assert ("metrics/test_mse.json", "mse.gd") in changed
    assert {path for path, _ in changed} == {"metrics/fit.json", "metrics/evaluate.json", "metrics/cv.json",
                                             "metrics/test_mse.json"}
    assert all(".gd." in key or key.endswith(".gd") for _, key in changed)  # no other model moved


def test_report_shows_the_lr_change_the_gd_change_and_real_images(lr_report):
    repo, result, text = lr_report
    assert result.returncode == 0, result.stderr  # lr=0.001 keeps gd within 1% of least squares
    assert "| `params.yaml` | `lr` | 0.01 | 0.001 |" in text
    assert "| `metrics/fit.json` | `details.fit.gd.train_mse` |" in text
    assert "## Leaderboard (test split)" in text and "| 1 | **`net`** |" in text
    assert "✅ PASS: `gd` test MSE is" in text
    assert "```mermaid" in text and "![" not in text  # the comment's pictures are charts, not image links
    assert "| test row | actual | predicted | error |" in text  # the worst predictions, by test row
    pictures = repo / "report" / "report-pictures"
    index = (pictures / "index.md").read_text()
    images = [line.split("(")[1].rstrip(")") for line in index.splitlines() if line.startswith("![")]
    assert "plot_training_loss__log_scale.png" in images
    assert {"leaderboard.png", "residuals.png"} <= set(images)
    for image in images:
        assert (pictures / image).read_bytes()[:4] == b"\x89PNG"


def test_report_calls_a_tiny_move_within_noise_and_shows_the_intervals(lr_report):
    """lr=0.001 moves gd's test predictions (by up to ~0.7), but not beyond the noise of the split."""
    repo, result, text = lr_report
    assert result.returncode == 0, result.stderr
    assert "**Gates: all passed**" in text and "beats `least_squares`" not in text  # the default gates
    gd, net = leaderboard_row(text, "gd"), leaderboard_row(text, "net")
    assert gd[column(text, "real change?")].startswith("within noise (ΔMSE +")
    assert net[column(text, "real change?")] == "–"  # the net did not move: no verdict
    # Test MSE with its bootstrap interval, as in metrics/evaluate.json; CV mean ± std from metrics/cv.json.
    scores = json.loads((repo / "metrics/evaluate.json").read_text())["details"]["test"]["net"]
    mse, interval = net[column(text, "test MSE [95 %]")].split(" ", 1)
    assert float(mse) == pytest.approx(scores["mse"], rel=1e-2)
    low, high = (float(value) for value in interval.strip("[]").split(", "))
    assert low == pytest.approx(scores["mse_low"], rel=1e-2) and high == pytest.approx(scores["mse_high"], rel=1e-2)
    assert low <= float(mse) <= high
    cv = json.loads((repo / "metrics/cv.json").read_text())["details"]["cv"]["net"]
    mean, std = (float(value) for value in net[column(text, "CV MSE (5 folds)")].split(" ± "))
    assert mean == pytest.approx(cv["mse_mean"], rel=1e-2) and std == pytest.approx(cv["mse_std"], rel=0.05)
    assert net[column(text, "vs `least_squares`")].startswith("-")  # the net's MSE is below the line's


def test_plots_diff_renders_both_loss_curves_and_an_offline_page(lr_experiment):
    repo, name, _ = lr_experiment
    rendered = json.loads(dvc("plots", "diff", "main", name, "--json", cwd=repo).stdout)["data"]
    loss = rendered["Training loss (log scale)"][0]
    assert set(loss["revisions"]) == {"main", name}
    revs_in_data = {point["rev"] for point in loss["content"]["data"]["values"]}
    assert revs_in_data == {"main", name}
    assert "Predicted vs actual (test split)" in rendered and any(title.startswith("A sum of simple pieces") for title in rendered)
    dvc("plots", "diff", "main", name, cwd=repo)  # the page draws offline: .dvc/config's html_template
    page = (repo / "dvc_plots/index.html").read_text()
    assert "Training loss (log scale)" in page and "vegaEmbed(" in page
    assert "cdn.jsdelivr" not in page and "<script src=" not in page


def test_gate_flag_fails_when_params_break_a_threshold(pipeline_repo):
    # The defaults pass every gate (lr_report's run, with --check, exits 0).
    dvc("exp", "run", "-S", "gd.steps=10", cwd=pipeline_repo)  # far from converged: a real, gated regression
    result = report(pipeline_repo, "--check")
    assert result.returncode == 1
    assert "gate failed: gd test MSE is" in result.stderr
    assert "gate failed: gd test RMSE rose" in result.stderr
    text = (pipeline_repo / "report/report.md").read_text()  # written all the same (exit 1 is the gate's)
    assert "❌ FAIL" in text
    # Ten steps leave gd far from the line: a move far beyond the noise of the split.
    assert leaderboard_row(text, "gd")[column(text, "real change?")].startswith("yes, worse (ΔMSE +")
    assert leaderboard_row(text, "knn")[column(text, "real change?")] == "–"


def test_beats_reference_gate(pipeline_repo):
    """A listed model must beat the reference (least squares) with the configured confidence (its paired
    interval below 0)."""
    # Changing a gate reruns check_params only (it reads the whole params file); the report reads the gate.
    dvc("exp", "run", "-S", "gates.beats_reference=[random_search]", cwd=pipeline_repo)
    result = report(pipeline_repo, "--check")
    assert result.returncode == 1, result.stderr
    assert "gate failed: random_search beats least_squares with 95 % confidence" in result.stderr
    text = (pipeline_repo / "report/report.md").read_text()
    assert "❌ FAIL: `random_search` beats `least_squares` with 95 % confidence" in text
    assert "(must lie below 0)" in text  # with the default, empty list, every gate passes: lr_report's run


def test_a_move_on_other_test_rows_is_not_paired():
    """When the base scored other test rows (data or split changed), no move is called real or noise."""
    import numpy as np

    from tools.changes import paired_moves
    from tools.readings import Predictions

    settings = {"resamples": 200, "seed": 0, "confidence": 0.95}
    rows, actual = np.arange(4), np.array([1.0, 2.0, 3.0, 4.0])
    now = Predictions(rows, actual, {"least_squares": np.array([1.5, 2.0, 2.5, 4.5]), "knn": np.full(4, 9.0)})
    scores = {"least_squares": {"mse": 0.1875}, "knn": {"mse": 41.5}}
    before = {"least_squares": {"mse": 0.2}, "knn": {"mse": 41.5}}
    base = Predictions(rows, np.array([1.0, 2.0, 3.0, 5.0]), now.models)
    assert paired_moves(base, now, scores, before, settings) == {
        "least_squares": {"verdict": "not paired", "difference": None, "low": None, "high": None}}
    # The base was exact, now it errs on three rows.
    same_rows = Predictions(rows, actual, {**now.models, "least_squares": np.array([1.0, 2.0, 3.0, 4.0])})
    (move,) = paired_moves(same_rows, now, scores, before, settings).values()
    assert move["verdict"] == "yes, worse" and move["difference"] == pytest.approx(0.1875)
    # The same move, by a model whose MSE over its base's seeds ranged as wide: the seed's luck, not a change.
    seeded = {**before, "least_squares": {"mse": 0.2, "mse_seeds_min": 0.0, "mse_seeds_max": 0.3}}
    (move,) = paired_moves(same_rows, now, scores, seeded, settings).values()
    assert move["verdict"] == "within seed noise"


def experiments(repo):
    """{experiment name: (lr, gd metrics, evaluate metrics)} from `dvc exp show --json`."""
    found = {}
    for baseline in json.loads(dvc("exp", "show", "--json", cwd=repo).stdout):
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                data = rev["data"]
                found[rev["name"]] = (data["params"]["params.yaml"]["data"]["lr"],
                                      data["metrics"]["metrics/fit.json"]["data"]["details"]["fit"]["gd"],
                                      data["metrics"]["metrics/evaluate.json"]["data"])
    return found


def test_a_queued_sweep_on_two_workers_matches_each_run_alone_and_fits_the_readmes_160_columns(pipeline_repo):
    """Three things on one repository, as they build on each other (each `dvc exp run` costs seconds):
    `dvc queue start -j 2` gives what each experiment gives alone; lr=0.001 alone, with the default cap,
    converges to the same least-squares line in ~10x the steps; and the README's `dvc exp show`, as printed,
    fits 160 columns with every model's score once an experiment also changes the data."""
    import re
    import shlex
    import subprocess

    from tests.conftest import ROOT, dvc_env, metrics, model_names

    before_gd = metrics(pipeline_repo, "fit")["gd"]
    dvc("exp", "run", "--queue", "-S", "lr=0.1,0.001", cwd=pipeline_repo)  # two workers, two experiments
    dvc("queue", "start", "-j", "2", cwd=pipeline_repo)
    deadline = time.monotonic() + 600
    while True:
        status = dvc("queue", "status", cwd=pipeline_repo).stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        assert time.monotonic() < deadline, f"queue still busy after 10 minutes:\n{status}"
        time.sleep(3)
    assert status.count("Success") == 2, status
    queued = {lr: (gd, evaluate) for lr, gd, evaluate in experiments(pipeline_repo).values()}
    assert set(queued) == {0.1, 0.001}
    steps = {lr: gd["n_iter"] for lr, (gd, _) in queued.items()}
    assert steps[0.1] < steps[0.001]  # a larger rate converges in fewer steps

    # lr=0.001 again, alone and forced (the queue filled the run-cache, which would answer instead): the other
    # worker's neighbour changed nothing
    before = set(experiments(pipeline_repo))
    dvc("exp", "run", "--force", "-S", "lr=0.001", cwd=pipeline_repo)  # (what lr reruns: the lr_experiment tests)
    (alone,) = set(experiments(pipeline_repo)) - before
    _, gd, evaluate = experiments(pipeline_repo)[alone]
    assert (gd, evaluate) == queued[0.001]
    after_gd = metrics(pipeline_repo, "fit")["gd"]
    assert after_gd["converged"] and after_gd["n_iter"] > 5 * before_gd["n_iter"]  # a tenth of the rate
    assert after_gd["train_mse"] == before_gd["train_mse"]  # ... to the same least-squares line

    # the README's comparisons: every model's score, and (with more than the tutorial's six models, which is
    # as far as the README says the first fits 160 columns) a few models' beside the params that changed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    every, few = re.findall(r"^(dvc exp show .*)$", readme.split("## Compare experiments", 1)[1], flags=re.M)[:2]
    dvc("exp", "run", "-S", "data.features=[RM,LSTAT]", cwd=pipeline_repo)
    for command in (every, few):
        words = shlex.split(command)
        assert words[:3] == ["dvc", "exp", "show"]
        shown = subprocess.run([sys.executable, "-m", "dvc", *words[1:], "--no-pager"], cwd=pipeline_repo,
                               env={**dvc_env(), "COLUMNS": "160"}, capture_output=True, text=True,
                               check=True).stdout
        lines = shown.splitlines()
        assert max(len(line) for line in lines) <= 160, shown
        header = set(next(line for line in lines if "Experiment" in line).split())
        assert len([line for line in lines if "[" in line and "]" in line]) >= 2  # the experiments are rows
        if command == every:
            assert {f"mse.{name}" for name in model_names()} <= header, shown
        if command == few or len(model_names()) <= 6:
            assert "…" not in shown, shown
            assert {"lr", "data.features"} <= header, shown
    assert {"mse.gd", "mse.net"} <= header and not {"mse.knn", "mse.baseline"} & header, shown
