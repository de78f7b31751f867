"""The plots as DVC draws them: templates written from the registry, log losses, y = x, model colours.

Colours and dashes are checked in the scene vl-convert renders from the spec
`dvc plots show --json` gives, so the model-naming expressions in the templates
are exercised, not only read.
"""

import json
from collections import defaultdict

import pytest
import yaml

from fromzero.registry import MODEL_NAMES, MODELS
from tests.conftest import ROOT, dvc
from tools import vega

LOSS = "Training loss (log scale)"
PREDICTED = "Predicted vs actual (test split)"
RESPONSE = "Every model along each feature (others at their median)"
COLORS = {name: spec.color for name, spec in MODELS.items()}


def plot_definitions():
    with open(ROOT / "dvc.yaml", encoding="utf-8") as handle:
        return {title: spec for entry in yaml.safe_load(handle)["plots"] if isinstance(entry, dict)
                for title, spec in entry.items()}


def test_templates_are_written_from_the_registry():
    assert vega.stale_templates(ROOT / ".dvc" / "plots") == [], "run `python -m tools.vega --write-templates`"
    definitions = plot_definitions()
    custom = {spec["template"] + ".json" for spec in definitions.values()} - {"bar_horizontal_sorted.json"}
    assert custom <= set(vega.templates())
    for title in (PREDICTED, RESPONSE):
        (columns,) = definitions[title]["y"].values()
        assert columns == list(MODEL_NAMES), f"{title}: one y column per registry model, in its order"


def line_and_symbol_styles(spec):
    """{(mark type, colour, dash)} of the data marks vl-convert draws for a spec."""
    import vl_convert

    styles = defaultdict(int)

    def walk(node):
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if node.get("marktype") in ("line", "symbol") and node.get("role") == "mark":
                for item in node.get("items", []):
                    color = item.get("stroke") if item.get("stroke") not in (None, "transparent") else item.get("fill")
                    dash = item.get("strokeDash")
                    styles[(node["marktype"], color, tuple(dash) if dash and dash != [1, 0] else None)] += 1
            for child in node.values():
                walk(child)

    walk(vl_convert.vegalite_to_scenegraph(spec))
    return styles


@pytest.mark.pipeline
def test_dvc_draws_log_losses_the_diagonal_and_the_model_colours(baseline_repo):
    repo, _ = baseline_repo
    shown = json.loads(dvc("plots", "show", "--json", cwd=repo).stdout)
    specs = {title: entries[0]["content"] for title, entries in shown["data"].items()
             if entries[0]["type"] == "vega"}

    loss = specs[LOSS]
    assert loss["spec"]["encoding"]["y"]["scale"]["type"] == "log"
    colors = {color for (mark, color, _) in line_and_symbol_styles(loss) if mark == "line"}
    assert colors == {COLORS["gd"], COLORS["net"], COLORS["random_search"]}

    predicted = specs[PREDICTED]
    x_field = predicted["spec"]["layer"][0]["encoding"]["x"]["field"]
    assert x_field == "actual"
    diagonal = [layer for layer in predicted["spec"]["layer"] if layer["mark"]["type"] == "line"]
    assert [(layer["encoding"]["x"]["field"], layer["encoding"]["y"]["field"]) for layer in diagonal] == \
        [("actual", "actual")], "the y = x line"
    points = {color for (mark, color, _) in line_and_symbol_styles(predicted) if mark == "symbol"}
    assert points == set(COLORS.values())

    styles = line_and_symbol_styles(specs[RESPONSE])
    drawn = {(color, dash) for (mark, color, dash) in styles if mark == "line"}
    assert {color for color, _ in drawn} == set(COLORS.values())
    dashed = {color for color, dash in drawn if dash}
    assert dashed == {COLORS[name] for name in MODEL_NAMES if MODELS[name].reference}


@pytest.mark.pipeline
def test_report_renders_only_the_plots_whose_data_changed(pipeline_repo, tmp_path, monkeypatch):
    predictions = pipeline_repo / "plots" / "evaluate" / "predictions.csv"
    header, first, *rest = predictions.read_text().splitlines()
    cells = first.split(",")
    cells[header.split(",").index("knn")] = "99.0"
    predictions.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    monkeypatch.chdir(pipeline_repo)

    rendered = vega.render_changed("HEAD", tmp_path)

    assert list(rendered) == [PREDICTED]
    assert (tmp_path / rendered[PREDICTED]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
