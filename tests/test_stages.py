"""The stages called directly, as DVC calls them, on the bundled data in a scratch folder."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, only_error_line, run_load


def stage_args(project, name):
    p = project.path
    args = {
        "knn": ["--train", p("train.csv"), "--test", p("test.csv"), "--model", p("models/knn.json"),
                "--metrics", p("metrics/knn.json")],
        "random_search": ["--train", p("train.csv"), "--model", p("models/random_search.json"),
                          "--metrics", p("metrics/random_search.json"), "--plot", p("plots/search.csv")],
        "gd": ["--train", p("train.csv"), "--model", p("models/gd.json"), "--metrics", p("metrics/gd.json"),
               "--plot", p("plots/gd.csv")],
        "net": ["--train", p("train.csv"), "--model", p("models/net.json"), "--metrics", p("metrics/net.json"),
                "--plot", p("plots/net.csv"), "--figures", p("plots/net")],
        "eda": ["--train", p("train.csv"), "--out-dir", p("plots/eda"), "--metrics", p("metrics/eda.json")],
        "evaluate": ["--train", p("train.csv"), "--test", p("test.csv"), "--models", p("models"),
                     "--least-squares", p("models/least_squares.json"), "--metrics", p("metrics/evaluate.json"),
                     "--predictions", p("plots/predictions.csv"), "--figure", p("plots/curves.png")],
    }[name]
    return ["--params", p("params.yaml"), *args]


def run_stage(project, name):
    import importlib

    return importlib.import_module(f"stages.{name}").main(stage_args(project, name))


def test_every_stage_runs_and_evaluate_scores_all_six_models(project):
    assert run_load(project) == 0
    for name in ("eda", "knn", "random_search", "gd", "net", "evaluate"):
        assert run_stage(project, name) == 0, name
    scores = json.loads((project.root / "metrics/evaluate.json").read_text())
    assert set(scores) == {"baseline", "least_squares", "knn", "random_search", "gd", "net"}
    assert all(set(model) == {"mse", "rmse", "mae", "r2"} for model in scores.values())
    assert scores["net"]["rmse"] < scores["least_squares"]["rmse"] < scores["baseline"]["rmse"]
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-4)
    for picture in ("plots/curves.png", "plots/net/pieces.png", "plots/net/sigmoid.png", "plots/eda/heatmap.png"):
        assert (project.root / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    knn = json.loads((project.root / "metrics/knn.json").read_text())["knn"]
    assert 0.5 < knn["lookup_miss"] <= 1.0  # most test rooms-values were never seen exactly
    eda = json.loads((project.root / "metrics/eda.json").read_text())["eda"]
    assert eda["rank"] == 2 and eda["corr"] > 0.6  # RM: strongest positive, second to LSTAT overall


def test_gd_divergence_names_lr_and_the_step_and_keeps_old_outputs(project, capsys):
    assert run_load(project) == 0
    assert run_stage(project, "gd") == 0
    before = (project.root / "metrics/gd.json").read_bytes()
    project.set("lr", 10.0)
    assert run_stage(project, "gd") == 1
    line = only_error_line(capsys)
    assert "params.yaml: lr = 10 makes the fit diverge: the loss" in line and "at step" in line
    assert line.endswith("on this data it must be below 1")  # standardised: both curvatures are 2
    assert (project.root / "metrics/gd.json").read_bytes() == before


def test_net_divergence_names_its_rate(project, capsys):
    assert run_load(project) == 0
    project.set("net.learning_rate", 50.0)
    assert run_stage(project, "net") == 1
    line = only_error_line(capsys)
    assert "net.learning_rate = 50 makes the fit diverge: the loss became non-finite at step" in line
    assert not (project.root / "metrics/net.json").exists()


def test_knn_with_more_neighbours_than_training_rows(project, capsys):
    assert run_load(project) == 0
    project.set("knn.k", 405)
    assert run_stage(project, "knn") == 1
    assert "knn.k = 405 is more than the 404 training rows" in only_error_line(capsys)


def test_a_missing_split_tells_which_stage_to_run(project, capsys):
    assert run_stage(project, "gd") == 1
    assert "train.csv: not found; run `dvc repro load` first" in only_error_line(capsys)


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
    from stages import check_params, params

    def broken(path):
        raise KeyError("a bug, not a user error")

    monkeypatch.setattr(params, "read_params", broken)
    with pytest.raises(KeyError):
        check_params.main(["--out", project.path("params.ok")])
