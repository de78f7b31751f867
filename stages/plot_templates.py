"""Stage `plot_templates`: the Vega-Lite templates DVC draws the data plots with, from models.yaml and stages/style.py.

    python -m stages.plot_templates --models models.yaml --out plots/templates

`dvc plots show` / `diff`, VS Code and the PR report (tools/report.py renders the specs DVC fills in)
all draw dvc.yaml's plots through these templates, so they cannot disagree. They are a stage because
they follow the list of models (one colour each, in its order): adding a model or changing a colour
reruns this stage and nothing else.

What DVC puts in the data (see `dvc plots show --json`): every row of the CSV, with ``rev`` (the
revision) added. The CSVs are long: one row per model and point, with a ``model`` column, so a
template finds the model in the data and no plot definition names one.
"""

import json

from stages.cli import path_option, stage_main, stage_parser
from project.files import write_text
from project.models import read_models
from stages.style import model_colors

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
SIGN_COLORS = {"positive": "#4c72b0", "negative": "#c44e52"}  # correlation bars: no model colour


def anchor(name):
    return f"<DVC_METRIC_{name.upper()}>"


def _axis(field, title, **scale):
    return {"field": field, "type": "quantitative", "title": title, "scale": {"zero": False, **scale}}


def _revision(channel_title="revision"):
    """Revisions are told apart by line style or marker shape, never by colour (colour is the model's)."""
    return {"field": "rev", "type": "nominal", "title": channel_title}


class Templates:
    """The templates for the models ``names`` (models.yaml's order); ``yardsticks``: its baseline and reference."""

    def __init__(self, names, yardsticks=()):
        self.names = list(names)
        self.yardsticks = [name for name in yardsticks if name in self.names]
        self.colors = model_colors(self.names)

    def order(self):
        """A transform giving each row its model's place in models.yaml, to sort panels by."""
        return {"calculate": f"indexof({json.dumps(self.names)}, datum.model)", "as": "order"}

    def color(self, **extra):
        return {"field": "model", "type": "nominal", "title": "model",
                "scale": {"domain": self.names, "range": [self.colors[name] for name in self.names]}, **extra}

    def header(self, subtitle, *transforms):
        return {"$schema": SCHEMA, "data": {"values": anchor("data")},
                "title": {"text": anchor("title"), "anchor": "middle", "subtitle": subtitle},
                "transform": [self.order(), *transforms]}

    def loss(self):
        """Training loss per model, log y: one panel per model (titled with what its x counts), revisions by dash."""
        panel = {"calculate": "datum.model + ', by ' + datum.unit", "as": "panel"}
        return {
            **self.header("log scale; one panel per model, each with its own scales; line style: revision", panel),
            "facet": {"column": {"field": "panel", "type": "nominal", "title": None,
                                 "sort": {"field": "order", "op": "min"}}},
            "resolve": {"scale": {"x": "independent", "y": "independent"}},
            "spec": {
                "width": 220, "height": 200,
                "mark": {"type": "line", "strokeWidth": 2, "tooltip": {"content": "data"}},
                "encoding": {
                    "x": _axis(anchor("x"), anchor("x_label")),
                    "y": _axis(anchor("y"), anchor("y_label"), type="log"),
                    "color": self.color(legend=None),
                    "strokeDash": _revision(),
                },
            },
        }

    def predicted_vs_actual(self):
        """One panel per model in its colour, each with its own y scale, the y = x line in each, revisions by shape."""
        x, x_label, y_label = anchor("x"), anchor("x_label"), anchor("y_label")
        return {
            **self.header("one panel per model, each with its own y scale; dashed: y = x, where a perfect model's "
                          "points lie; marker: revision"),
            "facet": {"field": "model", "type": "nominal", "title": None, "sort": {"field": "order", "op": "min"}},
            "columns": 3,
            "resolve": {"scale": {"y": "independent"}},
            "spec": {
                "width": 200, "height": 200,
                "layer": [
                    {   # y = x over the data's range, under the points: the line through (actual, actual)
                        "mark": {"type": "line", "color": "#555555", "strokeDash": [4, 4], "strokeWidth": 1},
                        "encoding": {"x": _axis(x, x_label), "y": _axis(x, y_label)},
                    },
                    {
                        "mark": {"type": "point", "filled": False, "size": 30, "strokeWidth": 1.2, "opacity": 0.7,
                                 "tooltip": {"content": "data"}},
                        "encoding": {"x": _axis(x, x_label), "y": _axis(anchor("y"), y_label),
                                     "color": self.color(legend=None), "shape": _revision()},
                    },
                ],
            },
        }

    def response(self):
        """Each model's curve along each feature; the yardsticks as wide pale bands under the models."""
        references = self.yardsticks

        def layer(test, **mark):
            return {"transform": [{"filter": test}],
                    "mark": {"type": "line", "tooltip": {"content": "data"}, **mark},
                    "encoding": {"x": _axis(anchor("x"), anchor("x_label")),
                                 "y": _axis(anchor("y"), anchor("y_label")),
                                 "color": self.color()}}

        is_reference = f"indexof({json.dumps(references)}, datum.model) >= 0"
        return {
            **self.header(f"wide pale bands: the yardsticks ({', '.join(references)}); a model that coincides "
                          "with one shows as a line inside its band; one row per revision"),
            "facet": {"column": {"field": "feature", "type": "nominal", "title": None},
                      "row": _revision(None)},
            "resolve": {"scale": {"x": "independent"}},
            "spec": {
                "width": 300, "height": 220,
                "layer": [layer(is_reference, strokeWidth=8, opacity=0.35, strokeCap="round"),
                          layer(f"!({is_reference})", strokeWidth=2)],
            },
        }

    def correlation(self):
        """Each feature's correlation with the target as a bar, strongest |r| on top, coloured by sign."""
        return {
            "$schema": SCHEMA, "data": {"values": anchor("data")},
            "title": {"text": anchor("title"), "anchor": "middle",
                      "subtitle": "strongest first (by |r|); colour: sign; one bar per revision"},
            "transform": [{"calculate": f"abs(datum[{json.dumps(anchor('x'))}])", "as": "strength"},
                          {"calculate": f"datum[{json.dumps(anchor('x'))}] >= 0 ? 'positive' : 'negative'",
                           "as": "sign"}],
            "width": 420, "height": {"step": 14},
            "mark": {"type": "bar", "tooltip": {"content": "data"}},
            "encoding": {
                "y": {"field": anchor("y"), "type": "nominal", "title": anchor("y_label"),
                      "sort": {"field": "strength", "op": "max", "order": "descending"}},
                "yOffset": _revision(),
                "x": {"field": anchor("x"), "type": "quantitative", "title": anchor("x_label"),
                      "scale": {"domain": [-1, 1]}},
                "color": {"field": "sign", "type": "nominal", "title": "sign",
                          "scale": {"domain": list(SIGN_COLORS), "range": list(SIGN_COLORS.values())}},
                "opacity": {"field": "rev", "type": "nominal", "title": "revision", "scale": {"range": [1, 0.45]}},
            },
        }

    def pieces(self):
        """A model that is a sum of pieces (the net): each piece a thin line, their sum (+ the constant) thick and
        dark, along the feature the pieces vary most; one panel per model and revision."""
        is_sum = "datum.piece == 'sum + constant'"

        def layer(test, **mark):
            return {"transform": [{"filter": test}],
                    "mark": {"type": "line", "tooltip": {"content": "data"}, **mark},
                    "encoding": {"x": _axis(anchor("x"), anchor("x_label")),
                                 "y": _axis(anchor("y"), anchor("y_label")),
                                 "detail": {"field": "piece", "type": "nominal"}}}

        return {
            **self.header("thin lines: each piece k2·σ(k1·x + b1); thick: their sum plus the constant, the "
                          "prediction; one row per revision"),
            "facet": {"column": {"field": "model", "type": "nominal", "title": None,
                                 "sort": {"field": "order", "op": "min"}},
                      "row": _revision(None)},
            "resolve": {"scale": {"y": "independent"}},
            "spec": {
                "width": 360, "height": 240,
                "layer": [layer(f"!({is_sum})", strokeWidth=1.5, color="#8c8c8c", opacity=0.9),
                          layer(is_sum, strokeWidth=3, color="#222222")],
            },
        }

    def all(self):
        """{file name: template}."""
        return {"loss.json": self.loss(), "predicted_vs_actual.json": self.predicted_vs_actual(),
                "response.json": self.response(), "correlation.json": self.correlation(),
                "pieces.json": self.pieces()}


def template_text(template):
    return json.dumps(template, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@stage_main
def main(argv=None):
    parser = stage_parser(__doc__, [])
    path_option(parser, "models", "the list of models (models.yaml): their names and order")
    path_option(parser, "out", "the folder the templates are written to")
    args = parser.parse_args(argv)
    registry = read_models(args.models)
    for name, template in Templates(registry.entries, (registry.baseline, registry.reference)).all().items():
        write_text(args.out / name, template_text(template))


if __name__ == "__main__":
    raise SystemExit(main())
