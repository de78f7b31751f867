"""Experiments on what the models see and how the net learns, through `dvc exp run -S`."""

import json

import numpy as np
import pytest

from tests.conftest import dvc, metrics, stages_run

pytestmark = pytest.mark.pipeline


def scores(repo):
    return metrics(repo, "test")


def test_more_columns_rerun_the_models_and_beat_one_column_with_the_numbers_docs_results_shows(pipeline_repo):
    from tests.test_results import configuration
    from tools.results import runs

    before = scores(pipeline_repo)
    _, overrides = runs.CONFIGURATIONS["rm_lstat"]  # data.features=[RM,LSTAT]: the run docs/results.md shows
    result = dvc("exp", "run", *[arg for item in overrides for arg in ("-S", item)], cwd=pipeline_repo)
    assert runs.read_metrics(pipeline_repo) == {kind: configuration("rm_lstat")[kind] for kind in runs.METRICS}
    # Every stage reads data.features; load reruns but its split holds every column, so its bytes and
    # everything keyed on them alone stay; the models and their scores move.
    assert {"eda", "evaluate", *(f"fit@{name}" for name in ("least_squares", "knn", "random_search", "gd", "net"))} \
        <= stages_run(result.stdout)
    after = scores(pipeline_repo)
    assert after["least_squares"]["mse"] < 0.75 * before["least_squares"]["mse"]
    assert after["gd"]["mse"] == pytest.approx(after["least_squares"]["mse"], rel=0.01)
    assert int(np.load(pipeline_repo / "models/net/model.npz", allow_pickle=False)["n_features_in"]) == 2


def test_autodiff_trains_the_same_net_and_lbfgs_trains_a_better_fit(pipeline_repo):
    manual = scores(pipeline_repo)["net"]
    model = (pipeline_repo / "models/net/model.npz").read_bytes()
    result = dvc("exp", "run", "-S", "net.gradients=autodiff", cwd=pipeline_repo)
    # The same gradient by another method trains the same net: its folder is byte-identical, so DVC
    # does not even rerun evaluate.
    assert stages_run(result.stdout) == {"check_params", "fit@net"}
    assert (pipeline_repo / "models/net/model.npz").read_bytes() == model
    assert scores(pipeline_repo)["net"] == manual

    train_mse = metrics(pipeline_repo, "fit")["net"]["train_mse"]
    dvc("exp", "run", "-S", "net.gradients=manual", "-S", "net.optimizer=lbfgs", cwd=pipeline_repo)
    lbfgs = metrics(pipeline_repo, "fit")["net"]["train_mse"]
    assert lbfgs < train_mse  # the same gradient, a better optimiser: a lower training loss
