"""Atomic, reproducible writes: the old file or the new one, never half of either."""

import math

import matplotlib
import pytest

from project.files import round_significant, write_columns, write_json, write_text
from project.splits import read_columns
from stages.figures import save_figure

matplotlib.use("Agg")


def test_a_nan_is_refused_before_the_old_file_is_touched(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"gd": {"mse": 1.0}})
    before = target.read_bytes()
    with pytest.raises(ValueError, match="non-finite"):
        write_json(target, {"gd": {"mse": math.nan}})  # no NaN ever reaches a metrics file
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_json_is_stable_and_rounded(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1 / 3, "a": {"z": 123456.789, "y": True, "x": 7}})
    assert (tmp_path / "a.json").read_text() == (
        '{\n  "a": {\n    "x": 7,\n    "y": true,\n    "z": 123460.0\n  },\n  "b": 0.33333\n}\n')
    assert round_significant([2 / 3, 10]) == [0.66667, 10]


def test_the_same_figure_gives_the_same_bytes(tmp_path):
    import matplotlib.pyplot as plt

    for name in ("one.png", "two.png"):
        figure, axes = plt.subplots()
        axes.plot([0, 1, 2], [3, 1, 2])
        save_figure(figure, tmp_path / name)
    assert (tmp_path / "one.png").read_bytes() == (tmp_path / "two.png").read_bytes()


def test_loss_curve_keeps_its_ends_and_thins_long_runs(monkeypatch):
    import numpy as np

    from fromzero.gradient_descent import GradientDescentLinear
    from project import model_store

    model = GradientDescentLinear()
    model.loss_history_ = np.arange(10_001, dtype=float)
    monkeypatch.setattr(model_store, "CURVE_POINTS", 100)
    unit, steps, losses = model_store.FittedModel("gd", model, {}, {}).loss_curve()
    assert unit == "step" and len(steps) <= 100 and steps[0] == 0 and steps[-1] == 10_000
    np.testing.assert_array_equal(losses, steps)


def test_columns_round_trip_at_the_digits_asked(tmp_path):
    import numpy as np

    write_columns(tmp_path / "c.csv", {"step": np.arange(3), "loss": np.array([1 / 3, 2.0, 1e-9])}, digits=4)
    assert (tmp_path / "c.csv").read_text() == "step,loss\n0,0.3333\n1,2\n2,1e-09\n"
    assert read_columns(tmp_path / "c.csv", ["loss"]).tolist() == [[0.3333], [2.0], [1e-9]]


def test_a_stale_temporary_from_a_killed_run_is_removed_by_the_next_write(tmp_path):
    (tmp_path / ".m.json.abc123.tmp").write_text("")  # what SIGKILL mid-write leaves behind
    write_json(tmp_path / "m.json", {"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_write_text_creates_folders(tmp_path):
    write_text(tmp_path / "a" / "b" / "c.txt", "x\n")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x\n"


def test_an_error_halfway_through_a_write_keeps_the_old_file(tmp_path):
    from project.files import atomic_path

    target = tmp_path / "train.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            with open(temporary, "w") as handle:
                handle.write("half a ")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]
