"""Drawing dvc.yaml's data plots as DVC draws them, without a browser: for the PR report.

The templates are plots/templates/ (written by the `plot_templates` stage from models.yaml and
stages/style.py). `dvc plots diff --json` fills them with each revision's data; vl-convert renders
the filled specs to PNG, offline. So the report shows what `dvc plots` and VS Code show.
DVC runs through project/commands.py.
"""

from pathlib import Path

from project.commands import dvc_json


# ---- rendering what DVC renders --------------------------------------------------------------

def dvc_plot_specs(*revisions):
    """{title: filled Vega-Lite spec} of `dvc plots diff REVISIONS --json` (the data-series plots).

    The report passes commits (SHAs), never a branch's name: DVC writes each revision's name into the
    data it fills in, and a name is whatever its author chose (issue 23 #1)."""
    plots = dvc_json("plots", "diff", *revisions).get("data", {})
    return {title: entry["content"] for title, entries in plots.items()
            for entry in entries if isinstance(entry, dict) and entry.get("type") == "vega"}


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
