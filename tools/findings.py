"""Everything the report says, gathered as data (``Findings``) from the pipeline's files now and at the base.

``gather`` reads the current run's files and the base revision's (through git, project/commands.py)
with tools/readings.py's rules: a problem in the current run's files is the report's failure (one
UserError line naming the file and the key); a problem in the base's is a failed gate, said in the
report, and nothing is compared with that base. tools/comment.py turns the Findings into Markdown.
"""

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from project.commands import dvc_json, file_at, git
from project.errors import UserError
from tools import gates as gate_rules
from tools.changes import leader, leaderboard, paired_moves, same_test_rows
from tools.readings import MAX_JSON_BYTES, read_loss, read_predictions, read_scores, worst_predictions

EVALUATE_METRICS = "metrics/evaluate.json"
CV_METRICS = "metrics/cv.json"
FIT_METRICS = "metrics/fit.json"
PREDICTIONS = "plots/evaluate/predictions.csv"
LOSS = "plots/evaluate/loss.csv"  # the training-loss curves the evaluate stage writes
MAX_CSV_BYTES = 256 << 20  # a test split of 100,000 rows and 64 models is about 200 MB


@dataclass(kw_only=True)
class Findings:
    """Everything the report says: data, not yet Markdown. Built by keyword, in ``gather`` (or a test)."""
    base_name: str  # the base as the user named it (shown as data)
    revision: str  # its commit
    params_diff: dict  # `dvc params diff --json`
    metrics_diff: dict  # `dvc metrics diff --json`
    board: list  # tools/changes.leaderboard's rows
    gates: list  # [(passed: True, False or None for skipped, line)] from tools/gates.py
    gate_settings: dict  # params.yaml's gates (regression_tolerance, exempt, ...)
    worst: list  # the leader's worst test predictions: [(row, actual, predicted)]
    settings: dict  # resamples, seed, confidence
    folds: int
    has_base: bool  # the base has test scores to compare with
    pairing: str  # "paired", "not paired" or "no base predictions"
    colors: dict  # {model: colour}, in models.yaml's order
    baseline: str = None  # models.yaml's roles (None: it names none)
    reference: str = None
    pictures: list = field(default_factory=list)  # [tools/pictures.Picture]
    pictures_at: str = "report/report-pictures"
    loss: dict = field(default_factory=dict)  # {model: (unit, iterations, losses)} now
    base_loss: dict = field(default_factory=dict)  # the same at the base
    fits: dict = field(default_factory=dict)  # metrics/fit.json's details.fit: {model: {n_iter, converged, ...}}


# ---- the files, now and at the base ------------------------------------------------------------

def current_bytes(path, limit, required=False):
    """The bytes of ``path`` in the workspace, or None where it does not exist (UserError if ``required``);
    a pipe, a device or a file above ``limit`` bytes is refused before it is read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if required:
            raise UserError(f"{path}: not found; run `dvc repro` first") from None
        return None
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: is not a regular file; run `dvc repro`")
    if info.st_size > limit:
        raise UserError(f"{path}: {info.st_size:,} bytes, more than the {limit:,} the report reads; run `dvc repro`")
    return Path(path).read_bytes()


def base_bytes(revision, path, limit):
    """The bytes of ``path`` at ``revision``, or None where it did not exist; above ``limit``: UserError."""
    size = git("cat-file", "-s", f"{revision}:{path}", check=False).strip()
    if not size.isdigit():
        return None
    if int(size) > limit:
        raise UserError(f"{at_base(path, revision)}: {int(size):,} bytes, more than the {limit:,} the "
                        "report reads")
    return file_at(revision, path)


def at_base(path, revision):
    """How a message names a file at the base: by its commit, never by the name a person gave it."""
    return f"{path} at the base ({revision[:7]})"


def base_scores(revision, names):
    """(the base's test scores or None, why they cannot be read or None)."""
    source = at_base(EVALUATE_METRICS, revision)
    try:
        data = base_bytes(revision, EVALUATE_METRICS, MAX_JSON_BYTES)
        return (None if data is None else read_scores(data, source, "test", names)), None
    except UserError as error:
        return None, str(error)


# ---- everything, in one place ----------------------------------------------------------------

def now(read, *args):
    """``read(*args)`` of a file of the current run: a problem is the report's, with the way to mend it."""
    try:
        return read(*args)
    except UserError as error:
        raise UserError(f"{error}; rerun `dvc repro`") from None


def gather(base_name, revision, registry, params, colors):
    """The Findings of the workspace against ``revision`` (pictures not drawn yet), and its Predictions."""
    names = list(registry.entries)
    settings = {"resamples": params["evaluate"]["bootstrap"], "seed": params["seed"],
                "confidence": params["evaluate"]["confidence"]}
    evaluate = current_bytes(EVALUATE_METRICS, MAX_JSON_BYTES, required=True)
    predicted = current_bytes(PREDICTIONS, MAX_CSV_BYTES, required=True)
    current = now(read_scores, evaluate, EVALUATE_METRICS, "test", names)
    base, base_problem = base_scores(revision, names)
    cv_bytes, fit_bytes = current_bytes(CV_METRICS, MAX_JSON_BYTES), current_bytes(FIT_METRICS, MAX_JSON_BYTES)
    cv = now(read_scores, cv_bytes, CV_METRICS, "cv", names) if cv_bytes is not None else None
    fits = now(read_scores, fit_bytes, FIT_METRICS, "fit", names) if fit_bytes is not None else {}

    predictions = now(read_predictions, predicted, PREDICTIONS)
    base_predicted = base_bytes(revision, PREDICTIONS, MAX_CSV_BYTES) if base is not None else None
    base_predictions = (read_predictions(base_predicted, at_base(PREDICTIONS, revision))
                        if base_predicted is not None else None)
    pairing = ("no base predictions" if base_predictions is None
               else "paired" if same_test_rows(base_predictions, predictions) else "not paired")
    moves = paired_moves(base_predictions, predictions, current, base, settings, names)

    board = leaderboard(names, current, base, cv, moves, baseline=registry.baseline)
    if not board:
        raise UserError(f"{EVALUATE_METRICS}: holds none of the models of models.yaml; run `dvc repro`")
    loss_bytes = current_bytes(LOSS, MAX_CSV_BYTES)
    base_loss_bytes = base_bytes(revision, LOSS, MAX_CSV_BYTES)
    found = Findings(
        base_name=base_name, revision=revision,
        params_diff=dvc_json("params", "diff", revision), metrics_diff=dvc_json("metrics", "diff", revision),
        board=board, gate_settings=params["gates"],
        gates=gate_rules.gate_results(registry, current, base, params["gates"], settings["confidence"],
                                      EVALUATE_METRICS, at_base(EVALUATE_METRICS, revision), base_problem),
        worst=worst_predictions(predictions, leader(board, registry.baseline)),
        settings=settings, folds=params["cv"]["folds"], has_base=base is not None, pairing=pairing, colors=colors,
        baseline=registry.baseline, reference=registry.reference, fits=fits,
        loss=now(read_loss, loss_bytes, LOSS) if loss_bytes is not None else {},
        base_loss=(read_loss(base_loss_bytes, at_base(LOSS, revision))
                   if base_loss_bytes is not None else {}))
    return found, predictions


def with_pictures(found, pictures, pictures_at):
    return dataclasses.replace(found, pictures=pictures, pictures_at=pictures_at)
