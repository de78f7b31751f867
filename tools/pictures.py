"""The report's PNG pictures, and the folder beside the report that holds only what the report wrote.

matplotlib draws the leaderboard and the residuals; vl-convert draws each dvc.yaml plot whose data
changed, as `dvc plots` draws it, in a child process: if it dies (its V8 engine cannot reserve its
address space under `ulimit -v`, say) the plot is marked as not rendered. The folder is new, or the
one the report wrote: its index.md carries the report's mark and lists the PNGs it wrote, the only
files it replaces or removes.
"""

import json
import math
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from stages.figures import save_figure
from tools.markdown import code, one_line, percent
from tools.owned import OwnedError, stamp, write_owned
from tools.owned import check as check_owned
from project.commands import file_at

TOOL = "tools.report"  # the pictures folder is the report's: its index.md carries the report's mark
RENDER_TIMEOUT = 300  # seconds for vl-convert to draw every changed plot
PICTURES_INDEX = "index.md"


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
        axes.text(end, i, f" {row['rmse']:.3f}", va="center", fontsize=9)
    axes.set_xlabel("test RMSE (lower is better)"
                    + (f"; whiskers: {percent(confidence)} bootstrap interval" if spans else ""))
    axes.set_title("Leaderboard" + (" (black tick: the base)" if bases else ""))
    axes.grid(axis="y", visible=False)
    return figure


def draw_residuals(table, colors, columns=3):
    """Each model's residuals against its prediction, one panel per model (any number of models)."""
    import numpy as np

    from stages.figures import new_figure

    models = [name for name in colors if name in table.columns]
    ncols = max(1, min(columns, len(models)))
    nrows = max(1, math.ceil(len(models) / ncols))
    # Residuals share a scale; predictions do not (the baseline's is one value).
    figure, grid = new_figure(nrows=nrows, ncols=ncols, sharey=True, squeeze=False,
                              figsize=(3.4 * ncols, 0.4 + 2.6 * nrows))
    panels = list(np.ravel(grid))
    for axes, model in zip(panels, models):
        residual = table["actual"] - table[model]
        axes.scatter(table[model], residual, s=10, alpha=0.6, color=colors[model], edgecolor="none")
        axes.axhline(0.0, color="black", linewidth=0.8)
        axes.set_title(f"{model} (mean {residual.mean():+.2f})", fontsize=10)
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


def draw_png(title, name, make, folder):
    """A matplotlib picture saved as ``folder/name``; a failure (memory, a bad value) is the picture's problem."""
    try:
        save_figure(make(), folder / name)
    except MemoryError:
        return Picture(title, problem="out of memory while drawing it")
    except Exception as error:  # noqa: BLE001 -- a picture that cannot be drawn must not lose the report
        return Picture(title, problem=one_line(f"{type(error).__name__}: {error}"))
    return Picture(title, [name])


# vl-convert runs in a child: when its V8 engine cannot reserve memory it aborts the whole process
# with a C backtrace (SIGTRAP, exit 133 in a shell), which no `except` in this process could catch.
RENDERER = """
import json, sys
jobs = json.load(sys.stdin)
import vl_convert
for name, path, spec in jobs:
    try:
        data = vl_convert.vegalite_to_png(spec, scale=2.0)
        with open(path, "wb") as handle:
            handle.write(data)
        problem = None
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
    print(json.dumps([name, problem]), flush=True)
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
    stdout, reason = "", None
    try:
        result = subprocess.run([sys.executable, "-c", RENDERER], input=json.dumps(jobs), capture_output=True,
                                text=True, errors="replace", timeout=timeout)
        stdout = result.stdout
        if result.returncode != 0:
            reason = death(result.returncode, result.stderr)
    except subprocess.TimeoutExpired as error:
        output = error.stdout or ""
        stdout = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        reason = f"vl-convert took longer than {timeout} s"
    except OSError as error:
        reason = f"vl-convert could not start: {error.strerror or error}"
    done = {}
    for line in stdout.splitlines():
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
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, "--", entry],
                            capture_output=True, text=True, errors="replace").stdout.splitlines()
    here = [path.as_posix() for path in Path(entry).rglob("*.png")] if Path(entry).is_dir() else []
    return sorted({path for path in listed + here if path.endswith(".png")}) or \
        ([entry] if Path(entry).is_file() else [])


def changed_plots(revision, folder):
    """Each plot of dvc.yaml whose data changed against the base, as [Picture] with PNGs in ``folder``.

    Data-series plots are the Vega-Lite specs `dvc plots diff` fills in, drawn by vl-convert in a
    child process (so the report draws what `dvc plots` and VS Code draw); images are copied.
    """
    import yaml

    from tools.vega import data_changed, dvc_plot_specs, relabel, slug

    specs = {title: relabel(spec, {revision: "base", "workspace": "this change"})
             for title, spec in dvc_plot_specs(revision).items() if data_changed(spec)}
    paths = {title: folder / f"plot_{slug(title)}.png" for title in specs}
    problems = render_specs([(title, str(paths[title]), spec) for title, spec in specs.items()])
    with open("dvc.yaml", encoding="utf-8") as handle:
        definitions = yaml.safe_load(handle).get("plots", [])
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


# ---- the pictures folder: only what the report wrote -----------------------------------------

_LISTED = re.compile(r"^<!-- pictures: (.*) -->$", re.M)
_PICTURE_NAME = re.compile(r"[a-z0-9_.-]+\.png")


def pictures_folder(out):
    """Where the PNGs of the report ``out`` go: ``<folder>/<stem>-pictures/``."""
    return out.parent / f"{out.stem}-pictures"


def owned_pictures(folder):
    """The PNG names this tool wrote in ``folder`` last time (none if it does not exist yet).

    OwnedError when the folder is not this tool's: not a directory, or a directory without an
    index.md carrying the tool's mark that is not empty.
    """
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return set()
    except OSError as error:
        raise OwnedError(f"{folder}: cannot write the report's pictures here: {error.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise OwnedError(f"{folder}: is not a directory (the report's pictures go there); refusing to replace "
                         "it: remove it or choose another --out")
    index = folder / PICTURES_INDEX
    check_owned(index, TOOL)
    if not index.exists():
        if any(folder.iterdir()):
            raise OwnedError(f"{folder}: exists and {TOOL} did not write it (no {PICTURES_INDEX} with its mark); "
                             "refusing to write pictures into it: remove it or choose another --out")
        return set()
    listed = _LISTED.search(index.read_text(encoding="utf-8", errors="replace"))
    return {name for name in (listed.group(1).split(", ") if listed else []) if _PICTURE_NAME.fullmatch(name)}


def pictures_index(report, pictures, names):
    """index.md of the pictures folder: every picture shown (for reading offline), and the list of files."""
    lines = [f"# The pictures of {code(report, cell=False)}", "",
             "Written by `python -m tools.report`; the report itself draws its charts with Mermaid.", ""]
    for picture in pictures:
        lines += [f"## {code(picture.title, cell=False)}", ""]
        lines += [f"![{Path(name).stem}]({name})" for name in picture.files]
        if picture.problem:
            lines.append(f"Not rendered: {code(picture.problem, cell=False)}")
        lines.append("")
    lines.append(f"<!-- pictures: {', '.join(sorted(names))} -->")
    return stamp("\n".join(lines) + "\n", TOOL)


def _write_file(path, data):
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.remove(temporary)


def write_pictures(folder, files, index):
    """Write ``files`` ({png name: bytes}) and ``index(names)`` into ``folder``, replacing only this tool's.

    A PNG there that the last index did not list is not ours: refused (OwnedError), nothing written.
    The index lists every name before the PNGs land, so a run that dies midway never orphans one.
    """
    previous = owned_pictures(folder)
    for name in files:
        target = folder / name
        if os.path.lexists(target) and (name not in previous or not stat.S_ISREG(os.lstat(target).st_mode)):
            raise OwnedError(f"{target}: exists and {TOOL} did not write it; refusing to replace it: "
                             "remove it or choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_owned({folder / PICTURES_INDEX: index(previous | set(files))}, TOOL)
        for name, data in files.items():
            _write_file(folder / name, data)
        for name in previous - set(files):  # an earlier run's picture of a plot that no longer changed
            target = folder / name
            if os.path.lexists(target) and stat.S_ISREG(os.lstat(target).st_mode):
                os.remove(target)
    except OSError as error:
        raise OwnedError(f"{folder}: cannot write the pictures: {error.strerror or error}") from None
    write_owned({folder / PICTURES_INDEX: index(set(files))}, TOOL)
