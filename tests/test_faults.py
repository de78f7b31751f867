"""Files the pipeline reads, edited by hand, and a disk that refuses to write (issue 19, item 4), as tables.

Each case runs a stage's ``main`` (or the stage as a process) in a scratch copy of a project whose every
stage has run once, and asserts: exit status 1, exactly one line on stderr naming the file and the
command that writes it again, no traceback, and every output byte for byte as before.
"""

import json
import os
import resource
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, Project, only_error_line, pipeline_order, run_stage


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A scratch project on the bundled data where every stage has run."""
    root = tmp_path_factory.mktemp("ran")
    here = os.getcwd()
    os.chdir(root)
    try:
        project = Project(root)
        for name in pipeline_order():
            assert run_stage(project, name) == 0, name
    finally:
        os.chdir(here)
    return root


@pytest.fixture
def done(ran, tmp_path, monkeypatch):
    """A private copy of ``ran``, the working directory."""
    root = tmp_path / "project"
    shutil.copytree(ran, root)
    monkeypatch.chdir(root)
    project = Project.__new__(Project)
    project.root = root
    import yaml

    project.params = yaml.safe_load((root / "params.yaml").read_text())
    return project


def snapshot(root):
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def json_file(data):
    return json.dumps(data, indent=2)


def edited(file, change):
    """A function of the project that rewrites models/<...>/file with ``change(old text)``."""
    def apply(root):
        path = root / file
        path.write_text(change(path.read_text()))
    return apply


def replace(old, new, count=1):
    def change(text):
        assert old in text, (old, text[:300])
        return text.replace(old, new, count)
    return change


def json_edit(function):
    def change(text):
        data = json.loads(text)
        function(data)
        return json.dumps(data, indent=2)
    return change


def sparse(file, size):
    def apply(root):
        with open(root / file, "r+b") as handle:
            handle.truncate(size)  # a hole: a 1 GB file in no disk space, refused before it is read
    return apply


def to_folder(file):
    def apply(root):
        (root / file).unlink()
        (root / file).mkdir()
    return apply


def write(file, data):
    def apply(root):
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(data if isinstance(data, bytes) else data.encode())
    return apply


def link(file, target):
    def apply(root):
        (root / file).unlink()
        (root / file).symlink_to(target)
    return apply


def fifo(file):
    def apply(root):
        (root / file).unlink()
        os.mkfifo(root / file)  # opening it to read would wait for a writer for ever
    return apply


def npz_edit(file, function):
    """A function of the project that rewrites the .npz ``file`` with ``function(arrays)`` applied to its arrays."""
    def apply(root):
        from project.npz import read_npz, write_npz

        arrays = read_npz(root / file, 1 << 30)
        function(arrays)
        with open(root / file, "wb") as handle:
            write_npz(handle, arrays)
    return apply


def npz_member(file, name, payload):
    """Add to ``file`` a member ``name`` of raw bytes (a .npy numpy would unpickle, a lying header, ...)."""
    def apply(root):
        import zipfile

        with zipfile.ZipFile(root / file, "a") as archive:
            archive.writestr(name, payload)
    return apply


def npy_bytes(array, allow_pickle=False):
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def pickled_object_array():
    """A .npy of dtype object: numpy would unpickle it (and run what it says) with allow_pickle=True."""
    import numpy as np

    array = np.empty(1, dtype=object)
    array[0] = {"payload": "os.system('touch pwned')"}
    return npy_bytes(array, allow_pickle=True)


def lying_header():
    """A .npy whose header claims 10^12 values (8 TB) over 32 bytes: numpy would allocate them before reading."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    return buffer.getvalue() + np.zeros(4).tobytes()


def knn_rows(function):
    return npz_edit("models/knn/model.npz", function)


# (id, what is done to the fitted project, the file named, key words of the one line)
MODEL_FOLDERS = [
    ("cv.json holds NaN", edited("models/gd/cv.json", replace('"mse_std": ', '"mse_std": NaN, "x": ')),
     "models/gd/cv.json", "it holds NaN, which JSON has not and no stage writes"),
    ("cv.json holds Infinity", edited("models/gd/cv.json", replace('"mse_max": ', '"mse_max": -Infinity, "y": ')),
     "models/gd/cv.json", "it holds -Infinity"),
    ("cv.json is a list", write("models/gd/cv.json", "[1, 2]\n"), "models/gd/cv.json", "is not a JSON object"),
    ("cv.json holds an HTML key", edited("models/gd/cv.json", json_edit(
        lambda data: data.update({"<img src=x onerror=alert(1)>": 1.0}))),
     "models/gd/cv.json", "has a key the fit never writes ('<img src=x onerror=alert(1)>')"),
    ("cv.json holds a list value", edited("models/gd/cv.json", json_edit(lambda data: data.update(mse_mean=[1, 2]))),
     "models/gd/cv.json", "mse_mean = [1, 2] is not what the fit writes there"),
    ("cv.json key twice", edited("models/gd/cv.json", replace('"mse_max": ', '"mse_max": 1.0, "mse_max": ')),
     "models/gd/cv.json", "key 'mse_max' appears twice"),
    ("fit.json converged as text", edited("models/gd/fit.json", json_edit(lambda data: data.update(converged="yes"))),
     "models/gd/fit.json", "converged = 'yes' is not what the fit writes there"),
    ("fit.json an HTML fact", edited("models/gd/fit.json", json_edit(lambda data: data.update({"<b>x</b>": 1}))),
     "models/gd/fit.json", "has a key the fit never writes"),
    ("fit.json truncated", edited("models/gd/fit.json", lambda text: text[:len(text) // 2]),
     "models/gd/fit.json", "not the JSON fit@gd writes"),
    ("fit.json without train_mse", edited("models/gd/fit.json", json_edit(lambda data: data.pop("train_mse"))),
     "models/gd/fit.json", "has no train_mse"),
    ("fit.json a negative MSE", edited("models/gd/fit.json", json_edit(lambda data: data.update(train_mse=-1.0))),
     "models/gd/fit.json", "train_mse = -1.0 is not what the fit writes there"),
    ("model.npz of 1 GB", sparse("models/gd/model.npz", 1 << 30), "models/gd/model.npz", "not a .npz file"),
    ("model.npz is a folder", to_folder("models/gd/model.npz"), "models/gd/model.npz", "is missing or not a file"),
    ("model.npz is JSON", write("models/gd/model.npz", '{"coef": [1]}'), "models/gd/model.npz", "not a .npz file"),
    ("model.npz missing", lambda root: (root / "models/gd/model.npz").unlink(), "models/gd/model.npz",
     "is missing or not a file"),
    ("model.npz an object array (pickle)", npz_member("models/gd/model.npz", "evil.npy", pickled_object_array()),
     "models/gd/model.npz", "which only pickle could carry"),
    ("model.npz a header that lies", npz_member("models/gd/model.npz", "big.npy", lying_header()),
     "models/gd/model.npz", "is not a .npy array we could have written"),
    ("model.npz a member with markup", npz_member("models/gd/model.npz", "<img src=x>.npy", npy_bytes([1.0])),
     "models/gd/model.npz", "that is no array of a model"),
    ("model.npz coefficient NaN", npz_edit("models/gd/model.npz", lambda arrays: arrays.update(
        intercept=float("nan"))), "models/gd/model.npz", "cannot be rebuilt"),
    ("model.npz of another model", npz_edit("models/gd/model.npz", lambda arrays: arrays.pop("coef")),
     "models/gd/model.npz", "cannot be rebuilt"),
    ("knn: k above its rows", knn_rows(lambda arrays: arrays.update(k=10**6)), "models/knn/model.npz",
     "cannot be rebuilt"),
    ("knn: fewer targets than rows", knn_rows(lambda arrays: arrays.update(y_train=arrays["y_train"][:-1])),
     "models/knn/model.npz", "cannot be rebuilt"),
    ("knn: no rows", knn_rows(lambda arrays: arrays.update(X_train=arrays["X_train"][:0], y_train=arrays["y_train"][:0])),
     "models/knn/model.npz", "cannot be rebuilt"),
    ("seeds.npz keyed by words", npz_edit("models/gd/seeds.npz", lambda arrays: arrays.update(
        {"forty/coef": arrays["43/coef"]})), "models/gd/seeds.npz", "holds 'forty/coef', not <seed>/<parameter>"),
    ("seeds.npz a seed's coefficient text", npz_edit("models/gd/seeds.npz", lambda arrays: arrays.update(
        {"43/coef": __import__("numpy").array(["x"])})), "models/gd/seeds.npz", "cannot be rebuilt"),
    ("seeds.npz a seed on other columns", npz_edit("models/gd/seeds.npz", lambda arrays: arrays.update(
        {"43/n_features_in": 2, "43/coef": [1.0, 2.0]})), "models/gd/seeds.npz",
     "seed 43 was fitted on 2 features, model.npz on 1"),
    ("curve.csv header markup", edited("models/gd/curve.csv", replace("step,loss", "<b>step</b>,loss")),
     "models/gd/curve.csv", "expected the header step,loss"),
    ("curve.csv a NaN loss", edited("models/gd/curve.csv", lambda text: text.rstrip("\n") + "\n99999,nan\n"),
     "models/gd/curve.csv", "expected two columns of finite numbers"),
    ("curve.csv a negative loss", edited("models/gd/curve.csv", lambda text: text.rstrip("\n") + "\n99999,-1e-13\n"),
     "models/gd/curve.csv", "losses >= 0"),
    ("curve.csv steps out of order", edited("models/gd/curve.csv", lambda text: text + "0,1\n"),
     "models/gd/curve.csv", "expected whole, increasing iterations"),
    ("curve.csv a million points", edited("models/gd/curve.csv", lambda text: "step,loss\n" + "".join(
        f"{i},1\n" for i in range(10**6))), "models/gd/curve.csv", "at most 2001 points"),
    ("curve.csv a quote left open", edited("models/gd/curve.csv", lambda text: text + '"1,2\n'),
     "models/gd/curve.csv", "not the loss curve the fit writes"),
    ("curve.csv for a model without a loop", write("models/knn/curve.csv", "step,loss\n0,1\n"),
     "models/knn/curve.csv", "a loss curve, which KNearestNeighbors does not draw"),
    ("cv.json is /dev/zero", link("models/gd/cv.json", "/dev/zero"), "models/gd/cv.json",
     "it is not a regular file (a pipe or a device)"),
    ("model.npz is a FIFO", fifo("models/gd/model.npz"), "models/gd/model.npz", "is missing or not a file"),
    ("curve.csv is /dev/urandom", link("models/gd/curve.csv", "/dev/urandom"), "models/gd/curve.csv",
     "is missing or not a file"),
]


def evaluate(project):
    return run_stage(project, "evaluate")


@pytest.mark.parametrize("apply, file, words", [pytest.param(*case[1:], id=case[0]) for case in MODEL_FOLDERS])
def test_a_model_folder_edited_by_hand_is_one_line_naming_the_file_and_the_fix(done, capsys, apply, file, words):
    apply(done.root)
    before = snapshot(done.root)
    assert evaluate(done) == 1
    line = only_error_line(capsys)
    model = file.split("/")[1]
    assert line.startswith(f"error: evaluate: {file}: "), line
    assert words in line, (words, line)
    assert line.endswith(f"; rerun `dvc repro -f fit@{model}`"), line
    assert len(line) < 600, line  # never a whole file in a message
    assert snapshot(done.root) == before


def test_what_fit_writes_is_what_evaluate_accepts(done):
    """One module declares the folder (project/model_store.py): what the fit stage wrote reads back whole."""
    from project import model_store
    from project.models import read_models

    for entry in read_models(ROOT / "models.yaml"):
        fitted = model_store.read(done.root / "models" / entry.name, entry, 404, 1)
        assert set(fitted.fit) <= {"train_mse", "train_mse_sampled_rows", *__import__("fromzero.base").base.FIT_FACTS}
        assert (fitted.curve is None) == (entry.model_class.abilities.iteration is None)


def cells(text, row, value):
    """The split's text with RM (column 6) of line ``row`` set to ``value``."""
    lines = text.split("\n")
    fields = lines[row].split(",")
    fields[lines[0].split(",").index("RM")] = value
    lines[row] = ",".join(fields)
    return "\n".join(lines)


SPLITS = [
    ("a header with markup", lambda text: text.replace("RM", "<script>RM", 1), "'<' in it"),
    ("a header with a right-to-left mark", lambda text: text.replace("CRIM", "CRIM\u202e", 1), "'\\u202e' in it"),
    ("a column twice", lambda text: text.replace("ZN", "RM", 1), "column name 'RM' is listed twice"),
    ("a word in a cell", lambda text: cells(text, 3, "six"), "not the CSV the load stage writes"),
    ("a short row", lambda text: "\n".join(line.rsplit(",", 1)[0] if i == 3 else line
                                           for i, line in enumerate(text.split("\n"))),
     "not the CSV the load stage writes"),
    ("a NaN", lambda text: cells(text, 4, "nan"), "a missing or infinite value, which the load stage never writes"),
    ("an infinity", lambda text: cells(text, 5, "-inf"), "a missing or infinite value"),
    ("empty", lambda text: "", "its first line is not a header the load stage writes"),
    ("/dev/zero", "/dev/zero", "is a device, not a split the load stage writes"),
    ("a FIFO", "fifo", "is a named pipe (FIFO), not a split the load stage writes"),
    ("no line end after the header", lambda text: text.split("\n")[0], "its first line is not a header"),
    ("header only", lambda text: text.split("\n")[0] + "\n", "no data rows"),
    ("not UTF-8", lambda text: text.replace("RM", "R\udce9", 1), "not UTF-8"),
]


@pytest.mark.parametrize("stage", ["eda", "evaluate", "fit@gd"])
@pytest.mark.parametrize("change, words", [pytest.param(*case[1:], id=case[0]) for case in SPLITS])
def test_a_split_edited_by_hand_is_one_line_and_rerun_load(done, capsys, stage, change, words):
    path = done.root / "data/prepared/train.csv"
    if change == "/dev/zero":
        path.unlink()
        path.symlink_to("/dev/zero")
    elif change == "fifo":
        path.unlink()
        os.mkfifo(path)
    else:
        path.write_bytes(change(path.read_text()).encode("utf-8", "surrogateescape"))
    before = snapshot(done.root)
    assert run_stage(done, stage) == 1
    line = only_error_line(capsys)
    assert "data/prepared/train.csv: " in line and words in line and "rerun `dvc repro -f load`" in line, line
    assert snapshot(done.root) == before


# ---- what a failed write leaves: each file whole (old or new), none half-written --------------------

# A change that makes each stage write other bytes than its committed outputs.
CHANGES = {"check_params": {}, "load": {"data.test_size": 0.25}, "eda": {"data.features": ["RM", "LSTAT"]},
           "fit@net": {"net.steps": 500}, "evaluate": {"evaluate.confidence": 0.9}, "plot_templates": {}}


def whole_files(done, stage, run, prepare=lambda: None):
    """Run ``run()`` (a failing run of ``stage`` after CHANGES) and hold what it left: every file is as it was or
    as a successful run with the same change writes it, never a mix within one file, and no temporary left."""
    reference = done.root.parent / "reference"
    shutil.copytree(done.root, reference)
    for key, value in CHANGES[stage].items():
        done.set(key, value)
    shutil.copy(done.root / "params.yaml", reference / "params.yaml")
    here = os.getcwd()
    os.chdir(reference)
    try:
        new_project = Project.__new__(Project)
        new_project.root = reference
        assert run_stage(new_project, stage) == 0
    finally:
        os.chdir(here)
    prepare()
    before, new = snapshot(done.root), snapshot(reference)
    result = run()
    after = snapshot(done.root)
    for path, data in after.items():
        assert data in (before.get(path), new.get(path)), f"{path} is neither its old nor its new bytes"
    assert not [path for path in after if path.endswith(".tmp")], "a temporary left behind"
    return result


@pytest.mark.parametrize("stage", [name for name in CHANGES if name != "check_params"])
def test_a_folder_in_place_of_an_output_is_one_line_and_leaves_whole_files(done, capsys, stage):
    target = {"load": "metrics/data.json", "eda": "metrics/eda.json", "fit@net": "models/net",
              "evaluate": "plots/evaluate/loss.csv", "plot_templates": "plots/templates/response.json"}[stage]

    def prepare():
        if stage == "fit@net":  # a file where the folder of the model's folder goes
            shutil.rmtree(done.root / "models")
            (done.root / "models").write_text("not a folder\n")
        else:
            (done.root / target).unlink()
            (done.root / target).mkdir()

    assert whole_files(done, stage, lambda: run_stage(done, stage), prepare) == 1
    assert f"{target}: cannot be written" in only_error_line(capsys)


# ---- a disk that refuses: full, a file-size limit, read-only --------------------------------------

def stage_process(project, stage, preexec=None):
    from tests.conftest import stage_commands

    module, argv = stage_commands()[stage]
    return subprocess.run([sys.executable, "-m", module, "--params", "params.yaml", *argv], cwd=project.root,
                          capture_output=True, text=True, preexec_fn=preexec,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"))


def file_size_limit(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail, EFBIG
    return preexec


@pytest.mark.parametrize("stage", ["load", "eda", "fit@net", "evaluate"])
def test_a_full_disk_while_a_stage_writes_is_one_line_naming_the_path(done, stage):
    result = whole_files(done, stage, lambda: stage_process(done, stage, file_size_limit(2048)))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"error: {stage}: ") and "cannot be written (File too large)" in lines[0], lines[0]


def mount(*args):
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip()})")


@pytest.fixture
def tmpfs(tmp_path):
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a file system needs root")
    mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder))
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_read_only_or_full_file_system_is_one_line_and_changes_nothing(done, tmpfs, fault):
    """On a real file system (a tmpfs), as root: a chmod would not stop root, a read-only mount does."""
    project = Project.__new__(Project)
    project.root, project.params = tmpfs / "project", done.params
    shutil.copytree(done.root, project.root, ignore=shutil.ignore_patterns("data.csv", "*.png", "knn", "figures"))
    os.chdir(project.root)
    project.set("evaluate.confidence", 0.9)
    shutil.rmtree(project.root / "models/knn", ignore_errors=True)
    shutil.copytree(done.root / "models/knn", project.root / "models/knn")
    before = snapshot(project.root)
    if fault == "read-only":
        mount("-o", "remount,ro", str(tmpfs))
        words = "Read-only file system"
    else:
        filler = tmpfs / "filler"
        with open(filler, "wb") as handle:  # every free block taken
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        before["filler"] = None
        before.pop("filler")
        words = "No space left on device"
    result = stage_process(project, "evaluate")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "cannot be written" in lines[0] and words in lines[0], lines[0]
    after = snapshot(project.root)
    after.pop("filler", None)
    assert after == before


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_params_file_that_never_ends_is_one_line(done, capsys, kind):
    path = done.root / "params.yaml"
    path.unlink()
    path.symlink_to("/dev/zero") if kind == "/dev/zero" else os.mkfifo(path)
    for stage in ("check_params", "fit@gd"):
        assert run_stage(done, stage) == 1
        assert only_error_line(capsys).endswith("params.yaml: is a pipe or a device, not a YAML file")
