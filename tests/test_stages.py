"""The stages called directly, as DVC calls them, on the bundled data in a scratch folder."""

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, metrics, model_names, only_error_line, pipeline_order, run_stage


def test_every_stage_runs_and_evaluate_scores_every_listed_model(project):
    names = model_names()
    for name in pipeline_order():
        assert run_stage(project, name) == 0, name
    scores = metrics(project.root, "test")
    assert set(scores) == set(names)
    for name, model in scores.items():
        assert {"mse", "rmse", "mae", "r2", "mse_low", "mse_high"} <= set(model)
        assert model["mse_low"] <= model["mse"] <= model["mse_high"], name  # an interval holds its estimate
        if name != "least_squares":  # models.yaml's reference
            assert model["vs_reference_low"] <= model["vs_reference"] <= model["vs_reference_high"], name
    assert scores["net"]["rmse"] < scores["least_squares"]["rmse"] < scores["baseline"]["rmse"]
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-4)
    assert metrics(project.root, "test_mse") == {name: model["mse"] for name, model in scores.items()}
    for name in ("random_search", "gd", "net"):  # fitted on 5 seeds: the spread of the test MSE beside it
        seeds = scores[name]
        assert seeds["seeds"] == 5 and seeds["mse_seeds_min"] <= seeds["mse_seeds_median"] <= seeds["mse_seeds_max"]
        assert seeds["mse_seeds_min"] <= seeds["mse"] <= seeds["mse_seeds_max"]
    assert "mse_seeds_median" not in scores["knn"]  # no seed in its fit
    cv = metrics(project.root, "cv")
    assert set(cv) == set(names)
    assert all(fold["mse_min"] <= fold["mse_mean"] <= fold["mse_max"] for fold in cv.values())
    for picture in ("plots/eda/heatmap.png", "plots/eda/scatter.png"):
        assert (project.root / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pieces = (project.root / "plots/evaluate/pieces.csv").read_text().splitlines()
    assert pieces[0] == "model,piece,feature,value,contribution"
    # Every model whose class declares the ability, each of its units and their sum (the net: 4 units + 1).
    assert {line.split(",")[0] for line in pieces[1:]} == {"net"} and len(pieces) == 1 + 5 * 100
    response = (project.root / "plots/evaluate/response.csv").read_text().splitlines()
    assert response[0] == "model,feature,value,predicted"
    assert {line.split(",")[0] for line in response[1:]} == set(names)
    loss = (project.root / "plots/evaluate/loss.csv").read_text().splitlines()
    assert loss[0] == "model,iteration,unit,loss"
    assert {tuple(line.split(",")[0:3:2]) for line in loss[1:]} == {("gd", "step"), ("net", "step"),
                                                                    ("random_search", "trial")}
    templates = {path.name for path in (project.root / "plots/templates").iterdir()}
    assert templates == {"loss.json", "predicted_vs_actual.json", "response.json", "correlation.json", "pieces.json"}


def test_several_features_run_through_every_stage(project):
    project.set("data.features", ["RM", "LSTAT"])
    for name in pipeline_order():
        assert run_stage(project, name) == 0, name
    scores = metrics(project.root, "test")
    # More information beats a fancier model: the plane on two columns beats the line on one.
    assert scores["least_squares"]["mse"] < 0.8 * 46.145
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-2)
    model = np.load(project.root / "models/net/model.npz", allow_pickle=False)
    assert int(model["n_features_in"]) == 2 and model["k1"].shape[0] == 2


def prepared(project):
    for name in ("check_params", "load"):
        assert run_stage(project, name) == 0


def folder_bytes(folder):
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_gd_divergence_names_lr_and_the_step_and_keeps_old_outputs(project, capsys):
    prepared(project)
    assert run_stage(project, "fit@gd") == 0
    before = folder_bytes(project.root / "models/gd")
    project.set("lr", 10.0)
    assert run_stage(project, "fit@gd") == 1
    line = only_error_line(capsys)
    assert "params.yaml: lr = 10 makes the fit diverge: the loss" in line and "at step" in line
    assert line.endswith("on this data it must be below 1")  # standardised: both curvatures are 2
    assert folder_bytes(project.root / "models/gd") == before


def test_net_divergence_names_its_rate(project, capsys):
    prepared(project)
    project.set("net.learning_rate", 50.0)
    assert run_stage(project, "fit@net") == 1
    line = only_error_line(capsys)
    assert "net.learning_rate = 50 makes the fit diverge: the loss became non-finite at step" in line
    assert not (project.root / "models/net").exists()


def test_knn_with_more_neighbours_than_training_rows(project, capsys):
    prepared(project)
    project.set("knn.k", 405)
    assert run_stage(project, "fit@knn") == 1
    line = only_error_line(capsys)
    assert "params.yaml: knn.k = 405 does not suit knn on the training split (404 rows)" in line
    assert line.endswith("k must be between 1 and 404; lower knn.k")


def test_a_missing_split_tells_which_stage_to_run(project, capsys):
    assert run_stage(project, "fit@gd") == 1
    assert "data/prepared/train.csv: not found; run `dvc repro load` first" in only_error_line(capsys)


def test_from_the_command_line_an_error_is_one_line_and_exit_status_1(project):
    project.set("lr", -1)
    result = subprocess.run([sys.executable, "-m", "stages.check_params", "--params", project.path("params.yaml"),
                             "--models", str(ROOT / "models.yaml"), "--out", project.path("params.ok")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == "error: check_params: params.yaml: lr = -1 is not allowed: must be a finite number > 0\n" \
        .replace("params.yaml:", project.path("params.yaml") + ":")
    assert not (project.root / "params.ok").exists()


def test_check_params_names_a_missing_data_file(project, capsys):
    from stages import check_params

    project.set("data.csv", "nowhere.csv")
    assert check_params.main(["--params", project.path("params.yaml"), "--models", str(ROOT / "models.yaml"),
                              "--out", project.path("params.ok")]) == 1
    assert "data.csv = 'nowhere.csv': no such file; point it at your CSV" in only_error_line(capsys)
    assert not (project.root / "params.ok").exists()


def test_a_bug_still_shows_its_traceback(project, monkeypatch, capsys):
    from stages import check_params, cli

    def broken(*args, **kwargs):
        raise KeyError("a bug, not a user error")

    monkeypatch.setattr(check_params, "validate_whole", broken)
    with pytest.raises(KeyError):
        check_params.main(["--models", str(ROOT / "models.yaml"), "--out", project.path("params.ok")])


def test_progress_is_silent_off_a_terminal_and_one_bar_spans_every_phase_on_one(monkeypatch):
    import io

    from stages import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    steps = range(5)
    assert progress.StageProgress("fit@gd", io.StringIO()).phase("fit")(steps) is steps  # a pipe: untouched

    terminal = Terminal()
    bar = progress.StageProgress("fit@gd", terminal)
    assert list(bar.phase("fit")(steps)) == list(steps)
    assert terminal.getvalue() == ""  # a stage shorter than the delay shows no bar at all
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    for label in ("fit", "fold 1/2", "fold 2/2"):  # one bar, labelled with each phase in turn
        assert list(bar.phase(label)(steps)) == list(steps)
    assert "fit@gd" in terminal.getvalue()
    assert (bar.bar.n, bar.bar.postfix) == (15, "fold 2/2")  # every phase counted on one bar, the last named
    bar.close()
    assert bar.bar is None


def test_a_fold_that_diverges_names_the_rate_and_changes_no_output(project, capsys):
    # At this rate the raw line converges on the whole training split but not on every smaller fold.
    prepared(project)
    assert run_stage(project, "fit@gd") == 0
    outputs = {path: path.read_bytes() for folder in ("models", "metrics", "plots") for path in
               (project.root / folder).rglob("*") if path.is_file()}
    project.set("gd.standardize", False)
    project.set("lr", 0.0241)
    assert run_stage(project, "fit@gd") == 1
    line = only_error_line(capsys)
    assert "params.yaml: lr = 0.0241 fits the training split but gd diverges on a cross-validation fold" in line
    assert {path: path.read_bytes() for path in outputs} == outputs


def test_exact_data_is_fitted_and_evaluated_by_every_stage(project):
    """Issue 23: Y = 3·X1 − 2·X2 + 0.5·X3 + 7 (noise 1e-9): every fit succeeded, then evaluate refused gd's loss
    curve, whose loss from moments had dipped to −2.3e-13. Every stage runs; the line is found exactly."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).round(4)
    y = X @ np.array([3.0, -2.0, 0.5]) + 7.0 + 1e-9 * rng.normal(size=300)
    rows = "\n".join(",".join(f"{value:.12g}" for value in row) for row in np.column_stack([X, y]))
    project.write_csv_text("X1,X2,X3,Y\n" + rows + "\n")
    project.set("data.target", "Y").set("data.features", ["X1", "X2", "X3"])
    for name in pipeline_order():
        assert run_stage(project, name) == 0, name
    scores = metrics(project.root, "test")
    assert scores["least_squares"]["mse"] < 1e-15 and scores["gd"]["mse"] < 1e-12
    assert metrics(project.root, "fit")["gd"]["converged"] is True


def test_a_target_in_units_of_1e40_is_fitted_to_the_same_relative_accuracy(project):
    """Issue 23: MEDV × 1e-40 stopped "converged" at a coefficient 1e29 times too large (an absolute tol)."""
    lines = project.root.joinpath("data.csv").read_text().splitlines()
    scaled = [lines[0], lines[1]] + [",".join(line.split(",")[:-1] + [f"{float(line.split(',')[-1]) * 1e-40:.6g}"])
                                     for line in lines[2:]]
    project.write_csv_text("\n".join(scaled) + "\n")
    for name in pipeline_order():
        assert run_stage(project, name) == 0, name
    from tests.conftest import model_names

    scores = metrics(project.root, "test")
    assert scores["gd"]["mse"] == pytest.approx(scores["least_squares"]["mse"], rel=1e-6)
    assert metrics(project.root, "fit")["gd"]["converged"] is True
    assert set(scores) == set(model_names())


def test_a_refused_value_that_differs_from_head_gets_the_way_back(project, capsys):
    """Issue 23: `-S gd.standardize=yes` was refused without the "differs from git HEAD" hint: HEAD was read as
    YAML 1.1 (yes = true), so the two looked equal. Both are read in the one dialect now."""
    from tests.conftest import git

    git("init", "-q", cwd=project.root)
    git("add", "params.yaml", cwd=project.root)
    git("commit", "-qm", "params", cwd=project.root)
    path = project.root / "params.yaml"
    path.write_text(path.read_text().replace("standardize: true", "standardize: yes"))
    assert run_stage(project, "check_params") == 1
    line = only_error_line(capsys)
    assert "gd.standardize = 'yes' is not allowed: must be true or false" in line
    assert "(differs from git HEAD at gd.standardize: if a failed `dvc exp run -S` left it, restore it with " \
           "`python -m tools.restore`, or `git reset -q && touch" in line, line
