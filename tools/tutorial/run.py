"""One run's outputs, read as the stages read them: what the page is made of, and nothing else.

Every file is read through the project's one reader for it (params through project/params.py, the
splits through project/splits.py, a model's folder through project/model_store.py, metrics strictly as
JSON), so a missing or hand-edited output is one line naming the file and the command that writes it.
The story's models are found by their class in models.yaml (the yardsticks by their roles there), so a
renamed entry still tells its step.
"""

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from project import model_store
from project.errors import UserError
from project.files import NotOurJSON, read_json
from project.models import read_models
from project.params import read_params
from project.splits import read_xy, split_header
from tools.results.data import read_data
from tools.results.runs import read_metrics

PARAMS, MODELS, LOCK = Path("params.yaml"), Path("models.yaml"), Path("dvc.lock")
TRAIN, TEST = Path("data/prepared/train.csv"), Path("data/prepared/test.csv")
FITTED, DATA_FACTS, RANKING = Path("models"), Path("metrics/data.json"), Path("plots/eda/ranking.csv")
RESULTS = Path("docs/results.json")
STEPS = {"knn": "KNearestNeighbors", "random_search": "RandomSearchLinear", "gd": "GradientDescentLinear",
         "net": "SigmoidNet"}  # the story's steps, by the class that tells each
ROLES = ("baseline", "reference", *STEPS)
FIRST_ROWS = 5
MAX_SMALL_BYTES = 1 << 20
MAX_RANKING_ROWS = 100_000


@dataclass
class Run:
    params: dict  # the validated params the page reads, nested
    names: dict  # {role: models.yaml name}: baseline, reference, knn, random_search, gd, net
    settings: dict  # {role: {argument: value}}: each model's settings as its fit got them
    keys: dict  # {role: {argument: params key}}: where each setting comes from ("knn.k", "lr")
    lock: str  # the run's fingerprint: the SHA-256 of dvc.lock's params and outputs
    columns: list  # the split's column names
    first_rows: list  # the first rows of the training split, as text cells
    train: tuple  # (X (n, 1), y (n,))
    test: tuple
    split: dict  # metrics/data.json's details.split
    ranking: list  # [(column, correlation or None, rank)] from plots/eda/ranking.csv
    scores: dict  # {model: metrics/evaluate.json's details.test.<model>}
    cv: dict  # {model: details.cv.<model>}
    fit: dict  # {model: details.fit.<model>}
    models: dict  # {role: project.model_store.FittedModel}
    results: dict | None  # docs/results.json, or None when there is none
    model_order: list  # models.yaml's names, in its order

    @property
    def feature(self):
        return self.params["data"]["features"][0]

    @property
    def target(self):
        return self.params["data"]["target"]

    def score(self, role):
        return self.scores[self.names[role]]


def story_entries(registry):
    """{role: models.yaml entry} of the models the story needs; UserError naming the one that is missing."""
    entries = {}
    for role in ("baseline", "reference"):
        name = getattr(registry, role)
        if name is None:
            raise UserError(f"{MODELS}: no `{role}:`; the tutorial's yardsticks are models.yaml's baseline and "
                            "reference (the training mean and least squares)")
        entries[role] = registry.entries[name]
    for role, class_name in STEPS.items():
        entry = next((entry for entry in registry if entry.class_name == class_name), None)
        if entry is None:
            raise UserError(f"{MODELS}: no model of class {class_name}; the tutorial's {role} step has nothing "
                            "to show (python -m tools.tutorial tells the story of models.yaml's six models)")
        entries[role] = entry
    return entries


def read_story_params(entries):
    """The params the page shows, validated as the stages validate them; one column only."""
    keys = ["seed", "seeds", "data", "cv", "evaluate"]
    for entry in entries.values():
        keys += [key for key in (*entry.section_keys, *entry.top_level_keys.values()) if key not in keys]
    params = read_params(PARAMS, keys=keys, entries=list(entries.values()))
    features = params["data"]["features"]
    if len(features) != 1:
        raise UserError(f"{PARAMS}: data.features = [{', '.join(features)}]: the tutorial is the story of one "
                        "column (rooms -> price); the runs on more columns are docs/results.md's "
                        "(python -m tools.results)")
    return params


def _json(path):
    try:
        return read_json(path, max_bytes=MAX_SMALL_BYTES)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run `dvc repro` first") from None
    except (NotOurJSON, ValueError, RecursionError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not what the pipeline writes ({error}); rerun `dvc repro`") from None


def _split_facts():
    document = _json(DATA_FACTS)
    split = document.get("details", {}).get("split") if isinstance(document, dict) else None
    wanted = ("rows", "train_rows", "test_rows", "lookup_miss", "lookup_dropped")
    if not isinstance(split, dict) or not all(isinstance(split.get(key), (int, float)) for key in wanted):
        raise UserError(f"{DATA_FACTS}: expected details.split with {', '.join(wanted)}; rerun `dvc repro load`")
    return split


def _ranking():
    """[(column, correlation or None, rank)], as the eda stage ranks them."""
    try:
        with open(RANKING, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise UserError(f"{RANKING}: not found; run `dvc repro eda` first") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{RANKING}: cannot be read ({error}); rerun `dvc repro eda`") from None
    if not rows or rows[0] != ["feature", "correlation", "rank"] or len(rows) > MAX_RANKING_ROWS:
        raise UserError(f"{RANKING}: not the ranking the eda stage writes; rerun `dvc repro eda`")
    ranking = []
    try:
        for name, correlation, rank in rows[1:]:
            value = float(correlation) if correlation else None
            if value is not None and not math.isfinite(value):
                raise ValueError(correlation)
            ranking.append((name, value, int(rank)))
    except ValueError:
        raise UserError(f"{RANKING}: not the ranking the eda stage writes; rerun `dvc repro eda`") from None
    return ranking


def _first_rows(path, count):
    columns = split_header(path)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [row for _, row in zip(range(count), reader)]
    if any(len(row) != len(columns) for row in rows):
        raise UserError(f"{path}: a row of another width than its header; rerun `dvc repro -f load`")
    return columns, rows


def _lock_hash():
    """A fingerprint of the run: the SHA-256 of what dvc.lock records of each stage's params and outputs (their
    md5s), not of its code: an edit that leaves every output the same leaves the page describing the run."""
    import json

    from project.yamlfile import read_yaml

    if not LOCK.is_file():
        raise UserError(f"{LOCK}: not found; the page names its run by it: run `dvc repro` first")
    stages = (read_yaml(LOCK) or {}).get("stages") or {}
    run = {name: {"params": stage.get("params"), "outs": [(out.get("path"), out.get("md5")) for out in
                                                         stage.get("outs") or []]}
           for name, stage in sorted(stages.items()) if isinstance(stage, dict)}
    return hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()


def read_run():
    """The Run in the current directory (a checkout of the project after `dvc repro`)."""
    registry = read_models(MODELS)
    entries = story_entries(registry)
    params = read_story_params(entries)
    features, target = params["data"]["features"], params["data"]["target"]
    train, test = read_xy(TRAIN, features, target), read_xy(TEST, features, target)
    columns, first_rows = _first_rows(TRAIN, FIRST_ROWS)
    metrics = read_metrics(Path("."))
    missing = [entry.name for entry in entries.values() if entry.name not in metrics["test"]]
    if missing:
        raise UserError(f"metrics/evaluate.json: no scores for {', '.join(missing)}; rerun `dvc repro`")
    models = {role: model_store.read(FITTED / entry.name, entry, len(train[1]), 1) for role, entry in entries.items()}
    settings = {role: entry.build(params).get_params() for role, entry in entries.items()}
    keys = {role: {argument: entry.key_of(argument) for argument in settings[role]} for role, entry in entries.items()}
    return Run(params=params, names={role: entry.name for role, entry in entries.items()}, settings=settings,
               keys=keys, lock=_lock_hash(), columns=columns, first_rows=first_rows, train=train, test=test,
               split=_split_facts(), ranking=_ranking(), scores=metrics["test"], cv=metrics["cv"],
               fit=metrics["fit"], models=models, results=read_data(RESULTS) if RESULTS.exists() else None,
               model_order=list(registry.entries))
