"""The plots as DVC draws them: templates from models.yaml and stages/style.py, log losses, y = x, model colours.

Colours and line widths are checked in the scene vl-convert renders from the spec
`dvc plots show --json` gives, so the templates' expressions are exercised, not only read.
"""

import json
from collections import defaultdict

import pytest
import yaml

from project.models import read_models
from stages.plot_templates import Templates, template_text
from stages.style import MODEL_COLORS, model_colors
from tests.conftest import ROOT, dvc, model_names

LOSS = "Training loss (log scale)"
PREDICTED = "Predicted vs actual (test split)"
RESPONSE = "Every model along each feature (others at their median)"
CORRELATION = "Correlation with the target"


def plot_definitions():
    with open(ROOT / "dvc.yaml", encoding="utf-8") as handle:
        return {title: spec for entry in yaml.safe_load(handle)["plots"] if isinstance(entry, dict)
                for title, spec in entry.items()}


def yardsticks():
    """models.yaml's baseline and reference: the models the plots draw as wide pale bands."""
    registry = read_models(ROOT / "models.yaml")
    return [name for name in (registry.baseline, registry.reference) if name is not None]


def test_the_committed_templates_are_the_stages_and_no_plot_names_a_model():
    templates = Templates(model_names(), yardsticks()).all()
    for name, template in templates.items():
        assert (ROOT / "plots/templates" / name).read_text(encoding="utf-8") == template_text(template), \
            f"plots/templates/{name}: run `dvc repro plot_templates`"
    for title, spec in plot_definitions().items():
        assert spec["template"].startswith("plots/templates/") and spec["template"][len("plots/templates/"):] \
            in templates, title
        for file, columns in spec["y"].items():
            assert not set([columns] if isinstance(columns, str) else columns) & set(model_names()), title


def test_a_model_without_a_colour_takes_a_spare_one():
    colors = model_colors([*model_names(), "extra_one", "extra_two"])  # two models no colour is set for
    assert colors["extra_one"] != colors["extra_two"]
    assert not {colors["extra_one"], colors["extra_two"]} & set(MODEL_COLORS.values())
    named = [name for name in model_names() if name in MODEL_COLORS]
    assert [colors[name] for name in named] == [MODEL_COLORS[name] for name in named]
    assert len(set(colors.values())) == len(colors)  # every model its own colour


def line_and_symbol_styles(spec):
    """{(mark type, colour, stroke width): count} of the data marks vl-convert draws for a spec."""
    import vl_convert

    styles = defaultdict(int)

    def walk(node):
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if node.get("marktype") in ("line", "symbol", "rect") and node.get("role") == "mark":
                for item in node.get("items", []):
                    color = item.get("stroke") if item.get("stroke") not in (None, "transparent") else item.get("fill")
                    styles[(node["marktype"], color, item.get("strokeWidth"))] += 1
            for child in node.values():
                walk(child)

    walk(vl_convert.vegalite_to_scenegraph(spec))
    return styles


@pytest.mark.pipeline
def test_dvc_draws_log_losses_the_diagonal_the_model_colours_and_the_yardsticks_under_the_models(pipeline_repo):
    repo = pipeline_repo
    shown = json.loads(dvc("plots", "show", "--json", cwd=repo).stdout)
    specs = {title: entries[0]["content"] for title, entries in shown["data"].items()
             if entries[0]["type"] == "vega"}
    colors = model_colors(model_names())

    loss = specs[LOSS]
    assert loss["spec"]["encoding"]["y"]["scale"]["type"] == "log"
    drawn = {color for (mark, color, _) in line_and_symbol_styles(loss) if mark == "line"}
    assert drawn == {colors["gd"], colors["net"], colors["random_search"]}
    panels = {row["model"] + ", by " + row["unit"] for row in loss["data"]["values"]}
    assert panels == {"gd, by step", "net, by step", "random_search, by trial"}  # each panel says what x counts

    predicted = specs[PREDICTED]
    diagonal = [layer for layer in predicted["spec"]["layer"] if layer["mark"]["type"] == "line"]
    assert [(layer["encoding"]["x"]["field"], layer["encoding"]["y"]["field"]) for layer in diagonal] == \
        [("actual", "actual")], "the y = x line"
    assert predicted["resolve"]["scale"]["y"] == "independent"  # random search's range flattens no one else
    points = {color for (mark, color, _) in line_and_symbol_styles(predicted) if mark == "symbol"}
    assert points == set(colors.values())

    lines = {(color, width) for (mark, color, width) in line_and_symbol_styles(specs[RESPONSE]) if mark == "line"}
    assert {color for color, _ in lines} == set(colors.values())
    wide = {color for color, width in lines if width and width > 2}
    assert wide == {colors[name] for name in yardsticks()}  # the yardsticks: wide bands, drawn first

    bars = specs[CORRELATION]
    strongest = max(bars["data"]["values"], key=lambda row: abs(float(row["correlation"])))
    assert bars["encoding"]["y"]["sort"] == {"field": "strength", "op": "max", "order": "descending"}
    assert strongest["feature"] == "LSTAT"  # the strongest, first, though its r is negative
    assert {color for (mark, color, _) in line_and_symbol_styles(bars) if mark == "rect"} <= \
        {"#4c72b0", "#c44e52"}  # sign colours, never a model's


@pytest.mark.pipeline
def test_report_renders_only_the_plots_whose_data_changed(pipeline_repo, tmp_path, monkeypatch):
    from tools import vega

    predictions = pipeline_repo / "plots" / "evaluate" / "predictions.csv"
    header, first, *rest = predictions.read_text().splitlines()
    cells = first.split(",")
    cells[header.split(",").index("predicted")] = "99.0"
    predictions.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    monkeypatch.chdir(pipeline_repo)

    rendered = vega.render_changed("HEAD", tmp_path)

    assert list(rendered) == [PREDICTED]
    assert (tmp_path / rendered[PREDICTED]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
