"""The DAG tells the truth about the fan-out: a model is its class and one entry in models.yaml.

Pipeline tier: each test works on a private copy of the committed, reproduced project (git and
DVC cache included) and asks DVC itself what runs.
"""

import json

import pytest

from tests.conftest import dvc, stages_run

pytestmark = pytest.mark.pipeline


def changed_stages(repo):
    """The stages `dvc status` calls changed."""
    status = json.loads(dvc("status", "--json", cwd=repo).stdout or "{}")
    return set(status)


def test_a_colour_change_reruns_only_the_plot_templates(pipeline_repo):
    style = pipeline_repo / "stages" / "style.py"
    style.write_text(style.read_text().replace('"net": "#e7298a"', '"net": "#ff00ff"'))
    assert changed_stages(pipeline_repo) == {"plot_templates"}
    assert stages_run(dvc("repro", cwd=pipeline_repo).stdout) == {"plot_templates"}
    assert "#ff00ff" in (pipeline_repo / "plots/templates/loss.json").read_text()


def test_a_gate_change_reruns_only_check_params(pipeline_repo):
    result = dvc("exp", "run", "-S", "gates.regression_tolerance=0.05", cwd=pipeline_repo)  # the report reads it
    assert stages_run(result.stdout) == {"check_params"}
    params = pipeline_repo / "params.yaml"
    params.write_text(params.read_text().replace("exempt: []", "exempt: [random_search]"))
    assert changed_stages(pipeline_repo) == {"check_params"}


def test_a_models_setting_reruns_its_fit_and_evaluate_only(pipeline_repo):
    result = dvc("exp", "run", "-S", "knn.k=5", cwd=pipeline_repo)
    assert stages_run(result.stdout) == {"check_params", "fit@knn", "evaluate"}
    result = dvc("exp", "run", "-S", "net.steps=500", cwd=pipeline_repo)
    assert stages_run(result.stdout) == {"check_params", "fit@net", "evaluate"}


@pytest.mark.parametrize("path, stages", [
    # check_params holds params.yaml to every class's declared settings, so it reads every model's module.
    ("fromzero/neighbors.py", {"check_params", "fit@knn", "evaluate"}),
    ("fromzero/sigmoid_net.py", {"check_params", "fit@net", "evaluate"}),
    ("stages/figures.py", {"eda"}),  # the pictures: eda's alone (the net's pieces are plot data DVC draws)
])
def test_a_comment_in_one_module_reruns_only_what_reads_it(pipeline_repo, path, stages):
    module = pipeline_repo / path
    module.write_text(module.read_text() + "\n# a comment\n")
    assert changed_stages(pipeline_repo) == stages
