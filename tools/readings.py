"""What the report reads from the pipeline's files, now and at the base, read as strictly as a stage reads.

    scores = read_scores(data, "metrics/evaluate.json at main", "test", names)   # {model: {key: number}}

The base revision's files are read by the same rules as the current run's: a NaN, an infinity, a
negative MSE, ``true`` where a number belongs, a text, a list or a file nested a thousand levels deep
is one ``UserError`` naming the file (and the revision) and the key, never a number that passes a
gate nor a traceback. A file that is too large is refused before it is parsed. tools/report.py
decides what a problem means: the current run's is the report's failure; the base's, a failed gate.
"""

import json
import math
import re
from dataclasses import dataclass

from project.errors import UserError
from project.yamlfile import shown

MAX_JSON_BYTES = 8 << 20  # metrics/evaluate.json is a few KB; 64 models of every score, well under 1 MB
MAX_DEPTH = 16  # {"details": {"test": {model: {key: number}}}} is four levels
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


class _NonFinite(float):
    """NaN or Infinity as JSON (not) writes them: kept, so the check names its key."""

    def __new__(cls, name):
        number = super().__new__(cls, float(name.replace("Infinity", "inf")))
        number.name = name
        return number

    def __repr__(self):
        return self.name


def _unique(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise UserError(f"key {shown(key)} appears twice")
        seen[key] = value
    return seen


def _too_deep(data):
    """The dotted path where ``data`` (JSON bytes) nests deeper than MAX_DEPTH, or None; read without parsing."""
    path, key = [], None  # the key that led into each open container
    for token in _TOKENS.finditer(data):
        text = token.group()
        if text in (b"{", b"["):
            path.append(key)
            key = None
            if len(path) > MAX_DEPTH:
                return ".".join(str(part) for part in path if part is not None) or "the document"
        elif text in (b"}", b"]"):
            if path:
                path.pop()
            key = None
        elif text.startswith(b'"'):
            try:
                key = json.loads(text)
            except ValueError:
                key = "?"
    return None


def load_json(data, source):
    """The JSON document in ``data`` (bytes), NaN and Infinity kept as markers for ``check``; UserError
    naming ``source`` for bytes that are too many, not UTF-8, not JSON, nested too deep or with a key twice."""
    if len(data) > MAX_JSON_BYTES:
        raise UserError(f"{source}: {len(data):,} bytes, more than the {MAX_JSON_BYTES >> 20} MiB a metrics file may "
                        "have")
    deep = _too_deep(data)
    if deep is not None:
        raise UserError(f"{source}: {deep} is nested more than {MAX_DEPTH} levels deep; a metrics file the "
                        "pipeline writes is four")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_NonFinite, object_pairs_hook=_unique)
    except UnicodeDecodeError as error:
        raise UserError(f"{source}: not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{source}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except UserError as error:
        raise UserError(f"{source}: {error}") from None
    except RecursionError:
        raise UserError(f"{source}: nested too deep to read") from None


# What each score may be: the stages write finite numbers only, and these rules besides.
NON_NEGATIVE = {"mse", "rmse", "mae", "mse_low", "mse_high", "mse_seeds_min", "mse_seeds_max", "mse_seeds_median",
                "mse_mean", "mse_std", "mse_min", "mse_max", "train_mse"}
WHOLE = {"seeds", "n_iter", "steps_needed", "best_trial"}
FLAGS = {"converged"}
REQUIRED = {"test": ("mse", "rmse"), "cv": (), "fit": ()}


def as_json(value, limit=60):
    """A value as the file wrote it (``true``, ``null``, ``NaN``), cut to ``limit`` characters."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return shown(value, limit)


def check_score(key, value, where):
    """``value`` of the score ``key`` as the stage writes it, or UserError naming ``where`` (file: dotted key)."""
    if key in FLAGS:
        if isinstance(value, bool):
            return value
        raise UserError(f"{where} = {as_json(value)} is not true or false")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {bool: "true or false", str: "a text", list: "a list", dict: "a mapping"}.get(type(value), "null")
        raise UserError(f"{where} = {as_json(value)} is {kind}, not a number")
    if not math.isfinite(value):
        raise UserError(f"{where} = {as_json(value)} is not a finite number (no stage writes NaN or infinity)")
    if key in NON_NEGATIVE and value < 0:
        raise UserError(f"{where} = {as_json(value)} is negative; a mean of squares or an error is at least 0")
    if key in WHOLE and (value != int(value) or value < 0):
        raise UserError(f"{where} = {as_json(value)} is not a whole number")
    return value


def details(metrics, kind, source):
    """{model: {...}} of a metrics file the stages write ({"details": {kind: ...}}; revisions before the
    `details` layout wrote the models at the top)."""
    if not isinstance(metrics, dict):
        raise UserError(f"{source}: holds {type(metrics).__name__}, not the mapping the pipeline writes")
    if "details" not in metrics:
        return metrics
    if not isinstance(metrics["details"], dict):
        raise UserError(f"{source}: details = {shown(metrics['details'], 60)} is not a mapping")
    found = metrics["details"].get(kind, {})
    if not isinstance(found, dict):
        raise UserError(f"{source}: details.{kind} = {shown(found, 60)} is not a mapping of models")
    return found


def read_scores(data, source, kind, names):
    """{model: {key: number}} of the models ``names`` in a metrics file (``data``: its bytes), checked."""
    metrics = load_json(data, source)
    models = details(metrics, kind, source)
    prefix = f"details.{kind}." if models is not metrics else ""
    checked = {}
    for model in names:
        if model not in models:
            continue
        entry, where = models[model], f"{source}: {prefix}{model}"
        if not isinstance(entry, dict):
            raise UserError(f"{where} = {as_json(entry)} is not a mapping of scores")
        for key in REQUIRED[kind]:
            if key not in entry:
                raise UserError(f"{where} has no {key!r}")
        checked[model] = {key: check_score(key, value, f"{where}.{key}") for key, value in entry.items()}
    return checked


# ---- the test predictions: row, actual, and each model's prediction ------------------------------

@dataclass(frozen=True, eq=False)
class Predictions:
    """The test rows (ascending), their actual values, and each model's predictions of them (arrays).

    A model may be called anything, `actual` and `row` too: models are keys here, never columns.
    """
    rows: object  # numpy array
    actual: object
    models: dict  # {model: array of predictions, one per row (NaN where the file has none)}


def read_predictions(data, source):
    """Predictions from predictions.csv bytes: long (model, row, actual, predicted), or the wide layout
    of older revisions (row, actual, one column per model). UserError naming ``source`` and the line."""
    import io

    import numpy as np
    import pandas as pd

    try:
        table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise UserError(f"{source}: is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{source}: not the predictions `evaluate` writes ({' '.join(str(error).split())[:200]})") \
            from None

    def numbers(column):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise UserError(f"{source}: line {bad[0] + 2}, column {shown(column, 40)}: "
                            f"{shown(table[column].iloc[bad[0]], 40)} is not a finite number")
        return values

    columns = list(table.columns)
    if sorted(columns) == ["actual", "model", "predicted", "row"]:
        models, rows, actual, predicted = table["model"].to_numpy(), numbers("row"), numbers("actual"), \
            numbers("predicted")
        twice = np.flatnonzero(pd.DataFrame({"model": models, "row": rows}).duplicated().to_numpy())
        if twice.size:
            raise UserError(f"{source}: line {twice[0] + 2}: model {shown(models[twice[0]], 40)} predicts row "
                            f"{rows[twice[0]]:g} twice")
        unique_rows, at = np.unique(rows, return_inverse=True)
        by_row = np.full(len(unique_rows), np.nan)
        by_row[at] = actual
        by_model = {}
        for model in dict.fromkeys(models):
            chosen = models == model
            by_model[model] = np.full(len(unique_rows), np.nan)
            by_model[model][at[chosen]] = predicted[chosen]
        return Predictions(unique_rows, by_row, by_model)
    if "actual" not in columns:
        raise UserError(f"{source}: its header {shown(columns, 80)} is not the predictions `evaluate` writes")
    rows = numbers("row") if "row" in columns else np.arange(len(table), dtype=float)
    return Predictions(rows, numbers("actual"),
                       {model: numbers(model) for model in columns if model not in ("row", "actual")})


def worst_predictions(predictions, model, count=5):
    """[(row, actual, predicted)] of ``model``'s ``count`` largest test errors, largest first."""
    import numpy as np

    if predictions is None or model not in predictions.models:
        return []
    predicted = predictions.models[model]
    with np.errstate(all="ignore"):
        errors = np.abs(predicted - predictions.actual)
    order = [i for i in np.argsort(-errors, kind="stable") if np.isfinite(errors[i])][:count]
    return [(float(predictions.rows[i]), float(predictions.actual[i]), float(predicted[i])) for i in order]


def read_loss(data, source):
    """{model: (unit, iterations, losses)} from loss.csv bytes (long: model, iteration, unit, loss), each
    curve sorted by iteration; {} for an empty file or one without those columns; UserError naming
    ``source`` for one that is not CSV."""
    import io

    import numpy as np
    import pandas as pd

    try:
        table = pd.read_csv(io.BytesIO(data), dtype={"model": str, "unit": str})
    except pd.errors.EmptyDataError:
        return {}
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{source}: not the loss curves `evaluate` writes ({' '.join(str(error).split())[:200]})") \
            from None
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
