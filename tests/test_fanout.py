"""The DAG tells the truth about the fan-out: a model is its class and one entry in models.yaml.

Pipeline tier: each test works on a private copy of the committed, reproduced project (git and
DVC cache included) and asks DVC itself what runs.
"""

import json
import re
import sys

import pytest

from tests.conftest import ROOT, dvc, git, metrics, run, stages_run

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


def recipe():
    """The README's "Adding a model": (path, the class's source) and the models.yaml entry, as printed there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Adding a model", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)
    (source,) = [text for language, text in blocks if language == "python"]
    (entry,) = [text for language, text in blocks if language == "yaml"]
    path = source.splitlines()[0].lstrip("# ").strip()
    return path, source, entry


def test_the_readmes_recipe_adds_a_model_everywhere(pipeline_repo):
    """Follow "Adding a model" as printed: the class file, the entry in models.yaml, `dvc repro`."""
    path, source, entry = recipe()
    assert path.startswith("fromzero/") and path.endswith(".py")
    lines = len(source.splitlines()) + len(entry.splitlines())
    assert f"takes 2 files and {lines} lines ({len(source.splitlines())} of them its class)" in \
        " ".join((ROOT / "README.md").read_text().split()), "the README's count of the recipe's lines"
    (pipeline_repo / path).write_text(source)
    models = pipeline_repo / "models.yaml"
    models.write_text(models.read_text().rstrip("\n") + "\n" + entry)
    name = entry.split(":")[0].strip()
    git("add", "-A", cwd=pipeline_repo)
    git("commit", "-qm", f"add {name}", cwd=pipeline_repo)

    result = dvc("repro", cwd=pipeline_repo)
    # The new model is fitted; nothing already fitted refits (the library folder changed: the fits that
    # depend on it rerun, and come out byte-identical, so evaluate alone follows them).
    assert f"fit@{name}" in stages_run(result.stdout)
    assert name in metrics(pipeline_repo, "test_mse")
    assert name in metrics(pipeline_repo, "test") and name in metrics(pipeline_repo, "cv")
    assert name in metrics(pipeline_repo, "fit")
    for plot in ("predictions.csv", "response.csv"):
        rows = (pipeline_repo / "plots/evaluate" / plot).read_text().splitlines()
        assert any(line.startswith(f"{name},") for line in rows), plot
    assert f'"{name}"' in (pipeline_repo / "plots/templates/predicted_vs_actual.json").read_text()

    git("add", "-A", cwd=pipeline_repo)
    git("commit", "-qm", f"{name} fitted", cwd=pipeline_repo)
    shown = json.loads(dvc("exp", "show", "--json", cwd=pipeline_repo).stdout)
    assert name in shown[0]["data"]["metrics"]["metrics/test_mse.json"]["data"]["mse"]

    report = run([sys.executable, "-m", "tools.report", "--base", "HEAD~2", "--out", "report/report.md"],
                 cwd=pipeline_repo, check=False)
    assert report.returncode == 0, report.stderr
    assert name in (pipeline_repo / "report/report.md").read_text()
