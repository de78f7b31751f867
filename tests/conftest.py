import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOSTON_CSV = ROOT / "data" / "raw" / "boston_house_prices.csv"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


# The longest tests first, then the other pipeline tests, then the fast tier: xdist's work stealing then ends
# the run on short tests instead of one core finishing a two-minute test alone (measured: ~30 s of wall time).
LONGEST_FIRST = ("test_docs.py::test_every_shell_block_runs_in_order_on_a_fresh_copy[docs/experiments.md]",
                 "test_recipe.py::", "test_sweep.py::test_runners_fan_out", "test_experiments.py::test_a_queued_sweep",
                 "test_sharing.py::")


def pytest_collection_modifyitems(items):
    def rank(item):
        if any(name in item.nodeid for name in LONGEST_FIRST):
            return 0
        return 1 if item.get_closest_marker("pipeline") else 2

    items.sort(key=rank)  # stable: the same order on every worker


@pytest.fixture(scope="session")
def boston():
    """The bundled data as a DataFrame (first line is a count header)."""
    import pandas as pd

    return pd.read_csv(BOSTON_CSV, skiprows=1)


@pytest.fixture(scope="session")
def boston_split(boston):
    """RM -> MEDV train/test arrays, split as the load stage does with the default params."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(boston, test_size=0.2, random_state=42)
    return train.RM.to_numpy(), train.MEDV.to_numpy(), test.RM.to_numpy(), test.MEDV.to_numpy()


@pytest.fixture
def line_data():
    rng = np.random.default_rng(7)
    x = rng.uniform(3.0, 9.0, size=200)
    y = 9.0 * x - 35.0 + rng.normal(0.0, 5.0, size=200)
    return x, y


class Project:
    """A scratch folder with a params.yaml and CSVs, for calling stages' ``main`` directly."""

    def __init__(self, root):
        import yaml

        self.root = root
        with open(ROOT / "params.yaml", encoding="utf-8") as handle:
            self.params = yaml.safe_load(handle)
        self.params["data"]["csv"] = "data.csv"
        self.write_csv_text(BOSTON_CSV.read_text())
        self.save_params()

    def set(self, dotted, value):
        *sections, leaf = dotted.split(".")
        node = self.params
        for section in sections:
            node = node[section]
        node[leaf] = value
        return self.save_params()

    def delete(self, dotted):
        *sections, leaf = dotted.split(".")
        node = self.params
        for section in sections:
            node = node[section]
        del node[leaf]
        return self.save_params()

    def save_params(self):
        import yaml

        (self.root / "params.yaml").write_text(yaml.safe_dump(self.params, sort_keys=False))
        return self

    def write_csv_text(self, text):
        (self.root / "data.csv").write_text(text)
        return self

    def path(self, name):
        return str(self.root / name)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


def run_load(project):
    from stages import load

    return load.main(["--params", project.path("params.yaml"),
                      "--train", project.path("train.csv"), "--test", project.path("test.csv")])


def only_error_line(capsys):
    """The stage's stderr, asserted to be exactly one line with no traceback."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---- tier 3: the real pipeline in a temporary git + DVC repo ---------------------------------

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402


def dvc_env():
    env = dict(os.environ)
    env["DVC_NO_ANALYTICS"] = "1"
    # `python -m stages.x` in dvc.yaml must find this interpreter (the project's venv).
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("GIT_AUTHOR_NAME", "fromzero tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@fromzero.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "fromzero tests")
    env.setdefault("GIT_COMMITTER_EMAIL", "tests@fromzero.invalid")
    return env


def run(args, cwd, check=True, **kwargs):
    """Run a command in the repo; on failure show its output in the assertion."""
    result = subprocess.run(args, cwd=cwd, env=dvc_env(), capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def dvc(*args, cwd, check=True):
    return run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=check)


def git(*args, cwd):
    return run(["git", *args], cwd=cwd)


def stages_run(output):
    """The stage names DVC ran (not skipped) according to its output."""
    import re

    return set(re.findall(r"Running stage '([^']+)'", output))


def model_names():
    """The models of models.yaml, in its order."""
    from project.models import read_models

    return list(read_models(ROOT / "models.yaml").entries)


ALL_STAGES = {"check_params", "load", "eda", "evaluate", "plot_templates", *(f"fit@{name}" for name in model_names())}


def copy_source_tree(destination):
    """The project's tracked and new (not ignored) files, as a fresh clone would have them."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not name.startswith("bench/results"):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


class BaselineRepo(tuple):
    """(repo, repro output), plus what the from-scratch repro changed in git."""

    def __new__(cls, repo, output, changed_by_repro):
        self = super().__new__(cls, (repo, output))
        self.changed_by_repro = changed_by_repro
        return self


@pytest.fixture(scope="session")
def baseline_repo(tmp_path_factory, worker_id):
    """A committed copy of the project after a from-scratch `dvc repro`, built once per run: the first of the
    test processes (pytest-xdist's workers) to need it builds it, the others wait and share it. Tests only read
    it or copy it (``pipeline_repo``): DVC commands run in private copies, never two in one repository."""
    import json

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    repo, facts = root / "baseline" / "repo", root / "baseline" / "facts.json"
    with FileLock(str(root / "baseline.lock")):
        if not facts.exists():
            repo.mkdir(parents=True)
            copy_source_tree(repo)
            git("init", "-q", "-b", "main", cwd=repo)
            git("add", "-A", cwd=repo)
            git("commit", "-q", "-m", "baseline", cwd=repo)
            result = dvc("repro", cwd=repo)
            # What a fresh clone's `dvc repro` changed in git: nothing, if the committed results reproduce.
            changed_by_repro = git("status", "--porcelain", cwd=repo).stdout
            git("add", "-A", cwd=repo)
            git("commit", "-q", "--allow-empty", "-m", "baseline outputs", cwd=repo)
            facts.write_text(json.dumps({"output": result.stdout, "changed": changed_by_repro}))
    found = json.loads(facts.read_text())
    return BaselineRepo(repo, found["output"], found["changed"])


@pytest.fixture
def pipeline_repo(baseline_repo, tmp_path):
    """A private copy of the baseline repo (git history and DVC cache included)."""
    source, _ = baseline_repo
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, symlinks=True)
    return repo


def output_bytes(repo):
    """Every DVC-declared output and dvc.lock, as {path: bytes, or None where missing}."""
    import yaml

    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    paths = ["dvc.lock"]
    for stage in stages.values():
        for section in ("outs", "metrics"):
            for entry in stage.get("do", stage).get(section, []):
                paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    names = [name for name in model_names()]
    paths = [expanded for path in paths
             for expanded in ([path.replace("${key}", name) for name in names] if "${key}" in path else [path])]
    found = {}
    for path in paths:  # a folder output: each file in it
        target = repo / path
        if target.is_dir():
            found.update({file.relative_to(repo).as_posix(): file.read_bytes()
                          for file in sorted(target.rglob("*")) if file.is_file() and file.name != ".gitignore"})
        else:
            found[path] = target.read_bytes() if target.exists() else None
    return found


def stage_commands():
    """{stage name: (module, argv)} as `dvc repro` runs them, `fit` expanded over models.yaml (fit@knn, ...)."""
    import shlex

    import yaml

    from project.models import read_models

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    commands = {}
    for name, stage in stages.items():
        if "foreach" in stage:
            for model, entry in read_models(ROOT / "models.yaml").entries.items():
                cmd = " ".join(stage["do"]["cmd"].split())
                for field, value in (("${key}", model), ("${item.class}", entry.class_name), ("${item.code}", entry.code),
                                     ("${item.params[0]}", entry.params[0]), ("${item.params[-1]}", entry.params[-1])):
                    cmd = cmd.replace(field, value)
                commands[f"{name}@{model}"] = cmd
        else:
            commands[name] = " ".join(stage["cmd"].split())
    found = {}
    for name, cmd in commands.items():
        words = shlex.split(cmd)
        assert words[:2] == ["python", "-m"], cmd
        found[name] = (words[2], words[3:])
    return found


def run_stage(project, name):
    """Run a stage as `dvc repro` would, in the scratch project (the working directory), models.yaml included."""
    import importlib

    if not (project.root / "models.yaml").exists():
        shutil.copy(ROOT / "models.yaml", project.root / "models.yaml")
    module, argv = stage_commands()[name]
    if "--params" not in argv:
        argv = ["--params", "params.yaml", *argv]
    return importlib.import_module(module).main(argv)


def pipeline_order():
    """Every stage in the order `dvc repro` may run them."""
    return ["check_params", "load", "eda", *(f"fit@{name}" for name in model_names()), "evaluate", "plot_templates"]


def metrics(root, kind):
    """{model: {...}} of metrics/<file> as evaluate writes it: test (evaluate.json), cv, fit; test_mse the summary."""
    import json

    files = {"test": "evaluate.json", "cv": "cv.json", "fit": "fit.json", "eda": "eda.json", "split": "data.json",
             "test_mse": "test_mse.json"}
    data = json.loads((Path(root) / "metrics" / files[kind]).read_text())
    return data["mse"] if kind == "test_mse" else data["details"][kind]
