"""A fitted model's folder, models/<name>/: what `fit@<name>` writes and `evaluate` reads, declared once.

    model.npz   the fitted parameters (``to_dict()``), exact, binary, never pickled (project/npz.py)
    seeds.npz   the same for each further seed, as members "<seed>/<key>" (a seeded model, seeds > 1)
    cv.json     the cross-validation on the training split: CV_KEYS, and sampled_rows on a large split
    fit.json    what the fit says about itself: train_mse (train_mse_sampled_rows on a large split) and
                the model's ``fit_facts()`` (fromzero/base.py FIT_FACTS)
    curve.csv   an iterative model's training loss: "step" or "trial" (its abilities.iteration), "loss"

``write`` builds the folder beside its place and renames it in, so it appears whole or not at all.
``read`` holds every file to what ``write`` writes (names, keys, types, finite numbers, sizes) and
rebuilds the model with ``from_dict``: a file edited by hand is one UserError naming it and the
command that writes it again.
"""

import csv
import itertools
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fromzero.base import FIT_FACTS
from project.errors import UserError
from project.files import NotOurJSON, read_json, write_json
from project.npz import NotOurArchive, read_npz, write_npz

CV_KEYS = ("mse_mean", "mse_std", "mse_min", "mse_max")
CURVE_POINTS = 2000  # a loss curve is plot data: longer histories are thinned evenly (first and last kept)
CURVE_DIGITS = 8
MAX_SMALL_BYTES = 64 << 10  # cv.json, fit.json
MAX_SEEDS = 100  # params.yaml's seeds, at most
FACT_NAME_LIMIT = 40


@dataclass
class FittedModel:
    name: str
    model: object  # a fitted fromzero.base.Estimator
    cv: dict  # {mse_mean, mse_std, mse_min, mse_max[, sampled_rows]}
    fit: dict  # {train_mse[, train_mse_sampled_rows], **fit_facts()}
    seeds: dict = field(default_factory=dict)  # {seed: fitted model}
    curve: tuple | None = None  # (unit, iterations (m,), losses (m,)), an iterative model's
    entry: object = None  # its models.yaml entry (project.models.ModelEntry), when read back

    def loss_curve(self):
        """(unit, iterations, losses) of the model's loss_history_, thinned to CURVE_POINTS; trial 1 first."""
        unit = self.model.abilities.iteration
        if not unit:
            return None
        losses = np.asarray(self.model.loss_history_, dtype=np.float64)
        steps = np.arange(len(losses))
        if len(losses) > CURVE_POINTS:
            steps = np.unique(np.linspace(0, len(losses) - 1, CURVE_POINTS).round().astype(np.int64))
        return unit, steps + (1 if unit == "trial" else 0), losses[steps]


def write(folder, fitted):
    """Write ``fitted`` as the folder ``folder``: built beside it, then renamed into place (whole or not at all)."""
    folder, building, old = Path(folder), None, None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in folder.parent.glob(f".{folder.name}.*.tmp"):  # what a killed run left
            shutil.rmtree(stale, ignore_errors=True)
        building = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
        os.chmod(building, 0o777 & ~_umask())
        _write_npz(building / "model.npz", fitted.model.to_dict())
        if fitted.seeds:
            _write_npz(building / "seeds.npz", {f"{seed}/{key}": value for seed, model in fitted.seeds.items()
                                                for key, value in model.to_dict().items()})
        write_json(building / "cv.json", fitted.cv)
        write_json(building / "fit.json", fitted.fit)
        curve = fitted.curve or fitted.loss_curve()
        if curve is not None:
            _write_curve(building / "curve.csv", *curve)
        if folder.exists():
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
            os.replace(folder, old / "old")
        os.replace(building, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        if old is not None and (old / "old").exists() and not folder.exists():
            os.replace(old / "old", folder)  # the rename in failed: the old folder goes back
        raise UserError(f"{folder}: cannot be written ({error.strerror or error})") from None
    finally:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_npz(path, arrays):
    with open(path, "wb") as handle:
        write_npz(handle, arrays)
    os.chmod(path, 0o666 & ~_umask())


def _write_curve(path, unit, iterations, losses):
    losses = np.asarray(losses, dtype=np.float64)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(f"{unit},loss\n")
        handle.writelines(f"{int(i)},{float(loss):.{CURVE_DIGITS}g}\n" for i, loss in zip(iterations, losses))
    os.chmod(path, 0o666 & ~_umask())


def model_bytes_limit(n_rows, n_features):
    """The most a model file of a fit on this data may hold: its training rows twice over, and 64 MiB."""
    return 16 * (n_rows + 1) * (n_features + 2) + (64 << 20)


def read(folder, entry, n_rows, n_features):
    """The FittedModel in ``folder`` for the models.yaml entry ``entry``, fitted on ``n_rows`` × ``n_features``."""
    return _Reader(Path(folder), entry, model_bytes_limit(n_rows, n_features)).read()


class _Reader:
    def __init__(self, folder, entry, max_bytes):
        self.folder, self.entry, self.max_bytes = folder, entry, max_bytes

    def broken(self, file, problem):
        return UserError(f"{self.folder / file}: {problem}; rerun `dvc repro -f fit@{self.entry.name}`")

    def read(self):
        if not self.folder.is_dir():
            raise UserError(f"{self.folder}: not found; run `dvc repro fit@{self.entry.name}` first")
        model = self.rebuild("model.npz", self.arrays("model.npz"))
        seeds = {}
        if (self.folder / "seeds.npz").exists():
            grouped = {}
            for key, value in self.arrays("seeds.npz", self.max_bytes * MAX_SEEDS).items():
                seed, _, name = key.partition("/")
                if not (seed.isdigit() and seed.isascii() and name):
                    raise self.broken("seeds.npz", f"holds {key[:60]!r}, not <seed>/<parameter>")
                grouped.setdefault(int(seed), {})[name] = value
            if len(grouped) >= MAX_SEEDS:
                raise self.broken("seeds.npz", f"holds more than the {MAX_SEEDS - 1} further seeds a fit writes")
            seeds = {seed: self.rebuild("seeds.npz", params) for seed, params in sorted(grouped.items())}
        for seed, other in seeds.items():
            if other.n_features_in_ != model.n_features_in_:
                raise self.broken("seeds.npz", f"seed {seed} was fitted on {other.n_features_in_} features, "
                                               f"model.npz on {model.n_features_in_}")
        cv = self.numbers("cv.json", {key: _score for key in CV_KEYS}, {"sampled_rows": _count})
        facts = {"train_mse": _score, "train_mse_sampled_rows": _count, **{key: _fact for key in FIT_FACTS}}
        fit = self.numbers("fit.json", {"train_mse": _score}, facts, open_keys=True)
        return FittedModel(self.entry.name, model, cv, fit, seeds, self.curve(model), self.entry)

    def arrays(self, file, max_bytes=None):
        path = self.folder / file
        if not path.is_file():
            raise self.broken(file, "is missing or not a file")
        try:
            return read_npz(path, max_bytes or self.max_bytes)
        except (NotOurArchive, OSError) as error:
            raise self.broken(file, f"not the model file the fit writes ({error})") from None

    def rebuild(self, file, params):
        try:
            model = self.entry.model_class.from_dict(params)
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
            raise self.broken(file, f"model {self.entry.name!r} cannot be rebuilt from it ({_short(error)})") from None
        if not isinstance(model, self.entry.model_class):
            raise self.broken(file, f"{self.entry.class_name}.from_dict did not return a {self.entry.class_name}")
        return model

    def numbers(self, file, required, known, open_keys=False):
        """A flat JSON object of the keys the fit writes there, each of its type."""
        try:
            data = read_json(self.folder / file, MAX_SMALL_BYTES)
        except FileNotFoundError:
            raise self.broken(file, "is missing") from None
        except (IsADirectoryError, UnicodeDecodeError, NotOurJSON, ValueError, RecursionError) as error:
            raise self.broken(file, f"not the JSON fit@{self.entry.name} writes ({_short(error)})") from None
        if not isinstance(data, dict):
            raise self.broken(file, "is not a JSON object")
        checks = {**required, **known}
        for key, value in data.items():
            check = checks.get(key, _fact if open_keys and _fact_name(key) else None)
            if check is None:
                raise self.broken(file, f"has a key the fit never writes ({_short(key)}); it writes {', '.join(checks)}")
            if not check(value):
                raise self.broken(file, f"{key} = {_short(value)} is not what the fit writes there")
        missing = [key for key in required if key not in data]
        if missing:
            raise self.broken(file, f"has no {missing[0]}")
        return data

    def curve(self, model):
        path, unit = self.folder / "curve.csv", model.abilities.iteration
        if not unit:
            if path.exists():
                raise self.broken("curve.csv", f"a loss curve, which {self.entry.class_name} does not draw")
            return None
        if not path.is_file():
            raise self.broken("curve.csv", "is missing or not a file")
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = list(itertools.islice(csv.reader(handle), CURVE_POINTS + 3))
            if len(rows) > CURVE_POINTS + 2 or not rows or rows[0] != [unit, "loss"]:
                raise ValueError(f"expected the header {unit},loss and at most {CURVE_POINTS + 1} points")
            values = np.array(rows[1:], dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != 2 or not np.isfinite(values).all():
                raise ValueError("expected two columns of finite numbers")
            if (values[:, 0] != np.round(values[:, 0])).any() or (values[:, 0] < 0).any() \
                    or (np.diff(values[:, 0]) <= 0).any() or (values[:, 1] < 0).any():
                raise ValueError("expected whole, increasing iterations and losses >= 0")
        except (UnicodeDecodeError, csv.Error, ValueError, OSError) as error:
            raise self.broken("curve.csv", f"not the loss curve the fit writes ({_short(error)})") from None
        return unit, values[:, 0].astype(np.int64), values[:, 1]


def _score(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _fact(value):
    return isinstance(value, bool) or _score(value)


def _fact_name(key):
    return isinstance(key, str) and 0 < len(key) <= FACT_NAME_LIMIT and key.replace("_", "a").isalnum() \
        and key.isascii() and key[0].isalpha() and key.islower()


def check_facts(facts):
    """``fit_facts()`` as the fit writes it: {lower-case name: a number >= 0 or a boolean}; else ValueError."""
    if not isinstance(facts, dict):
        raise ValueError(f"fit_facts() returned {type(facts).__name__}, not a dict")
    for key, value in facts.items():
        if not _fact_name(key) or not _fact(value):
            raise ValueError(f"fit_facts() holds {_short(key)}: {_short(value)}; each must be a lower-case name and "
                             "a finite number >= 0 or true/false")
    return {key: value.item() if isinstance(value, np.generic) else value for key, value in facts.items()}


def _short(value, limit=80):
    """A value or an error, quoted and cut to ``limit`` characters (never a whole 1 GB line in a message)."""
    if isinstance(value, BaseException):
        text = str(value).splitlines()[0] if str(value) else type(value).__name__
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
