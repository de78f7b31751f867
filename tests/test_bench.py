"""Issue 24: models stored in a format that scales, and never unpickled; the benchmark's own bookkeeping.

Not timed (timings live in bench/, never in a test). The contract's per-class round trip is in
tests/test_contract.py; here the whole model folder (models/<name>/, seeds included) goes through
project/model_store.py as fit writes it and evaluate reads it, and the .npz reader is held to never
reaching pickle, whatever the file says.
"""

import ast
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from project import model_store
from project.models import read_models
from project.npz import NotOurArchive, npz_bytes, read_npz, write_npz

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = read_models(ROOT / "models.yaml")


def data(rows=300, features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).round(3)
    return X, (X @ np.arange(1, features + 1) + rng.normal(scale=0.5, size=rows)).round(2)


def small(entry, **overrides):
    """The entry's model with small settings (a few steps or trials): the test is about storage, not fitting."""
    settings = {"steps": 50, "trials": 20}
    names = entry.model_class._param_names()
    return entry.model_class(**{key: value for key, value in {**settings, **overrides}.items() if key in names})


@pytest.mark.parametrize("entry", list(REGISTRY), ids=lambda entry: entry.name)
def test_a_model_folder_written_and_read_back_predicts_the_same_bytes(tmp_path, entry):
    X, y = data()
    model = small(entry).fit(X, y)
    seeded = "seed" in model.get_params()
    seeds = {7: small(entry, seed=7).fit(X, y)} if seeded else {}
    fitted = model_store.FittedModel(entry.name, model, {"mse_mean": 1.0, "mse_std": 0.1, "mse_min": 0.9,
                                                         "mse_max": 1.1}, {"train_mse": 1.0}, seeds)
    model_store.write(tmp_path / entry.name, fitted)
    assert (tmp_path / entry.name / "seeds.npz").exists() == seeded
    back = model_store.read(tmp_path / entry.name, entry, len(X), X.shape[1])
    queries = np.vstack([X[:50], data(50, seed=1)[0]])

    def stored(fitted_model):  # the model as its to_dict() keeps it (computed weights at 10 digits: portable)
        return entry.model_class.from_dict(fitted_model.to_dict()).predict(queries).tobytes()

    assert back.model.predict(queries).tobytes() == stored(model)
    for seed, other in seeds.items():
        assert back.seeds[seed].predict(queries).tobytes() == stored(other)
    # ... and written again from what was read, the files are the same bytes (what dvc.lock's hashes need).
    model_store.write(tmp_path / "again", back)
    for name in ("model.npz", "seeds.npz"):
        if (tmp_path / entry.name / name).exists():
            assert (tmp_path / "again" / name).read_bytes() == (tmp_path / entry.name / name).read_bytes()


def test_a_knn_model_file_costs_what_its_arrays_weigh(tmp_path):
    """The training rows as binary float64 (8 bytes a value), not as JSON text (about 19 bytes a value)."""
    entry = REGISTRY.entries["knn"]
    X, y = data(20_000, 12)
    fitted = model_store.FittedModel("knn", small(entry).fit(X, y), {"mse_mean": 1.0, "mse_std": 0.1, "mse_min": 0.9,
                                                                     "mse_max": 1.1}, {"train_mse": 1.0})
    model_store.write(tmp_path / "knn", fitted)
    size = (tmp_path / "knn" / "model.npz").stat().st_size
    assert 8 * X.size + 8 * len(y) <= size <= 8 * X.size + 8 * len(y) + 4096


class Tripwire:
    """An object whose unpickling would call ``trip`` (what a malicious model file would run)."""

    fired = []

    def __reduce__(self):
        return (Tripwire.fired.append, ("unpickled",))


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def archive(members, compress=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compress) as handle:
        for name, payload in members.items():
            handle.writestr(name, payload)
    return buffer.getvalue()


OBJECT_ARRAY = np.array([Tripwire(), 1], dtype=object)
HOSTILE = [
    ("an object array (a pickle inside)", archive({"X_train.npy": npy_bytes(OBJECT_ARRAY, allow_pickle=True)}),
     "only pickle could carry"),
    ("a pickle, not an .npy", archive({"X_train.npy": pickle.dumps(Tripwire())}), "not a .npy array"),
    ("a pickled file instead of an archive", pickle.dumps({"X_train": Tripwire()}), "not a .npz file"),
    ("a compressed member", archive({"k.npy": npy_bytes(np.zeros(1000))}, zipfile.ZIP_DEFLATED), "compressed"),
    ("a header that lies about its shape", archive({"k.npy": npy_bytes(np.zeros(4))[:-8]}), "header says"),
    ("a member that is no array", archive({"run.py": b"print(1)"}), "no array of a model"),
]


@pytest.mark.parametrize("payload, words", [pytest.param(*case[1:], id=case[0]) for case in HOSTILE])
def test_a_model_file_is_never_unpickled(tmp_path, payload, words):
    path = tmp_path / "model.npz"
    path.write_bytes(payload)
    Tripwire.fired.clear()
    with pytest.raises(NotOurArchive, match=words):
        read_npz(path, 1 << 20)
    assert Tripwire.fired == []


def test_what_the_pipeline_writes_any_npz_reader_reads_without_pickle(tmp_path):
    arrays = {"X_train": np.arange(12.0).reshape(4, 3), "k": 3, "flags": np.array([True, False])}
    (tmp_path / "m.npz").write_bytes(npz_bytes(arrays))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as loaded:
        assert sorted(loaded.files) == sorted(arrays)
        np.testing.assert_array_equal(loaded["X_train"], arrays["X_train"])
    with pytest.raises(TypeError):
        write_npz(io.BytesIO(), {"bad": OBJECT_ARRAY})


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            yield name, node


@pytest.mark.parametrize("folder", ["project", "stages", "fromzero", "tools"])
def test_no_model_file_is_read_with_pickle(folder):
    """Nothing the pipeline runs unpickles: no pickle.load(s), no np.load with allow_pickle true (or left to its
    default), no allow_pickle=True anywhere."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, node in calls(tree):
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            pickled = keywords.get("allow_pickle")
            if pickled is not None and not (isinstance(pickled, ast.Constant) and pickled.value is False):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: allow_pickle={ast.unparse(pickled)}")
            if name == "load" and isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) in ("np", "numpy") \
                    and pickled is None:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: np.load without allow_pickle=False")
            if name in ("loads", "load", "Unpickler") and isinstance(node.func, ast.Attribute) \
                    and ast.unparse(node.func.value) in ("pickle", "cPickle", "dill", "joblib"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}")
    assert found == []


KNN_PART = {"train_rows": 10, "queries": 5, "features": 2, "k": 3, "brute_force_flops": 200.0, "gemm_gflops": 1.0,
            "brute_force_floor_s": 0.0,
            "rows": {"fromzero KNearestNeighbors (k-d tree, float64)": {"seconds": 1.0, "build_s": 0.1, "same_answers": 1.0},
                     "scikit-learn KNeighborsRegressor brute (float64)": {"seconds": 2.0, "build_s": 0.0,
                                                                          "same_answers": 1.0}}}


def test_a_partial_bench_run_dates_only_the_part_it_measured(tmp_path, monkeypatch):
    """`python -m bench.run --only knn` keeps the other parts' results with their own dates and load."""
    import json

    from bench import run

    out = tmp_path / "results.json"
    earlier = {"date": "2020-01-01T00:00", "load_average_at_start": "9.9 / 9.9 / 9.9", "quick": False, "repeats": 3}
    out.write_text(json.dumps({"parts": {"knn": dict(earlier), "models": dict(earlier)}, "knn": KNN_PART}))
    monkeypatch.setattr(run, "run_part", lambda part, args, repeats: KNN_PART)
    monkeypatch.setattr(run, "when", lambda quick, repeats: {**earlier, "date": "2030-06-01T12:00",
                                                              "load_average_at_start": "0.1 / 0.1 / 0.1"})
    run.main(["--only", "knn", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["parts"]["models"] == earlier  # not measured now: its own date stays
    assert results["parts"]["knn"]["date"] == "2030-06-01T12:00"
    table = out.with_suffix(".md").read_text()
    assert "| models | 2020-01-01 00:00 | 9.9 / 9.9 / 9.9 |" in table
    assert "| knn | 2030-06-01 12:00 | 0.1 / 0.1 / 0.1 |" in table
    assert table.count("2030-06-01") == 1
