"""The stages called directly, as DVC calls them, on the bundled data in a scratch folder."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, only_error_line


def dvc_stage_argv(name):
    """The arguments dvc.yaml passes to stage ``name``'s script: (module, argv), paths relative to the repo."""
    import shlex

    import yaml

    cmd = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][name]["cmd"]
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"]
    return words[2], words[3:]


def run_stage(project, name):
    """Run a stage as `dvc repro` would, in the scratch project (the working directory)."""
    import importlib

    module, argv = dvc_stage_argv(name)
    if "--params" not in argv:
        argv = ["--params", "params.yaml", *argv]
    return importlib.import_module(module).main(argv)


PIPELINE_ORDER = ("check_params", "load", "eda", "baseline", "least_squares", "knn", "random_search", "gd", "net",
                  "evaluate")


def test_every_stage_runs_and_evaluate_scores_every_registered_model(project):
    from fromzero.registry import MODEL_NAMES

    for name in PIPELINE_ORDER:
        assert run_stage(project, name) == 0, name
    scores = json.loads((project.root / "metrics/evaluate.json").read_text())
    assert set(scores) == set(MODEL_NAMES)
    for name, model in scores.items():
        assert {"mse", "rmse", "mae", "r2", "mse_low", "mse_high"} <= set(model)
        assert model["mse_low"] <= model["mse"] <= model["mse_high"], name  # an interval holds its estimate
        if name != "least_squares":
            assert model["vs_ls_low"] <= model["vs_ls"] <= model["vs_ls_high"], name
    assert scores["net"]["rmse"] < scores["least_squares"]["rmse"] < scores["baseline"]["rmse"]
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-4)
    cv = json.loads((project.root / "metrics/cv.json").read_text())
    assert set(cv) == set(MODEL_NAMES)
    assert all(fold["mse_min"] <= fold["mse_mean"] <= fold["mse_max"] for fold in cv.values())
    for picture in ("plots/net/pieces.png", "plots/net/sigmoid.png", "plots/eda/heatmap.png"):
        assert (project.root / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    response = (project.root / "plots/evaluate/response.csv").read_text().splitlines()
    assert response[0] == "feature,value," + ",".join(MODEL_NAMES)
    knn = json.loads((project.root / "metrics/knn.json").read_text())["knn"]
    assert 0.5 < knn["lookup_miss"] <= 1.0  # most test rooms-values were never seen exactly


def test_several_features_run_through_every_stage(project):
    project.set("data.features", ["RM", "LSTAT"])
    for name in PIPELINE_ORDER:
        assert run_stage(project, name) == 0, name
    scores = json.loads((project.root / "metrics/evaluate.json").read_text())
    # More information beats a fancier model: the plane on two columns beats the line on one.
    assert scores["least_squares"]["mse"] < 0.8 * 46.145
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-2)
    model = json.loads((project.root / "models/net.json").read_text())
    assert model["model"] == "net" and model["params"]["n_features_in"] == 2


def prepared(project):
    for name in ("check_params", "load"):
        assert run_stage(project, name) == 0


def test_gd_divergence_names_lr_and_the_step_and_keeps_old_outputs(project, capsys):
    prepared(project)
    assert run_stage(project, "gd") == 0
    before = (project.root / "metrics/gd.json").read_bytes()
    project.set("lr", 10.0)
    assert run_stage(project, "gd") == 1
    line = only_error_line(capsys)
    assert "params.yaml: lr = 10 makes the fit diverge: the loss" in line and "at step" in line
    assert line.endswith("on this data it must be below 1")  # standardised: both curvatures are 2
    assert (project.root / "metrics/gd.json").read_bytes() == before


def test_net_divergence_names_its_rate(project, capsys):
    prepared(project)
    project.set("net.learning_rate", 50.0)
    assert run_stage(project, "net") == 1
    line = only_error_line(capsys)
    assert "net.learning_rate = 50 makes the fit diverge: the loss became non-finite at step" in line
    assert not (project.root / "metrics/net.json").exists()


def test_knn_with_more_neighbours_than_training_rows(project, capsys):
    prepared(project)
    project.set("knn.k", 405)
    assert run_stage(project, "knn") == 1
    assert "knn.k = 405 is more than the 404 training rows" in only_error_line(capsys)


def test_a_missing_split_tells_which_stage_to_run(project, capsys):
    assert run_stage(project, "gd") == 1
    assert "data/prepared/train.csv: not found; run `dvc repro load` first" in only_error_line(capsys)


def test_from_the_command_line_an_error_is_one_line_and_exit_status_1(project):
    project.set("lr", -1)
    result = subprocess.run([sys.executable, "-m", "stages.check_params", "--params", project.path("params.yaml"),
                             "--out", project.path("params.ok")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == "error: check_params: params.yaml: lr = -1 is not allowed: must be a finite number > 0\n" \
        .replace("params.yaml:", project.path("params.yaml") + ":")
    assert not (project.root / "params.ok").exists()


def test_check_params_names_a_missing_data_file(project, capsys):
    from stages import check_params

    project.set("data.csv", "nowhere.csv")
    assert check_params.main(["--params", project.path("params.yaml"), "--out", project.path("params.ok")]) == 1
    assert "data.csv = 'nowhere.csv': no such file; point it at your CSV" in only_error_line(capsys)
    assert not (project.root / "params.ok").exists()


def test_a_bug_still_shows_its_traceback(project, monkeypatch, capsys):
    from stages import check_params, cli

    def broken(path):
        raise KeyError("a bug, not a user error")

    monkeypatch.setattr(cli, "read_params", broken)
    with pytest.raises(KeyError):
        check_params.main(["--out", project.path("params.ok")])


def test_progress_is_silent_off_a_terminal_and_a_delayed_bar_on_one(monkeypatch):
    import io

    from stages.progress import progress

    steps = range(5)
    assert progress("gd")(steps) is steps  # a pipe, a CI log, the tests: untouched, nothing printed

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = progress("gd")(steps)
    assert list(bar) == list(steps)
    assert terminal.getvalue() == ""  # a loop shorter than the delay shows no bar at all


def test_a_fold_that_diverges_names_the_rate_and_changes_no_output(project, capsys):
    # At this rate the raw line converges on the whole training split but not on every smaller fold.
    prepared(project)
    assert run_stage(project, "gd") == 0
    outputs = {path: path.read_bytes() for folder in ("models", "metrics", "plots") for path in
               (project.root / folder).rglob("*") if path.is_file()}
    project.set("gd.standardize", False)
    project.set("lr", 0.0241)
    assert run_stage(project, "gd") == 1
    line = only_error_line(capsys)
    assert "params.yaml: lr = 0.0241 fits the training split but gd diverges on a cross-validation fold" in line
    assert {path: path.read_bytes() for path in outputs} == outputs
