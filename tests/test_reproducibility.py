"""Same inputs, same bytes out, on any machine: the promise that makes DVC's cache shareable.

A different CPU's BLAS kernel, a different thread count or a different row
order changes the last bits of sums; the files a stage writes must not notice.
These tests perturb what a different machine perturbs (row order, one ulp of
input, BLAS threads) without touching the machine's BLAS kernel settings.
"""

import os
import stat

import numpy as np
import pytest

from tests.conftest import ALL_STAGES, stages_run, ROOT, dvc, model_names, output_bytes



def split_lines(path):
    lines = path.read_bytes().splitlines()
    return lines[0], lines[1:]


def write_split(path, header, rows):
    path.write_bytes(b"\n".join([header, *rows]) + b"\n")


def nudge_one_ulp(row):
    """Each value of a CSV row moved up by one unit in the last place of its float64."""
    values = np.array(row.decode().split(","), dtype=np.float64)
    return ",".join(repr(float(v)) for v in np.nextafter(values, np.inf)).encode()


def fit_every_model(project, train, out):
    """Run every model's fit stage (models.yaml's) on ``train``; return {model/file: bytes}."""
    from stages import fit
    from project.models import read_models

    written = {}
    for name, entry in read_models(ROOT / "models.yaml").entries.items():
        folder = out / name
        assert fit.main([name, "--class", entry.class_name, "--code", entry.code, "--settings", *entry.params,
                         "--params", project.path("params.yaml"), "--train", str(train), "--out", str(folder)]) == 0
        written.update({f"{name}/{path.name}": path.read_bytes() for path in sorted(folder.iterdir())
                        if path.suffix in (".json", ".csv", ".npz")})
    return written


@pytest.fixture
def prepared(project):
    from tests.conftest import run_load

    assert run_load(project) == 0
    return project


def test_row_order_and_one_ulp_do_not_change_a_single_written_byte(prepared, tmp_path):
    header, rows = split_lines(tmp_path / "train.csv")
    reference = fit_every_model(prepared, tmp_path / "train.csv", tmp_path / "as_is")

    shuffled = tmp_path / "shuffled.csv"
    order = np.random.default_rng(3).permutation(len(rows))
    write_split(shuffled, header, [rows[i] for i in order])
    permuted = fit_every_model(prepared, shuffled, tmp_path / "permuted")

    nudged = tmp_path / "nudged.csv"
    write_split(nudged, header, [nudge_one_ulp(row) for row in rows])
    ulp = fit_every_model(prepared, nudged, tmp_path / "ulp")

    # KNN's file holds the training rows themselves, exactly as read and in their order, so it moves with
    # them (the same CSV text always parses to the same bits); the cross-validation folds are drawn by row
    # position, so reordered rows make other folds. Everything computed stays byte for byte.
    assert len(reference) >= 3 * len(model_names())
    for name in reference:
        if name != "knn/model.npz":
            assert ulp[name] == reference[name], f"{name} changed when every input moved by one ulp"
        if name != "knn/model.npz" and not name.endswith("/cv.json"):
            assert permuted[name] == reference[name], f"{name} changed when the rows were reordered"


def test_written_files_have_ordinary_permissions(project, tmp_path):
    from project.files import write_json
    from tests.conftest import run_load

    old = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {"a": 1.0})
        assert run_load(project) == 0
        os.umask(0o077)  # a private umask is respected too
        write_json(tmp_path / "private.json", {"a": 1.0})
    finally:
        os.umask(old)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes["m.json"] == modes["train.csv"] == modes["test.csv"] == 0o644
    assert modes["private.json"] == 0o600


@pytest.mark.pipeline
def test_a_fresh_clone_reproduces_the_committed_results_byte_for_byte(baseline_repo):
    # The committed dvc.lock, metrics and plot data, regenerated from scratch: git sees no change.
    assert baseline_repo.changed_by_repro == ""


@pytest.mark.pipeline
def test_one_or_two_blas_threads_give_the_same_lock_and_outputs(pipeline_repo, monkeypatch):
    """Two forced reruns of every stage (so also: the same inputs twice give the same bytes, dvc.lock included)."""
    committed = output_bytes(pipeline_repo)
    for threads in ("1", "2"):
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            monkeypatch.setenv(variable, threads)
        assert stages_run(dvc("repro", "-f", cwd=pipeline_repo).stdout) == ALL_STAGES
        assert output_bytes(pipeline_repo) == committed, f"outputs differ with {threads} BLAS thread(s)"
