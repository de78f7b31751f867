"""Every bound covers every path (issue 19, item 2), as a table: each configuration that would run beyond a
stage's limits (params.yaml's `limits`: memory and minutes, stages/bounds.py) is refused before any work, in
one line naming the key, its value, what it would need and the most that fits, by the real stage on
synthetic data.

The work is priced by each class's ``cost()``, measured on this machine; each row sets its limits in
params.yaml (1 GiB unless it says otherwise), so the table holds on any machine, and a row with small
limits stands for a larger split on the real ones (the same code path, the same message).
"""

import shutil

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, model_names, only_error_line, stage_commands

FEATURES = [f"X{i}" for i in range(1, 13)]


class Scratch:
    """A folder with params.yaml, models.yaml and train/test splits of synthetic rows (target y)."""

    def __init__(self, root):
        self.root = root
        self.params = yaml.safe_load((ROOT / "params.yaml").read_text())
        shutil.copy(ROOT / "models.yaml", root / "models.yaml")

    def split(self, name, rows, features, seed):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(rows, features)).round(3)
        y = (X @ np.linspace(1, 2, features) + rng.normal(size=rows)).round(3)
        (self.root / "data/prepared").mkdir(parents=True, exist_ok=True)
        header = ",".join([*FEATURES[:features], "y"])
        np.savetxt(self.root / f"data/prepared/{name}.csv", np.column_stack([X, y]), fmt="%.3f", delimiter=",",
                   header=header, comments="")

    def set(self, changes, features):
        self.params["data"].update(target="y", features=FEATURES[:features])
        for key, value in changes.items():
            *sections, leaf = key.split(".")
            node = self.params
            for section in sections:
                node = node[section]
            node[leaf] = value
        (self.root / "params.yaml").write_text(yaml.safe_dump(self.params, sort_keys=False))

    def run(self, stage):
        import importlib

        module, argv = stage_commands()[stage]
        return importlib.import_module(module).main(["--params", str(self.root / "params.yaml"), *argv])


# (id, stage, training rows, features, params changes, limits scaled to (bytes, seconds) or None, key words)
BOUNDS = [
    ("autodiff at 10^6 steps", "fit@net", 404, 1, {"net.steps": 10**6, "net.gradients": "autodiff"}, None,
     ["params.yaml: net.steps = 1000000 with net.gradients = 'autodiff' is too large for 404 training rows × 1 "
      "feature (10 fits: the model, 4 more seeds, 5 folds): it would need about", "minutes (the limit is 10, "
      "limits.minutes); at most"]),
    ("autodiff at 10^6 steps, one seed, two folds", "fit@net", 404, 1,
     {"net.steps": 10**6, "net.gradients": "autodiff", "seeds": 1, "cv.folds": 2}, None,
     ["net.steps = 1000000 with net.gradients = 'autodiff' is too large for 404 training rows × 1 feature "
      "(3 fits: the model, 0 more seeds, 2 folds)"]),
    ("a batch of 10^9 rows on 400,000", "fit@net", 400_000, 1, {"net.batch_size": 10**9}, None,
     ["params.yaml: net.batch_size = 1000000000 is too large for 400000 training rows × 1 feature", "minutes",
      "at most"]),
    ("100 seeds of 10^5 steps", "fit@net", 404, 1, {"seeds": 100, "net.steps": 100_000}, None,
     ["net.steps = 100000 is too large for 404 training rows × 1 feature (105 fits: the model, 99 more seeds, "
      "5 folds)", "(or keep net.steps and set seeds: 1)"]),
    ("L-BFGS on autodiff's graph of 600,000 rows", "fit@net", 600_000, 1,
     {"net.optimizer": "lbfgs", "net.gradients": "autodiff", "net.steps": 10}, None,
     ["net.hidden = 4 with net.gradients = 'autodiff', net.optimizer = 'lbfgs' is too large for 600000 training "
      "rows × 1 feature", "GiB of memory (the limit is 1 GiB (limits.memory_gib)); at most 3 on this data"]),
    ("a million hidden units' worth of rows", "fit@net", 400_000, 1, {"net.hidden": 10_000, "net.steps": 1}, None,
     ["net.hidden = 10000 is too large for 400000 training rows × 1 feature", "GiB of memory", "at most"]),
    ("10^9 random trials on the Boston rows", "fit@random_search", 404, 1, {"random_search.trials": 10**9}, None,
     ["random_search.trials = 1000000000 is too large for 404 training rows × 1 feature", "minutes", "at most"]),
    ("a million hidden units on the Boston rows", "fit@net", 404, 1, {"net.hidden": 10**6}, None,
     ["net.hidden = 1000000 is too large for 404 training rows", "GiB of memory", "at most"]),
    ("10^9 net steps", "fit@net", 404, 1, {"net.steps": 10**9}, None,
     ["net.steps = 1000000000 is too large for 404 training rows", "minutes", "at most"]),
    ("10^8 gd steps", "fit@gd", 404, 1, {"gd.steps": 10**8}, None,
     ["gd.steps = 100000000 is too large for 404 training rows", "minutes", "at most"]),
    ("10^7 random trials on 10^5 rows", "fit@random_search", 100_000, 1, {"random_search.trials": 10**7}, None,
     ["random_search.trials = 10000000 is too large for 100000 training rows × 1 feature", "at most"]),
    ("knn keeping 480,000 rows × 12 features in 0.1 GiB", "fit@knn", 480_000, 12, {"limits.memory_gib": 0.1}, None,
     ["data/prepared/train.csv: 480000 training rows × 12 features (6 fits: the model, 0 more seeds, 5 folds) are "
      "too many for knn at any knn.k: it would need about", "GiB of memory (the limit is 0.1 GiB (limits.memory_gib));"
      " at most 205,796 training rows fit (a sample of data.csv, or fewer data.features)", "leave knn out of "
      "models.yaml"]),
    ("knn, k = 50, its neighbour search in evaluate, in 2 s", "evaluate", 20_000, 12,
     {"knn.k": 50, "limits.minutes": 2 / 60}, None,
     ["params.yaml: knn.k = 50 is too large for knn's 6200 predictions here (the 5000 test rows, the "
      "response curves), fitted on 20000 rows × 12 features", "; at most 13 on this data"]),
    ("10^5 bootstrap resamples of 50,000 test rows", "evaluate", 2_000, 1, {"evaluate.bootstrap": 10**5}, None,
     ["params.yaml: evaluate.bootstrap = 100000 is too large for 50000 test rows × "
      f"{2 * len(model_names()) - 1} intervals", "minutes",  # two a model (its MSE, its difference), the reference's one
      "at most"]),
]


@pytest.mark.parametrize("stage, rows, features, changes, scaled, words",
                         [pytest.param(*case[1:], id=case[0]) for case in BOUNDS])
def test_work_beyond_a_stage_limit_is_refused_before_it_runs(tmp_path, monkeypatch, capsys, stage, rows, features,
                                                            changes, scaled, words):
    import time

    monkeypatch.chdir(tmp_path)
    scratch = Scratch(tmp_path)
    if stage == "evaluate":  # every model fitted (the real fit stage) on a small split, then the split swapped
        scratch.split("train", 300, features, 1)
        scratch.set({key: value for key, value in changes.items() if key.split(".")[0] not in ("evaluate", "limits")},
                    features)
        for name in yaml.safe_load((ROOT / "models.yaml").read_text())["models"]:  # on the default limits
            assert scratch.run(f"fit@{name}") == 0, name
        test_rows = 50_000 if "evaluate.bootstrap" in changes else 5_000
        scratch.split("test", test_rows, features, 2)
    scratch.split("train", rows, features, 1)
    scratch.set({"limits.memory_gib": 1, **changes}, features)
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    capsys.readouterr()
    start = time.monotonic()
    assert scratch.run(stage) == 1
    assert time.monotonic() - start < 20, "refused only after the work"
    line = only_error_line(capsys)
    assert line.startswith(f"error: {stage}: "), line
    for word in words:
        assert word in line, (word, line)
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before  # nothing written


def test_the_defaults_on_the_bundled_data_are_far_within_every_bound():
    from project.models import read_models
    from project.params import read_params
    from stages.fit import plan

    registry = read_models(ROOT / "models.yaml")
    keys = ["seed", "seeds", "cv.folds", *dict.fromkeys(key for entry in registry for key in entry.params)]
    params = read_params(ROOT / "params.yaml", keys=keys, entries=list(registry))
    for entry in registry:
        model = entry.build(params)
        seeds = params["seeds"] - 1 if "seed" in model.get_params() else 0
        cost = plan(404, 1, seeds, params["cv"]["folds"]).cost(model)
        assert cost is None or (cost[0] < 2**28 and cost[1] < 60), entry.name


def test_the_automatic_memory_limit_is_half_of_what_the_machine_has_available(monkeypatch):
    from stages import bounds

    monkeypatch.setattr(bounds, "available_bytes", lambda: 24.0 * 2**30)
    limits = bounds.read_limits({"limits": {"memory_gib": "auto", "minutes": 10}})
    assert limits.bytes == 12.0 * 2**30 and limits.seconds == 600.0
    assert "12 GiB (limits.memory_gib: auto, half of what this machine has available)" == limits.memory_said
    assert bounds.read_limits({"limits": {"memory_gib": 2}}).bytes == 2 * 2**30
    assert bounds.available_bytes() > 0  # read from /proc/meminfo here
