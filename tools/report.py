"""A pull-request report: what changed against a base revision, as Markdown a reviewer reads.

    python -m tools.report [--base main] [--out report/report.md] [--check]

The Markdown is the pull-request comment and the job summary as written: its pictures are Mermaid
charts GitHub draws in the page (no image host, so it works on a pull request from a fork too), and
it stays within GitHub's 65,536 characters per comment (long tables are cut, and say so). It opens
with the gates and a compact leaderboard (test MSE with its bootstrap interval, the change against
the base and whether that change is real or inside the noise of the split, the paired difference
from least squares) and a bar chart of every model's test MSE, now and at the base. Folded below:
each iterative model's training loss, the full leaderboard (RMSE, R², cross-validation), the params
and metrics that changed, the leader's worst test predictions, and the PNG pictures.

The PNGs (the leaderboard, the residuals, every dvc.yaml plot whose data changed, drawn by
vl-convert as `dvc plots` draws them) go to a folder beside the report, ``<out stem>-pictures/``,
with an ``index.md`` that shows them: the CI artifact, for reading offline. The comment never
depends on them. vl-convert runs in a child process: if it dies (its V8 engine cannot reserve its
address space under `ulimit -v`, say) the plot is marked as not rendered and the report still writes.

Everything the report shows from data (column names, params values, metric keys, file paths,
revision and model names) is shown as text, never as Markdown or HTML: see ``code()``.

``--out`` writes only what this tool owns (tools/owned.py): a new file, or one it wrote before (its
first line is the ``<!-- written by tools.report; ...`` mark); never params.yaml, a directory or a
device. The pictures folder likewise: new, or the one it wrote (its index.md carries the mark and
lists the PNGs it wrote, the only files it replaces or removes).

The models and their order come from models.yaml, their colours from stages/style.py: a model
added there appears here without editing this file.

Is a move real? For each model whose test predictions moved against the base, the per-row
squared errors of this change and of the base on the same test rows are resampled jointly (a
paired bootstrap, ``evaluate.bootstrap`` resamples, ``seed``, ``evaluate.confidence``): an
interval of the MSE difference that excludes 0 is a real change, one that contains 0 lies within
the noise of the split. When the test rows differ from the base's (the data or the split changed)
the comparison is not paired and is skipped. A model listed in ``gates.exempt`` is not held to the
regression tolerance: its move is shown as exempt, never as a failure.

Exit status, so CI can tell a verdict from a crash:
  0  the report was written (and, with ``--check``, every gate passed)
  1  the report was written and, with ``--check``, a gate failed or a model's test
     RMSE regressed beyond ``gates.regression_tolerance``
  2  the report itself failed (bad arguments, an --out it does not own, a missing file, a
     failed git/dvc call, or a bug): one line on stderr, no traceback
A plot that could not be drawn is one line on stderr (``warning: report: ...``) and exit 0.
"""

import argparse
import io
import json
import math
import os
import re
import signal
import stat
import string
import subprocess
import sys
import tempfile
import traceback
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from stages.cli import StageError
from stages.files import read_json, save_figure
from stages.models import read_models
from stages.params import SCHEMA, read_params
from stages.style import model_colors
from tools import gates as gate_rules
from tools.owned import OwnedError, stamp, write_owned
from tools.owned import check as check_owned

TOOL = "tools.report"
EVALUATE_METRICS = "metrics/evaluate.json"
CV_METRICS = "metrics/cv.json"
FIT_METRICS = "metrics/fit.json"
PREDICTIONS = "plots/evaluate/predictions.csv"
LOSS = "plots/evaluate/loss.csv"
REFERENCE = gate_rules.REFERENCE
READS = ["seed", "cv.folds", "evaluate", "gates"]
PAIRING_COLUMNS = ("row", "actual")  # the same test rows in the same order, or no paired comparison
COMMENT_LIMIT = 65_536  # GitHub's limit on a comment's body; counted here in UTF-8 bytes, never fewer than characters
SHOWN_CHARACTERS = 120  # a value from data longer than this is cut in the report (the files keep it whole)
LOSS_POINTS = 40  # a training-loss chart's points: enough for the shape, few enough for the comment
RENDER_TIMEOUT = 300  # seconds for vl-convert to draw every changed plot
PICTURES_INDEX = "index.md"
BASE_GREY = "#c8c8c8"  # the base revision in every chart: paler than any model's colour (stages/style.py)


# ---- data as text: Markdown and Mermaid ----------------------------------------------------

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control, format (bidi marks, zero-width), separator, private and unassigned characters, and every
# space but the plain one: shown as an escape, so nothing invisible reorders or hides what a reviewer reads.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}


def visible(text):
    """``text`` with every character that would not show as itself written as an escape (``\\n``, ``\\u202e``)."""
    return "".join(_NAMED.get(char) or (f"\\u{ord(char):04x}" if char != " " and unicodedata.category(char)
                                        in _HIDDEN else char) for char in text)


def code(value, cell=True, limit=SHOWN_CHARACTERS):
    """Data as a Markdown code span: the one way this report shows a value it did not write itself.

    Shown as typed, never as HTML, a link, an image, a mention, an issue reference or an emoji
    (GitHub does none of those inside code), nor as a line break (newlines and bidi marks are shown
    as escapes) or a table cell break: in a table cell (``cell``) a ``|`` is written ``\\|``, which
    GitHub's tables read as a pipe inside the cell. The fence is one backtick longer than any run in
    the value. A value longer than ``limit`` is cut, saying by how much.
    """
    text = visible(str(value))
    if len(text) > limit:
        text = f"{text[:limit]}…(+{len(text) - limit} characters)"
    if not text:
        return "*(empty)*"
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    # CommonMark strips one space from each end of a span that has one at both: pad so that it strips ours.
    both_ends_space = text[0] == " " and text[-1] == " " and text.strip()
    pad = " " if text[0] == "`" or text[-1] == "`" or both_ends_space else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKUP = re.compile(r"([\\`*_\[\]<>!|#&~@])")


def plain(text):
    """The report's own prose (a gate's sentence from tools/gates.py) with every Markdown character escaped."""
    return _MARKUP.sub(r"\\\1", visible(str(text)))


def sentence(text, names):
    """A sentence the project wrote (a gate line), with the model ``names`` in it shown as data (``code``)."""
    names = sorted({name for name in names if name}, key=len, reverse=True)
    if not names:
        return plain(text)
    pattern = "|".join(rf"(?<![\w`]){re.escape(name)}(?![\w`])" for name in names)
    parts = re.split(f"({pattern})", text)
    return "".join(code(part, cell=False) if i % 2 else plain(part) for i, part in enumerate(parts))


_MERMAID_KEPT = frozenset(string.ascii_letters + string.digits + " _.,:()+-/=")


def mermaid_text(value, limit=60):
    """A Mermaid string literal holding ``value`` as text: every character but letters, digits and
    `` _.,:()+-/=`` written as Mermaid's ``#<code>;`` entity, so no quote, newline, ``%%`` directive,
    bracket, backtick, semicolon or markup reaches Mermaid's parser or GitHub's code fence."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return '"' + "".join(
        char if char in _MERMAID_KEPT or (ord(char) > 127 and unicodedata.category(char)[0] in "LN")
        else f"#{ord(char)};" for char in text) + '"'


def mermaid_number(value):
    """A number as Mermaid's charts read it: 4 significant digits, never an exponent."""
    import numpy as np

    if not math.isfinite(value):
        return "0"
    return np.format_float_positional(float(value), precision=4, unique=False, fractional=False, trim="-")


def mermaid_block(lines, palette):
    """A ```mermaid block: the chart's ``lines`` and its series' colours (hex from stages/style.py)."""
    colors = ", ".join(color if re.fullmatch("#[0-9a-fA-F]{6}", color) else "#777777" for color in palette)
    init = json.dumps({"themeVariables": {"xyChart": {"plotColorPalette": colors}}})
    return "\n".join(["```mermaid", f"%%{{init: {init}}}%%", *lines, "```"])


# ---- talking to git and DVC ---------------------------------------------------------------

def _run(args):
    result = subprocess.run(args, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        command = " ".join(args[2:] if args[0] == sys.executable else args)
        last_line = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
        raise StageError(f"`{command}` failed: {last_line}")
    return result.stdout


def dvc_json(*args):
    return json.loads(_run([sys.executable, "-m", "dvc", *args, "--json"]) or "{}")


def resolve_revision(name):
    """A git commit for a branch, tag, SHA or DVC experiment name."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"],
                           capture_output=True, text=True, errors="replace")
    if found.returncode == 0:
        return found.stdout.strip()
    refs = _run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"]).splitlines()
    for line in refs:
        ref, sha = line.split()
        if ref.rsplit("/", 1)[-1] == name:
            return sha
    raise StageError(f"base revision {name!r} is neither a git revision nor a DVC experiment")


def file_at(revision, path):
    """A git-tracked file's bytes at a revision, or None where it did not exist."""
    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True)
    return result.stdout if result.returncode == 0 else None


# ---- what changed -------------------------------------------------------------------------

def details(metrics, kind):
    """{model: {...}} of a metrics file the evaluate stage writes ({"details": {kind: ...}}; older
    revisions wrote the models at the top)."""
    if isinstance(metrics, dict) and isinstance(metrics.get("details"), dict):
        return metrics["details"].get(kind) or {}
    return metrics


def fmt(value, digits=4):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def value_cell(value):
    """A params or metrics value for a table: a number as digits, anything else as data (``code``)."""
    if value is None:
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt(value)
    return code(json.dumps(value) if isinstance(value, bool) else fmt(value))


def number(value, sign="", digits=3):
    """Three significant digits, kept (46.0, not 46); whole numbers from 1000 up; '–' for None."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** digits:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}#.{digits}g}".rstrip(".")


def interval(value, low, high, sign=""):
    """'value [low, high]', or the value alone when there is no interval."""
    if low is None or high is None:
        return number(value, sign)
    return f"{number(value, sign)} [{number(low, sign)}, {number(high, sign)}]"


def changed_rows(diff):
    """Rows (file, key, old, new, change) of a `dvc params/metrics diff --json`, changed only."""
    rows = []
    for path, entries in sorted(diff.items()):
        for key, entry in sorted(entries.items()):
            old, new = entry.get("old"), entry.get("new")
            if old == new:
                continue
            change = entry.get("diff")
            if isinstance(old, bool) or isinstance(new, bool):
                change = None  # DVC subtracts booleans; a flip is clearer without a number
            elif change is None and isinstance(old, (int, float)) and isinstance(new, (int, float)):
                change = new - old
            rows.append((path, key, old, new, change))
    return rows


def leaderboard(names, current, base, cv=None, moves=None):
    """The models ``names`` ranked by test RMSE, one dict each.

    Keys: model, rmse, base_rmse, base_mse, change (of the RMSE, vs base), vs_baseline, r2, mse,
    mse_low, mse_high, vs_ls (difference, low, high) or None, cv (mean, std) or None, and move
    (see ``paired_moves``) or None.
    """
    baseline_rmse = current.get("baseline", {}).get("rmse")
    rows = []
    for model in names:
        if model not in current:
            continue
        scores = current[model]
        rmse = scores["rmse"]
        before = (base or {}).get(model, {})
        old = before.get("rmse")
        vs_ls = tuple(scores.get(key) for key in ("vs_ls", "vs_ls_low", "vs_ls_high"))
        folds = (cv or {}).get(model)
        rows.append({
            "model": model, "rmse": rmse, "base_rmse": old, "base_mse": before.get("mse"),
            "change": None if old in (None, 0) else (rmse - old) / old,
            "vs_baseline": None if not baseline_rmse else (rmse - baseline_rmse) / baseline_rmse,
            "r2": scores.get("r2"), "mse": scores["mse"],
            "mse_low": scores.get("mse_low"), "mse_high": scores.get("mse_high"),
            "vs_ls": vs_ls if None not in vs_ls else None,
            "cv": (folds["mse_mean"], folds["mse_std"]) if folds and "mse_mean" in folds else None,
            "move": (moves or {}).get(model),
        })
    return sorted(rows, key=lambda row: row["rmse"])


def leader(board):
    """The best-ranked model that learned something (the baseline only predicts the mean)."""
    return next((row["model"] for row in board if row["model"] != "baseline"), board[0]["model"])


def exempt_moves(board, gates):
    """{model: rise} of the models in ``gates.exempt`` whose test RMSE rose beyond the tolerance."""
    exempt, tolerance = gates.get("exempt") or [], gates["regression_tolerance"]
    return {row["model"]: row["change"] for row in board
            if row["model"] in exempt and row["change"] is not None and row["change"] > tolerance}


# ---- is a move real? ------------------------------------------------------------------------

def read_predictions(data):
    """predictions.csv bytes (or a path), long (model, row, actual, predicted) -> DataFrame: row, actual,
    one column per model, in the file's order of models."""
    import pandas as pd

    table = pd.read_csv(io.BytesIO(data) if isinstance(data, bytes) else data, dtype={"model": str})
    if "model" not in table.columns:  # the wide layout of older revisions: one column per model already
        return table
    models = list(dict.fromkeys(table["model"]))
    wide = table.pivot(index="row", columns="model", values="predicted").reset_index()
    actual = table.drop_duplicates("row").set_index("row")["actual"]
    wide.insert(1, "actual", actual.reindex(wide["row"]).to_numpy())
    return wide[["row", "actual", *models]].rename_axis(columns=None)


def same_test_rows(base_table, table):
    """Whether two predictions tables score the same test rows in the same order."""
    columns = [column for column in PAIRING_COLUMNS if column in base_table.columns and column in table.columns]
    if "actual" not in columns or len(base_table) != len(table):
        return False
    return all((base_table[column].to_numpy() == table[column].to_numpy()).all() for column in columns)


def paired_moves(base_table, table, current, base, settings, names=None):
    """{model: move} for the models whose test score moved against the base.

    A move is {"verdict": "yes, worse" | "yes, better" | "within noise" | "within seed noise" |
    "not paired", "difference", "low", "high"} (MSE now minus the base's on the same test rows,
    and its paired bootstrap interval), from fromzero.metrics.paired_bootstrap_difference.
    ``settings`` holds resamples, seed and confidence. A model that did not move,
    or that the base does not have, gets no entry.

    Two lucks are ruled out before a move is called real: the split's (the paired interval
    holds 0: "within noise") and the seed's (the model's MSE now lies within the range its
    base reached over its seeds, mse_seeds_min to mse_seeds_max: "within seed noise").
    """
    from fromzero.metrics import paired_bootstrap_difference

    if base_table is None or base is None:
        return {}
    paired = same_test_rows(base_table, table)
    moves = {}
    for model in names or [column for column in table.columns if column not in PAIRING_COLUMNS]:
        if model not in table.columns or model not in base:
            continue
        if not paired:  # other rows: every score moves, and no per-row comparison exists
            if current.get(model, {}).get("mse") != base[model].get("mse"):
                moves[model] = {"verdict": "not paired", "difference": None, "low": None, "high": None}
            continue
        if model not in base_table.columns or (base_table[model].to_numpy() == table[model].to_numpy()).all():
            continue  # no base predictions of it, or the same predictions on the same rows: nothing to test
        difference, low, high = paired_bootstrap_difference(
            table["actual"].to_numpy(), table[model].to_numpy(), base_table[model].to_numpy(),
            resamples=settings["resamples"], seed=settings["seed"], confidence=settings["confidence"])
        verdict = "yes, worse" if low > 0 else "yes, better" if high < 0 else "within noise"
        if verdict.startswith("yes") and within_seed_spread(current.get(model, {}), base[model]):
            verdict = "within seed noise"
        moves[model] = {"verdict": verdict, "difference": difference, "low": low, "high": high}
    return moves


def within_seed_spread(now, before):
    """Whether the test MSE now lies within the range the base reached over its seeds (False if it has none)."""
    low, high = before.get("mse_seeds_min"), before.get("mse_seeds_max")
    return low is not None and high is not None and now.get("mse") is not None and low <= now["mse"] <= high


def move_cell(move):
    if move is None:
        return "–"
    if move["difference"] is None:
        return move["verdict"]
    return f"{move['verdict']} (ΔMSE {interval(move['difference'], move['low'], move['high'], sign='+')})"


VERDICT_WORDS = {"yes, worse": "**real, worse**", "yes, better": "real, better", "within noise": "within noise",
                 "within seed noise": "within seed noise", "not paired": "not paired"}


def base_cell(row, exempt):
    """The compact leaderboard's change against the base: the RMSE's change, the verdict, and any exemption."""
    if row["change"] is None:
        return "–"
    words = [f"{row['change']:+.2%}".replace("%", " %")]
    if row["move"] is not None:
        words.append(VERDICT_WORDS[row["move"]["verdict"]])
    elif row["change"] == 0:
        words = ["unchanged"]
    if row["model"] in exempt:
        words.append("exempt from the gate")
    return " · ".join(words)


def percent(confidence):
    return f"{confidence * 100:g} %"


# ---- charts in the comment (Mermaid) -----------------------------------------------------------

def leaderboard_chart(board, colors):
    """Every model's test MSE as horizontal bars in its colour, the base's beside it in grey.

    One series a model (so each bar has its model's colour) and one for the base, each zero but at
    its own bars: Mermaid's xychart has no per-bar colour and no legend, so the labels say "(base)".
    A bar beyond three times the median is cut at that length and its label gives the value.
    """
    import numpy as np

    bars = []  # (label, value, series index)
    for i, row in enumerate(board):
        bars.append((row["model"], row["mse"], i))
        if row["base_mse"] is not None:
            bars.append((f"{row['model']} (base)", row["base_mse"], len(board)))
    values = [value for _, value, _ in bars]
    top = max(values)
    cap = 3 * float(np.median(values)) if top > 3 * float(np.median(values)) > 0 else top
    labels = [f"{label} (cut: {number(value)})" if value > cap else label for label, value, _ in bars]
    has_base = any(series == len(board) for _, _, series in bars)
    lines = ["xychart-beta horizontal",
             f"    title {mermaid_text('Test MSE, lower is better' + (', the base in grey' if has_base else ''))}",
             f"    x-axis [{', '.join(mermaid_text(label) for label in labels)}]",
             f"    y-axis {mermaid_text('test MSE')} 0 --> {mermaid_number(cap * 1.05 or 1.0)}"]
    palette = []
    for series in range(len(board) + has_base):
        lines.append("    bar [" + ", ".join(mermaid_number(min(value, cap)) if index == series else "0"
                                            for _, value, index in bars) + "]")
        palette.append(colors.get(board[series]["model"], "#777777") if series < len(board) else BASE_GREY)
    return mermaid_block(lines, palette)


def read_loss(data, source=LOSS):
    """{model: (unit, iterations, losses)} from loss.csv (bytes or a path; long: model, iteration, unit,
    loss), each curve sorted by iteration; {} for an empty file or one without those columns; StageError
    naming ``source`` for one that is not CSV."""
    import numpy as np
    import pandas as pd

    try:
        table = pd.read_csv(io.BytesIO(data) if isinstance(data, bytes) else data, dtype={"model": str, "unit": str})
    except pd.errors.EmptyDataError:
        return {}
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise StageError(f"{source}: not the loss curves `evaluate` writes ({one_line(error, 200)}); "
                         "rerun `dvc repro`") from None
    if not {"model", "iteration", "loss"} <= set(table.columns):
        return {}
    curves = {}
    for model, group in table.groupby("model", sort=False):
        iterations = pd.to_numeric(group["iteration"], errors="coerce").to_numpy(dtype=float)
        losses = pd.to_numeric(group["loss"], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(iterations) & np.isfinite(losses)
        order = np.argsort(iterations[finite], kind="stable")
        if finite.any():
            unit = str(group["unit"].iloc[0]) if "unit" in group.columns else "iteration"
            curves[model] = (unit, iterations[finite][order], losses[finite][order])
    return curves


def thin(curves, points=LOSS_POINTS):
    """(iterations, [losses of each curve]) at ``points`` evenly spaced iterations from the first to the
    last of ``curves`` ([(iterations, losses)]): each curve's loss at or before each (held after its end)."""
    import numpy as np

    first, last = min(its[0] for its, _ in curves), max(its[-1] for its, _ in curves)
    targets = np.unique(np.linspace(first, last, points).round())
    values = [losses[np.clip(np.searchsorted(its, targets, side="right") - 1, 0, len(its) - 1)]
              for its, losses in curves]
    return targets, values


def loss_chart(model, now, base, color, base_known=True):
    """A Mermaid line chart of a model's training loss, thinned to LOSS_POINTS: the base (grey) under now.

    ``now`` and ``base`` are (unit, iterations, losses) or None; ``base_known``: the base has a loss file.
    """
    import numpy as np

    if now is None:
        curves, palette, state = [base], [BASE_GREY], "at the base, none now"
    elif base is None:
        curves, palette, state = [now], [color], "new since the base" if base_known else "this change"
    elif np.array_equal(now[1], base[1]) and np.array_equal(now[2], base[2]):
        curves, palette, state = [now], [color], "unchanged from the base"
    else:
        curves, palette, state = [base, now], [BASE_GREY, color], "this change, the base in grey"
    iterations, values = thin([(its, losses) for _, its, losses in curves])
    if len(iterations) < 2:
        return None
    logged = all((losses > 0).all() for losses in values)
    values = [np.log10(losses) if logged else losses for losses in values]
    lines = ["xychart-beta",
             f"    title {mermaid_text(f'{model}: training loss ({state})', limit=90)}",
             f"    x-axis {mermaid_text(curves[-1][0])} {mermaid_number(iterations[0])} --> "
             f"{mermaid_number(iterations[-1])}",
             f"    y-axis {mermaid_text('log10 training MSE' if logged else 'training MSE')}"]
    lines += ["    line [" + ", ".join(mermaid_number(value) for value in series) + "]" for series in values]
    return mermaid_block(lines, palette)


# ---- pictures (PNG files, beside the report) -----------------------------------------------

def draw_leaderboard(rows, colors, confidence=0.95):
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


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


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


# ---- the pictures folder: only what this tool wrote ----------------------------------------------

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


# ---- the report ---------------------------------------------------------------------------

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class Part:
    """A part of the report that may be shortened to fit a comment: ``render(items)`` of its first items.

    ``cut`` items are left out from the end and a note says how many, and where to see them all.
    """

    def __init__(self, items, render, hint):
        self.items, self.render_items, self.hint, self.keep = list(items), render, hint, None

    def render(self):
        if self.keep is None or self.keep >= len(self.items):
            return self.render_items(self.items)
        left = len(self.items) - self.keep
        note = (f"*{left} of {len(self.items)} left out to keep this comment within GitHub's "
                f"{COMMENT_LIMIT:,} characters; {self.hint}.*")
        return "\n\n".join(([self.render_items(self.items[:self.keep])] if self.keep else []) + [note])

    def shorten(self):
        """Halve what it shows; False when it already shows nothing."""
        shown = len(self.items) if self.keep is None else self.keep
        if shown == 0:
            return False
        self.keep = shown // 2
        return True


def size(text):
    return len(text.encode("utf-8"))


def fit(parts, limit):
    """The parts joined, the largest cut part by part until the text fits ``limit`` bytes (a hard cut last)."""
    def joined():
        return "\n".join(part if isinstance(part, str) else part.render() for part in parts)

    text = joined()
    shortenable = [part for part in parts if isinstance(part, Part)]
    while size(text) > limit and shortenable:
        largest = max(shortenable, key=lambda part: size(part.render()))
        if not largest.shorten():
            shortenable.remove(largest)
            continue
        text = joined()
    return text if size(text) <= limit else hard_cut(text, limit)


def hard_cut(text, limit):
    """The text cut at a line to fit ``limit``, closing an open code fence and <details>, saying so."""
    note = f"\n*The rest of this report is left out: it would exceed GitHub's {COMMENT_LIMIT:,} characters.*\n"
    kept, used, fenced, depth = [], 0, False, 0
    for line in text.splitlines():
        closing = ("```\n" if fenced else "") + "\n</details>\n" * depth
        if used + size(line) + 1 + size(closing) + size(note) + 16 > limit:
            break
        kept.append(line)
        used += size(line) + 1
        fenced = fenced != line.startswith("```")
        if not fenced:
            depth += (line == "<details>") - (line == "</details>")
    tail = (["```"] if fenced else []) + ["", "</details>"] * depth
    return "\n".join(kept + tail) + "\n" + note


def folded(summary, *body):
    """The parts of a <details> block: ``summary`` (the report's own words), then ``body`` (text or Parts)."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


PAIRING_NOTES = {
    "not paired": "**Not paired:** the test rows differ from the base's (the data or the split changed), so no "
                  "move against the base is called real or noise.",
    "no base predictions": f"The base has no {PREDICTIONS}, so no move against it is tested against the noise.",
}


def compact_leaderboard(board, settings, exempt):
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "vs base: RMSE, real?",
              f"vs least squares: ΔMSE [{confidence}]"]
    rows = [[i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
             base_cell(row, exempt), "–" if row["vs_ls"] is None else interval(*row["vs_ls"], sign="+")]
            for i, row in enumerate(board, 1)]
    return markdown_table(header, rows)


def full_leaderboard(board, settings, folds, has_base, pairing):
    """The whole leaderboard as markdown, then a note on the pairing and a legend saying what each interval is."""
    show_cv = any(row["cv"] for row in board)
    confidence = percent(settings["confidence"])
    header = ["#", "model", f"test MSE [{confidence}]", "RMSE", "base RMSE", "change", "real change?",
              f"vs least squares: ΔMSE [{confidence}]", "vs baseline", "R²"]
    if show_cv:
        header.append(f"CV MSE ({folds} folds)")
    rows = []
    for i, row in enumerate(board, 1):
        cells = [i, f"**{code(row['model'])}**", interval(row["mse"], row["mse_low"], row["mse_high"]),
                 f"{row['rmse']:.3f}",
                 "–" if row["base_rmse"] is None else f"{row['base_rmse']:.3f}",
                 "–" if row["change"] is None else f"{row['change']:+.2%}",
                 move_cell(row["move"]),
                 "–" if row["vs_ls"] is None else interval(*row["vs_ls"], sign="+"),
                 "–" if row["vs_baseline"] is None else f"{row['vs_baseline']:+.1%}",
                 "–" if row["r2"] is None else f"{row['r2']:.3f}"]
        if show_cv:
            cells.append("–" if row["cv"] is None else f"{number(row['cv'][0])} ± {number(row['cv'][1], digits=2)}")
        rows.append(cells)
    legend = [PAIRING_NOTES[pairing]] if has_base and pairing in PAIRING_NOTES else []
    legend += [
        f"Test MSE: the point value and its {confidence} bootstrap interval over the test rows. "
        f"vs least squares: this model's test MSE minus least squares' on the same rows, with its paired "
        f"interval (entirely below 0: a real win).",
    ]
    if has_base:
        legend.append(
            f"Real change?: for a model whose test predictions moved against the base, the paired bootstrap of "
            f"per-row squared errors (now vs the base, the same test rows; {settings['resamples']} resamples, "
            f"seed {settings['seed']}): ΔMSE is now minus the base, and a {confidence} interval that excludes 0 "
            f"is a real change; one that contains 0 lies within the noise of the split. A model fitted on "
            f"several seeds whose test MSE now lies within the range its base reached over them is within "
            f"seed noise.")
    if show_cv:
        legend.append(f"CV MSE: mean ± std over {folds} folds of cross-validation on the training split "
                      f"({CV_METRICS}).")
    return "\n\n".join([markdown_table(header, rows), *legend])


@dataclass
class Findings:
    """Everything the report says, gathered by ``write_report`` (or a test): data, not yet Markdown."""
    base_name: str
    revision: str
    params_diff: dict
    metrics_diff: dict
    board: list
    gates: list  # [(passed, line)] from tools/gates.py
    gate_settings: dict  # params.yaml's gates (regression_tolerance, exempt, ...)
    worst: object  # the leader's worst test predictions (a DataFrame: row, actual, <leader>)
    pictures: list  # [Picture]
    settings: dict  # resamples, seed, confidence
    folds: int
    has_base: bool
    pairing: str
    colors: dict  # {model: colour}, in models.yaml's order
    loss: dict = field(default_factory=dict)  # {model: (unit, iterations, losses)} now
    base_loss: dict = field(default_factory=dict)  # the same at the base
    pictures_at: str = "report/report-pictures"
    fits: dict = field(default_factory=dict)  # metrics/fit.json's details.fit: {model: {n_iter, converged, ...}}


def gates_section(found, exempt):
    """The verdict, one line a gate (tools/gates.py's sentences, the model names in them as data), then
    the exempt models' moves beyond the tolerance: said, never failed."""
    names = [row["model"] for row in found.board]
    failed = [line for passed, line in found.gates if not passed]
    verdict = "all passed" if not failed else f"{len(failed)} failed"
    plural = "s" if len(exempt) != 1 else ""
    note = f" · {len(exempt)} exempt model{plural} moved beyond the tolerance" if exempt else ""
    lines = [f"**Gates: {verdict}**{note}", ""]
    lines += [f"- {'✅ PASS' if passed else '❌ FAIL'}: {sentence(line, names)}" for passed, line in found.gates]
    tolerance = found.gate_settings["regression_tolerance"]
    lines += [f"- ➖ EXEMPT: {code(row['model'], cell=False)} test RMSE rose {row['change']:+.2%} against the base "
              f"({row['base_rmse']:.4g} → {row['rmse']:.4g}; tolerance {tolerance:.0%}), not a failure: it is "
              f"listed in `gates.exempt`" for row in found.board if row["model"] in exempt]
    for model, fit in found.fits.items():  # a fit that ran out of iterations: said, whatever the gates
        if isinstance(fit, dict) and fit.get("converged") is False:
            needed = fit.get("steps_needed")
            more = f"about {needed:,} would reach its tolerance" if isinstance(needed, int) else "it had stalled"
            steps = fit.get("n_iter")
            lines.append(f"- ⚠️ NOT CONVERGED: {code(model, cell=False)} stopped after "
                         f"{f'{steps:,}' if isinstance(steps, int) else 'its'} steps; {more}")
    return lines


def loss_section(found):
    """Each iterative model's training loss, now and at the base, in models.yaml's order (folded)."""
    order = dict.fromkeys([*found.colors, *found.loss, *found.base_loss])
    charts = [(model, found.loss.get(model), found.base_loss.get(model)) for model in order
              if model in found.loss or model in found.base_loss]
    if not charts:
        return []

    def draw(items):
        drawn = [loss_chart(model, now, base, found.colors.get(model, "#777777"), bool(found.base_loss))
                 for model, now, base in items]
        return "\n\n".join(chart for chart in drawn if chart)

    return folded("Training loss of the iterative models",
                  f"Each line thinned to about {LOSS_POINTS} points; a curve that stopped early is held at its "
                  "last value. Every point: the plot `Training loss (log scale)` of `dvc plots diff`.", "",
                  Part(charts, draw, "`dvc plots diff` draws them all"))


def diff_section(title, diff, header, hint):
    """The params or metrics that changed, a row each (folded); every name and value shown as data."""
    rows = changed_rows(diff)
    if not rows:
        return [f"**{title}:** none.", ""]
    cells = [[code(path), code(key), value_cell(old), value_cell(new), value_cell(change)][:len(header)]
             for path, key, old, new, change in rows]
    return folded(f"{title}: {len(rows)}", Part(cells, lambda items: markdown_table(header, items), hint))


def worst_section(found):
    best = leader(found.board)
    rows = [] if found.worst is None else [
        (int(r["row"]) if "row" in r else i, f"{r['actual']:.1f}", f"{r[best]:.1f}", f"{r[best] - r['actual']:+.1f}")
        for i, r in found.worst.iterrows()]
    return folded(f"Worst test predictions of the leader ({len(rows)})", f"The leader: {code(best, cell=False)}.",
                  "", markdown_table(["test row", "actual", "predicted", "error"], rows))


def pictures_section(found):
    """Which PNG files were drawn, and why a picture was not (folded); the comment shows none of them."""
    drawn = [picture for picture in found.pictures if picture.files]
    rows = [[code(picture.title), ", ".join(code(name) for name in picture.files) if picture.files
             else f"not rendered: {code(picture.problem)}"] for picture in found.pictures]
    body = [f"PNG files in {code(found.pictures_at + '/', cell=False)} (the `report` artifact of the workflow run; "
            f"its `{PICTURES_INDEX}` shows them). This comment does not depend on them."]
    if all(picture.title in ("leaderboard", "residuals") for picture in found.pictures):
        body.append("No plot changed: every plot is byte-identical to the base.")
    return folded(f"Pictures: {len(drawn)} of {len(found.pictures)} drawn", *body, "",
                  Part(rows, lambda items: markdown_table(["picture", "file"], items),
                       f"`{PICTURES_INDEX}` in the pictures folder lists them all"))


def build_report(found, limit=COMMENT_LIMIT):
    """The report as Markdown of at most ``limit`` UTF-8 bytes: the gates, the compact leaderboard and
    its chart first; the detail folded below, long parts cut to fit (saying so)."""
    exempt = exempt_moves(found.board, found.gate_settings)
    head = [f"# fromzero: this change against {code(found.base_name, cell=False)} ({found.revision[:7]})", ""]
    head += gates_section(found, exempt)
    head += ["", "## Leaderboard (test split)", "", compact_leaderboard(found.board, found.settings, exempt), ""]
    if found.has_base and found.pairing in PAIRING_NOTES:
        head += [PAIRING_NOTES[found.pairing], ""]
    head += [leaderboard_chart(found.board, found.colors), ""]
    parts = ["\n".join(head), *loss_section(found),
             *folded("Full leaderboard: RMSE, R², cross-validation",
                     full_leaderboard(found.board, found.settings, found.folds, found.has_base, found.pairing)),
             *diff_section("Params changed", found.params_diff, ["file", "key", "base", "now"],
                           "`dvc params diff` lists them all"),
             *diff_section("Metrics changed", found.metrics_diff, ["file", "metric", "base", "now", "change"],
                           "`dvc metrics diff` lists them all"),
             *worst_section(found), *pictures_section(found)]
    return fit(parts, limit).rstrip() + "\n"


GATE_FAILED, REPORT_FAILED = 1, 2


def main(argv=None):
    """Write the report; exit 0, 1 (a gate failed, with --check) or 2 (the report failed)."""
    try:
        return write_report(argv)
    except (StageError, OwnedError) as error:
        print(f"error: report: {one_line(error, 1000)}", file=sys.stderr)
    except Exception as error:  # a bug or a broken environment: still one line, and never 1
        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(f"error: report: unexpected {type(error).__name__}: {one_line(error, 500)} "
              f"(at {Path(frame.filename).name}:{frame.lineno})", file=sys.stderr)
    return REPORT_FAILED


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, as every other failure of the report
        raise StageError(f"{message} (see --help)")


def write_report(argv=None):
    parser = Parser(prog="python -m tools.report", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision or experiment to compare with (main)")
    parser.add_argument("--out", default="report/report.md", type=Path,
                        help="the Markdown to write (report/report.md); a new file or one this tool wrote; "
                             "its PNGs go to <folder>/<stem>-pictures/")
    parser.add_argument("--params", default="params.yaml", help="the params file whose gates apply (params.yaml)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a gate fails or a test RMSE regressed beyond the tolerance "
                             "(2 means the report itself failed)")
    args = parser.parse_args(argv)
    # Refuse an --out this tool does not own before any work: params.yaml, a directory, a device.
    check_owned(args.out, TOOL)
    folder = pictures_folder(args.out)
    owned_pictures(folder)

    names = list(read_models())
    colors = model_colors(names)
    params = read_params(args.params, keys=READS, schema={**SCHEMA, **gate_rules.schema(names)})
    settings = {"resamples": params["evaluate"]["bootstrap"], "seed": params["seed"],
                "confidence": params["evaluate"]["confidence"]}
    revision = resolve_revision(args.base)
    for path in (EVALUATE_METRICS, PREDICTIONS):
        if not Path(path).exists():
            raise StageError(f"{path}: not found; run `dvc repro` first")
    current = details(read_json(EVALUATE_METRICS), "test")
    base_bytes = file_at(revision, EVALUATE_METRICS)
    base = details(json.loads(base_bytes), "test") if base_bytes else None
    cv = details(read_json(CV_METRICS), "cv") if Path(CV_METRICS).exists() else None
    fits = details(read_json(FIT_METRICS), "fit") if Path(FIT_METRICS).exists() else {}

    table = read_predictions(PREDICTIONS)
    base_predictions = file_at(revision, PREDICTIONS)
    base_table = read_predictions(base_predictions) if base_predictions else None
    pairing = ("no base predictions" if base_table is None
               else "paired" if same_test_rows(base_table, table) else "not paired")
    moves = paired_moves(base_table, table, current, base, settings, names)

    params_diff = dvc_json("params", "diff", revision)
    metrics_diff = dvc_json("metrics", "diff", revision)
    board = leaderboard(names, current, base, cv, moves)
    if not board:
        raise StageError(f"{EVALUATE_METRICS}: holds none of the models of models.yaml; run `dvc repro`")
    gates = gate_rules.gate_results(names, current, base, params["gates"], settings["confidence"])

    best = leader(board)
    worst = table.reindex((table[best] - table["actual"]).abs().sort_values(ascending=False).index).head(5)
    loss = read_loss(LOSS) if Path(LOSS).exists() else {}
    base_loss_bytes = file_at(revision, LOSS)
    base_loss = read_loss(base_loss_bytes, f"{LOSS} at {args.base}") if base_loss_bytes else {}

    with tempfile.TemporaryDirectory(prefix="report-pictures-") as scratch:
        scratch = Path(scratch)
        pictures = [draw_png("leaderboard", "leaderboard.png",
                             lambda: draw_leaderboard(board, colors, settings["confidence"]), scratch),
                    draw_png("residuals", "residuals.png", lambda: draw_residuals(table, colors), scratch)]
        pictures += changed_plots(revision, scratch)
        found = Findings(args.base, revision, params_diff, metrics_diff, board, gates, params["gates"], worst,
                         pictures, settings, params["cv"]["folds"], base is not None, pairing, colors,
                         loss, base_loss, pictures_at=folder.as_posix(), fits=fits if isinstance(fits, dict) else {})
        text = stamp(build_report(found, COMMENT_LIMIT - size(stamp("", TOOL))), TOOL)
        files = {name: (scratch / name).read_bytes() for picture in pictures for name in picture.files}
        write_pictures(folder, files, lambda listed: pictures_index(args.out.as_posix(), pictures, listed))
    write_owned({args.out: text}, TOOL)
    print(f"wrote {args.out} and {len(files)} pictures in {folder}/")
    for picture in pictures:
        if picture.problem:
            print(f"warning: report: {one_line(visible(picture.title), 100)}: not rendered: {picture.problem}",
                  file=sys.stderr)
    failed = [line for passed, line in gates if not passed]
    for line in failed:
        print(f"gate failed: {line}", file=sys.stderr)
    return GATE_FAILED if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
