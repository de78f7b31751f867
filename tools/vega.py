"""The DVC plot templates, written from the model registry, and their rendering to PNG.

    python -m tools.vega --write-templates     # after a model or a colour changes in fromzero/registry.py
    python -m tools.vega --check               # exit 1 if .dvc/plots/ differs from what the registry gives

`dvc plots`, VS Code and the PR report (tools/report.py) all draw the data-series
plots of dvc.yaml from these Vega-Lite templates, so the three cannot disagree:
the report renders the specs `dvc plots diff --json` fills in, through vl-convert,
with no browser and no network.

What DVC puts in the data (checked with `dvc plots show --json`): every row has
``rev`` (the revision); with several y columns of one file, the value is in
``dvc_inferred_y_value`` and ``field`` names the column; with y from several files,
``filename`` (shortened by the files' common folder, ``gd/loss.csv``) or, when the
fields differ too, ``filename::field``. A model is found from the column name
(predictions, response curves) or from its folder, ``plots/<model>/...`` (losses).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from fromzero.registry import MODEL_NAMES, MODELS
from stages.cli import StageError, stage_main

TEMPLATE_DIR = Path(".dvc/plots")
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
REFERENCE_DASH = [6, 3]


def anchor(name):
    return f"<DVC_METRIC_{name.upper()}>"


def _names(names):
    return "[" + ", ".join(f"'{name}'" for name in names) + "]"


def model_expression():
    """A Vega expression naming the model of a DVC data row (see the module docstring)."""
    source = "split(datum.filename || datum['filename::field'] || '', '/')"
    by_folder = "''"
    for name in reversed(MODEL_NAMES):
        by_folder = f"indexof({source}, '{name}') >= 0 ? '{name}' : {by_folder}"
    return f"indexof({_names(MODEL_NAMES)}, datum.field) >= 0 ? datum.field : {by_folder}"


def model_color(**extra):
    """Colour by model: the registry's colours, the registry's order."""
    return {"field": "model", "type": "nominal", "title": "model",
            "scale": {"domain": list(MODEL_NAMES), "range": [MODELS[name].color for name in MODEL_NAMES]},
            **extra}


def is_reference(negate=False):
    test = f"indexof({_names(name for name in MODEL_NAMES if MODELS[name].reference)}, datum.model)"
    return f"{test} {'<' if negate else '>='} 0"


def _header(subtitle):
    return {
        "$schema": SCHEMA,
        "data": {"values": anchor("data")},
        "title": {"text": anchor("title"), "anchor": "middle", "subtitle": subtitle},
        "transform": [{"calculate": model_expression(), "as": "model"}],
    }


def _axis(field, title, **scale):
    return {"field": field, "type": "quantitative", "title": title, "scale": {"zero": False, **scale}}


def loss_template():
    """Training loss per model, log y: one panel per model in its colour, revisions by line style."""
    return {
        **_header("log scale; one panel per model; line style: revision"),
        "facet": {"column": {"field": "model", "type": "nominal", "sort": list(MODEL_NAMES), "title": None}},
        "resolve": {"scale": {"x": "independent", "y": "independent"}},
        "spec": {
            "width": 220, "height": 200,
            "mark": {"type": "line", "strokeWidth": 2, "tooltip": {"content": "data"}},
            "encoding": {
                "x": _axis(anchor("x"), anchor("x_label")),
                "y": _axis(anchor("y"), anchor("y_label"), type="log"),
                "color": model_color(legend=None),
                "strokeDash": {"field": "rev", "type": "nominal", "title": "revision"},
            },
        },
    }


def predicted_vs_actual_template():
    """One panel per model in its colour, the y = x line in each, revisions by marker shape."""
    x, x_label, y_label = anchor("x"), anchor("x_label"), anchor("y_label")
    return {
        **_header("dashed: y = x, where a perfect model's points lie; shape: revision (one inside the other: unchanged)"),
        "facet": {"field": "model", "type": "nominal", "sort": list(MODEL_NAMES), "title": None},
        "columns": 3,
        "spec": {
            "width": 200, "height": 200,
            "layer": [
                {
                    "mark": {"type": "point", "filled": False, "size": 30, "strokeWidth": 1.2, "opacity": 0.7,
                             "tooltip": {"content": "data"}},
                    "encoding": {
                        "x": _axis(x, x_label),
                        "y": _axis(anchor("y"), y_label),
                        "color": model_color(legend=None),
                        "shape": {"field": "rev", "type": "nominal", "title": "revision"},
                    },
                },
                {   # y = x over the data's range: the line through the points (actual, actual)
                    "mark": {"type": "line", "color": "#555555", "strokeDash": [4, 4], "strokeWidth": 1},
                    "encoding": {"x": _axis(x, x_label), "y": _axis(x, y_label)},
                },
            ],
        },
    }


def response_template():
    """Each model's curve along each feature; reference models dashed and drawn last, on top."""
    def layer(test, **mark):
        return {"transform": [{"filter": test}],
                "mark": {"type": "line", "strokeWidth": 2.5, "tooltip": {"content": "data"}, **mark},
                "encoding": {"x": _axis(anchor("x"), anchor("x_label")),
                             "y": _axis(anchor("y"), anchor("y_label")),
                             "color": model_color()}}

    references = ", ".join(name for name in MODEL_NAMES if MODELS[name].reference)
    return {
        **_header(f"dashed, drawn on top: the references ({references}); a model lying under one "
                  "shows in the gaps"),
        "facet": {"column": {"field": "feature", "type": "nominal", "title": None},
                  "row": {"field": "rev", "type": "nominal", "title": None}},
        "resolve": {"scale": {"x": "independent"}},
        "spec": {
            "width": 300, "height": 220,
            "layer": [layer(is_reference(negate=True)), layer(is_reference(), strokeDash=REFERENCE_DASH)],
        },
    }


def templates():
    """{file name under .dvc/plots: template}."""
    return {
        "loss_log.json": loss_template(),
        "predicted_vs_actual.json": predicted_vs_actual_template(),
        "response.json": response_template(),
    }


def template_text(template):
    return json.dumps(template, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_templates(folder=TEMPLATE_DIR):
    folder.mkdir(parents=True, exist_ok=True)
    for name, template in templates().items():
        (folder / name).write_text(template_text(template), encoding="utf-8")
    return sorted(templates())


def stale_templates(folder=TEMPLATE_DIR):
    """Template files that differ from what the registry gives now."""
    return [name for name, template in templates().items()
            if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != template_text(template)]


# ---- rendering what DVC renders --------------------------------------------------------------

def dvc_plot_specs(*revisions):
    """{title: filled Vega-Lite spec} of `dvc plots diff REVISIONS --json` (the data-series plots)."""
    command = [sys.executable, "-m", "dvc", "plots", "diff", *revisions, "--json"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
        raise StageError(f"`dvc plots diff {' '.join(revisions)} --json` failed: {last}")
    plots = json.loads(result.stdout or "{}").get("data", {})
    return {title: entry["content"] for title, entries in plots.items()
            for entry in entries if entry.get("type") == "vega"}


def data_by_revision(spec):
    """{rev: the spec's data rows of that revision, without the rev}."""
    rows = {}
    for row in spec.get("data", {}).get("values", []):
        rows.setdefault(row.get("rev"), []).append({key: value for key, value in row.items() if key != "rev"})
    return rows


def data_changed(spec):
    """Whether a plot's data differ between its revisions (a plot only one revision has did change)."""
    revisions = list(data_by_revision(spec).values())
    return len(revisions) != 2 or revisions[0] != revisions[1]


def relabel(value, names):
    """``value`` with every string equal to a key of ``names`` replaced by its value."""
    if isinstance(value, dict):
        return {key: relabel(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [relabel(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


def render_png(spec, path, scale=2.0):
    import vl_convert

    Path(path).write_bytes(vl_convert.vegalite_to_png(spec, scale=scale))
    return path


def slug(text):
    return "".join(char if char.isalnum() else "_" for char in text.lower()).strip("_")


def render_changed(revision, out_dir, base_label="base"):
    """PNGs of the dvc.yaml plots whose data changed against ``revision``, as DVC draws them: {title: png name}."""
    rendered = {}
    for title, spec in dvc_plot_specs(revision).items():
        if not data_changed(spec):
            continue
        spec = relabel(spec, {revision: base_label, "workspace": "this change"})
        name = f"plot_{slug(title)}.png"
        render_png(spec, Path(out_dir) / name)
        rendered[title] = name
    return rendered


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write-templates", action="store_true", help=f"write the templates into {TEMPLATE_DIR}")
    action.add_argument("--check", action="store_true", help="exit 1 if a template differs from the registry's")
    args = parser.parse_args(argv)
    if args.write_templates:
        for name in write_templates():
            print(f"wrote {TEMPLATE_DIR / name}")
        return 0
    stale = stale_templates()
    for name in stale:
        print(f"{TEMPLATE_DIR / name}: differs from the registry; run `python -m tools.vega --write-templates`",
              file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
