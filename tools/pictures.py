"""The report's PNG pictures: the leaderboard, the residuals, and each dvc.yaml plot whose data changed.

matplotlib draws the leaderboard and the residuals; vl-convert draws each dvc.yaml plot whose data
changed, as `dvc plots` draws it, in a child process: if it dies (its V8 engine cannot reserve its
address space under `ulimit -v`, say) the plot is marked as not rendered. A picture that cannot be
drawn is its problem, said in the report, never the report's failure. tools/pictures_folder.py
writes them beside the report.
"""

import json
import math
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from project.commands import file_at, git, run
from project.errors import UserError
from project.yamlfile import read_yaml
from tools.markdown import fixed, one_line, percent

RENDER_TIMEOUT = 300  # seconds for vl-convert to draw every changed plot


# ---- drawing them ----------------------------------------------------------------------------

def draw_leaderboard(rows, colors, confidence=0.95):
    """Each model's test RMSE as a bar in its colour, best at the top: its bootstrap interval, the base's value."""
    from stages.figures import new_figure

    rows = sorted(rows, key=lambda row: row["rmse"], reverse=True)  # best at the top
    figure, axes = new_figure(figsize=(7.0, 1.2 + 0.4 * len(rows)))
    names = [row["model"] for row in rows]
    axes.barh(names, [row["rmse"] for row in rows], color=[colors[name] for name in names])
    # The bootstrap interval of the MSE, as RMSE (a percentile interval survives the square root).
    spans = [(i, row) for i, row in enumerate(rows) if row["mse_low"] is not None and row["mse_high"] is not None]
    if spans:
        axes.errorbar([row["rmse"] for _, row in spans], [i for i, _ in spans], fmt="none", ecolor="#444444",
                      capsize=3, linewidth=1,
                      xerr=[[max(0.0, row["rmse"] - math.sqrt(row["mse_low"])) for _, row in spans],
                            [max(0.0, math.sqrt(row["mse_high"]) - row["rmse"]) for _, row in spans]])
    bases = [(i, row["base_rmse"]) for i, row in enumerate(rows) if row["base_rmse"] is not None]
    if bases:
        axes.scatter([b for _, b in bases], [i for i, _ in bases], marker="|", s=400, color="black", zorder=3)
    for i, row in enumerate(rows):  # the value beyond the whisker, so neither hides the other
        end = max(row["rmse"], math.sqrt(row["mse_high"])) if row["mse_high"] is not None else row["rmse"]
        axes.text(end, i, f" {fixed(row['rmse'])}", va="center", fontsize=9)
    axes.set_xlabel("test RMSE (lower is better)"
                    + (f"; whiskers: {percent(confidence)} bootstrap interval" if spans else ""))
    axes.set_title("Leaderboard" + (" (black tick: the base)" if bases else ""))
    axes.grid(axis="y", visible=False)
    return figure


def draw_residuals(predictions, colors, columns=3):
    """Each model's residuals against its prediction, one panel per model (any number of models);
    ``predictions``: tools/readings.Predictions."""
    import numpy as np

    from stages.figures import new_figure

    models = [name for name in colors if name in predictions.models]
    ncols = max(1, min(columns, len(models)))
    nrows = max(1, math.ceil(len(models) / ncols))
    # Residuals share a scale; predictions do not (the baseline's is one value).
    figure, grid = new_figure(nrows=nrows, ncols=ncols, sharey=True, squeeze=False,
                              figsize=(3.4 * ncols, 0.4 + 2.6 * nrows))
    panels = list(np.ravel(grid))
    for axes, model in zip(panels, models):
        residual = predictions.actual - predictions.models[model]
        axes.scatter(predictions.models[model], residual, s=10, alpha=0.6, color=colors[model], edgecolor="none")
        axes.axhline(0.0, color="black", linewidth=0.8)
        axes.set_title(f"{model} (mean {fixed(float(np.nanmean(residual)), 2, '+')})", fontsize=10)
        axes.set_xlabel("predicted")
    for axes in panels[len(models):]:
        axes.set_visible(False)
    for axes in grid[:, 0]:
        axes.set_ylabel("actual − predicted")
    figure.suptitle("Residuals on the test split")
    return figure


@dataclass
class Picture:
    """One picture of the report: its title, the PNG files it has in the pictures folder, or why none."""
    title: str
    files: list = field(default_factory=list)
    problem: str = None


def picture_count(pictures):
    """How many pictures were drawn, in PNG files too: the one count the report and its command line give."""
    drawn, files = sum(bool(picture.files) for picture in pictures), sum(len(picture.files) for picture in pictures)
    return f"{drawn} of {len(pictures)} drawn, {files} PNG file{'s' * (files != 1)}"


def draw_png(title, name, make, folder):
    """A matplotlib picture saved as ``folder/name``; a failure (memory, a bad value) is the picture's problem,
    and matplotlib's warnings (a value it cannot place) stay out of the report's one line of output."""
    from stages.figures import save_figure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            save_figure(make(), folder / name)
    except MemoryError:
        return Picture(title, problem="out of memory while drawing it")
    except Exception as error:  # noqa: BLE001 -- a picture that cannot be drawn must not lose the report
        return Picture(title, problem=one_line(f"{type(error).__name__}: {error}"))
    return Picture(title, [name])


# vl-convert runs in a child: when its V8 engine cannot reserve memory it aborts the whole process
# with a C backtrace (SIGTRAP, exit 133 in a shell), which no `except` in this process could catch.
# It reads its jobs from a file and writes one line per plot to another as it goes, so what it finished
# before a timeout or a crash is kept.
RENDERER = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    jobs = json.load(handle)
import vl_convert
with open(sys.argv[2], "a", encoding="utf-8") as done:
    for name, path, spec in jobs:
        try:
            data = vl_convert.vegalite_to_png(spec, scale=2.0)
            with open(path, "wb") as handle:
                handle.write(data)
            problem = None
        except Exception as error:
            problem = f"{type(error).__name__}: {error}"
        done.write(json.dumps([name, problem]) + "\\n")
        done.flush()
"""


def death(returncode, stderr):
    """One line on how the renderer died, from its exit status and the last words of its stderr."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"killed by {name} (exit {128 - returncode} in a shell)"
    else:
        how = f"exit {returncode}"
    said = [line.strip("#= \t") for line in stderr.splitlines() if line.strip("#= \t")]
    words = next((line for line in said if "fatal" in line.lower() or "error" in line.lower()),
                 said[-1] if said else "")
    hint = ("; its V8 engine reserves several GB of address space, more than `ulimit -v` allows here"
            if "memory" in words.lower() or "reservation" in words.lower() else "")
    return one_line(f"vl-convert died, {how}" + (f": {words}" if words else "") + hint)


def render_specs(jobs, timeout=RENDER_TIMEOUT):
    """{name: None, or why it was not rendered} for ``jobs`` [(name, png path, Vega-Lite spec)].

    vl-convert draws them in one child process; what it did not finish gets the reason it died.
    """
    if not jobs:
        return {}
    reason = None
    with tempfile.TemporaryDirectory(prefix="report-render-") as scratch:
        orders, answers = Path(scratch) / "jobs.json", Path(scratch) / "done.jsonl"
        orders.write_text(json.dumps(jobs), encoding="utf-8")
        started = time.monotonic()
        try:
            result = run([sys.executable, "-c", RENDERER, str(orders), str(answers)], check=False, timeout=timeout)
            if result.returncode != 0:
                reason = death(result.returncode, result.stderr)
        except UserError as error:  # it timed out, or could not start
            reason = (f"vl-convert took longer than {timeout} s" if time.monotonic() - started >= timeout
                      else f"vl-convert could not start: {one_line(error, 200)}")
        said = answers.read_text(encoding="utf-8", errors="replace") if answers.exists() else ""
    done = {}
    for line in said.splitlines():
        try:
            name, problem = json.loads(line)
        except (ValueError, TypeError):
            continue
        done[name] = None if problem is None else one_line(problem)
    return {name: done[name] if name in done else reason or "vl-convert gave no answer"
            for name, _, _ in jobs}


def image_files(revision, entry):
    """The PNG files a plots entry names: the file itself, or every PNG under a folder, now or at ``revision``."""
    if not entry.endswith("/") and not Path(entry).is_dir() and file_at(revision, entry) is not None:
        return [entry]
    listed = git("ls-tree", "-r", "--name-only", revision, "--", entry, check=False).splitlines()
    here = [path.as_posix() for path in Path(entry).rglob("*.png")] if Path(entry).is_dir() else []
    return sorted({path for path in listed + here if path.endswith(".png")}) or \
        ([entry] if Path(entry).is_file() else [])


def changed_plots(revision, folder):
    """Each plot of dvc.yaml whose data changed against the base, as [Picture] with PNGs in ``folder``.

    Data-series plots are the Vega-Lite specs `dvc plots diff` fills in, drawn by vl-convert in a
    child process (so the report draws what `dvc plots` and VS Code draw); images are copied.
    """
    from tools.vega import data_changed, dvc_plot_specs, relabel, slug

    specs = {title: relabel(spec, {revision: "base", "workspace": "this change"})
             for title, spec in dvc_plot_specs(revision).items() if data_changed(spec)}
    paths = {title: folder / f"plot_{slug(title)}.png" for title in specs}
    problems = render_specs([(title, str(paths[title]), spec) for title, spec in specs.items()])
    pipeline = read_yaml("dvc.yaml")
    definitions = pipeline.get("plots", []) if isinstance(pipeline, dict) else []
    pictures = []
    for entry in definitions:
        if isinstance(entry, str):  # an image file, or a folder of them
            for image in image_files(revision, entry):
                old, new = file_at(revision, image), Path(image).read_bytes() if Path(image).exists() else None
                if new is None or old == new:
                    continue
                names = []
                for label, data in (("base", old), ("new", new)):
                    if data is not None:
                        name = f"{label}_{slug(image)}.png"
                        (folder / name).write_bytes(data)
                        names.append(name)
                pictures.append(Picture(image, names))
        elif isinstance(entry, dict) and len(entry) == 1:
            (title, _), = entry.items()
            if title in problems:
                problem = problems[title]
                pictures.append(Picture(title, problem=problem) if problem else Picture(title, [paths[title].name]))
    return pictures


