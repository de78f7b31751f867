"""tools/restore.py: the way back after a failed or interrupted `dvc exp run`, in a temporary git + DVC repo.

A tiny DVC project (one stage reading one param) stands in for the pipeline (the pipeline tier: DVC
runs), so the whole recipe runs in seconds: what a killed run leaves (params.yaml and dvc.lock staged, an output deleted, git's index
calling an edited params.yaml unchanged) is made by hand, and restore must bring back the committed
bytes, say each of its four steps in one line, and leave every other file as it was. Refusals are a
table, one row per class: exit 1, one line naming what to do, no traceback, nothing changed (not even
git's index).
"""

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT, dvc_env

STAGE = """stages:
  square:
    cmd: python -c "import yaml; x = yaml.safe_load(open('params.yaml'))['x']; open('out.txt', 'w').write(str(x * x))"
    params: [x]
    outs: [out.txt]
"""


def run(args, cwd, check=True):
    result = subprocess.run(args, cwd=cwd, env=dvc_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def git(*args, cwd):
    return run(["git", *args], cwd).stdout


def restore(repo, *argv):
    env = {**dvc_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tools.restore", *argv], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)


def git_repo(root, files):
    repo = root / "repo"
    repo.mkdir()
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "committed", cwd=repo)
    return repo


@pytest.fixture
def dvc_repo(tmp_path):
    """A committed git + DVC project after `dvc repro`: params.yaml x: 3, out.txt 9, notes.txt of a person's own."""
    repo = git_repo(tmp_path, {"params.yaml": "x: 3\n", "dvc.yaml": STAGE, "notes.txt": "mine\n"})
    run([sys.executable, "-m", "dvc", "init", "-q"], repo)
    run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], repo)
    run([sys.executable, "-m", "dvc", "repro", "-q"], repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "outputs", cwd=repo)
    assert (repo / "out.txt").read_text() == "9"
    return repo


def workspace(repo):
    """{path: (bytes, mtime)} of every file outside .git and .dvc."""
    found = {}
    for path in sorted(repo.rglob("*")):
        relative = path.relative_to(repo).as_posix()
        if path.is_file() and not relative.startswith((".git/", ".dvc/")):
            found[relative] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def what_a_killed_run_leaves(repo, index_trap):
    """The experiment x: 4 run and half-undone: its params and lock, staged (SIGTERM) or with git's index calling the
    edited params.yaml unchanged (the stat-cache trap), its output deleted; and a person's own edits beside them."""
    params = repo / "params.yaml"
    committed_mtime = params.stat().st_mtime_ns
    params.write_text("x: 4\n")
    run([sys.executable, "-m", "dvc", "repro", "-q"], repo)
    (repo / "out.txt").unlink()  # DVC removes a stage's outputs before it runs it
    if index_trap:
        # git compares only size and whole-second mtime here: the same size and the committed time back, and git's
        # index (written after it) says "unchanged", as docs/dvc-exp-run-git-index.md describes.
        git("config", "core.checkStat", "minimal", cwd=repo)
        git("config", "core.trustctime", "false", cwd=repo)
        os.utime(params, ns=(committed_mtime, committed_mtime))
        git("add", "dvc.lock", cwd=repo)
        if git("status", "--porcelain", "--", "params.yaml", cwd=repo):
            pytest.skip("git sees the edited params.yaml here: the index trap cannot be set up on this file system")
        assert run(["git", "checkout", "HEAD", "--", "params.yaml"], repo).returncode == 0
        assert params.read_text() == "x: 4\n", "the trap: a plain checkout leaves the experiment's value"
    else:
        git("add", "params.yaml", "dvc.lock", cwd=repo)
    (repo / "notes.txt").write_text("mine, edited\n")  # a person's own work: not the run's
    (repo / "scratch.txt").write_text("new\n")


@pytest.mark.pipeline
@pytest.mark.parametrize("index_trap", [False, True], ids=["staged-by-sigterm", "index-calls-params-unchanged"])
def test_restore_brings_back_the_committed_params_lock_and_outputs_and_nothing_else(dvc_repo, index_trap):
    repo = dvc_repo
    committed = {name: (repo / name).read_bytes() for name in ("params.yaml", "dvc.lock", "out.txt")}
    what_a_killed_run_leaves(repo, index_trap)
    others = {name: value for name, value in workspace(repo).items() if name in ("notes.txt", "scratch.txt")}

    result = restore(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [f"restore {n}/4" for n in range(1, 5)], lines
    staged = "unstaged dvc.lock" if index_trap else "unstaged dvc.lock, params.yaml"
    assert lines[0] == f"restore 1/4: git reset -q: {staged}"
    assert lines[1].startswith("restore 2/4: touched params.yaml and dvc.lock (same bytes, a new time)")
    assert lines[2] == "restore 3/4: git checkout HEAD -- params.yaml dvc.lock: as committed"
    # The committed x: 3 ran before, so DVC's run-cache has its output: restored, not recomputed.
    assert lines[3] == "restore 4/4: dvc repro: restored square from DVC's cache; every other stage up to date"
    assert result.stderr == ""

    assert {name: (repo / name).read_bytes() for name in committed} == committed
    assert {name: value for name, value in workspace(repo).items() if name in others} == others  # bytes and times
    assert git("status", "--porcelain", cwd=repo).splitlines() == [" M notes.txt", "?? scratch.txt"]
    assert "up to date" in run([sys.executable, "-m", "dvc", "status"], repo).stdout

    again = restore(repo)  # nothing left to do: it says so, and still changes nothing else
    assert again.returncode == 0 and again.stdout.splitlines()[0] == "restore 1/4: git reset -q: nothing was staged"
    assert again.stdout.splitlines()[3] == "restore 4/4: dvc repro: every stage up to date, nothing ran"


# ---- refusals: one line, nothing changed --------------------------------------------------------------------

SLEEPER = "import time\ntime.sleep(120)\n"


def refused_repo(tmp_path, case):
    """A repository (or folder) in the state ``case`` names; returns (folder, a process to stop afterwards)."""
    files = {"params.yaml": "x: 3\n", "dvc.yaml": STAGE, "dvc.lock": "schema: '2.0'\n", "stages/sleeper.py": SLEEPER}
    if case == "no-dvc-yaml":
        folder = tmp_path / "plain"
        folder.mkdir()
        return folder, None
    if case == "not-git":
        folder = tmp_path / "plain"
        folder.mkdir()
        (folder / "dvc.yaml").write_text(STAGE)
        return folder, None
    if case == "no-commit":
        folder = tmp_path / "fresh"
        folder.mkdir()
        (folder / "dvc.yaml").write_text(STAGE)
        git("init", "-q", cwd=folder)
        return folder, None
    if case == "params-not-committed":
        files.pop("params.yaml")
    repo = git_repo(tmp_path, files)
    (repo / "params.yaml").write_text("x: 4\n")
    git("add", "params.yaml", cwd=repo)
    if case == "index-locked":
        (repo / ".git" / "index.lock").write_bytes(b"")
    if case == "stage-still-running":
        # What a SIGTERM to `dvc exp run` can leave: its stage, still running in the project (issue 23, item 2).
        process = subprocess.Popen([sys.executable, "-m", "stages.sleeper"], cwd=repo, start_new_session=True)
        return repo, process
    if case == "dvc-still-running":  # a `dvc` console script, as its interpreter runs it: [python, .../bin/dvc, ...]
        script = tmp_path / "bin" / "dvc"
        script.parent.mkdir()
        script.write_text(SLEEPER)
        process = subprocess.Popen([sys.executable, str(script), "exp", "run"], cwd=repo, start_new_session=True)
        return repo, process
    return repo, None


REFUSALS = [  # (case, argv, a part of the one line)
    ("unknown-argument", ["--force"], "unrecognized arguments: --force (see python -m tools.restore --help)"),
    ("no-dvc-yaml", [], "no dvc.yaml in "),
    ("not-git", [], "not a git repository with a commit to go back to (fatal: not a git repository"),
    ("no-commit", [], "not a git repository with a commit to go back to (it has no commit yet)"),
    ("index-locked", [], ".git/index.lock exists: a git command is running in this repository, or one was killed "
                         "while it wrote git's index"),
    ("stage-still-running", [], "process {pid} (`{python} -m stages.sleeper`) still runs in this project; restoring now would race it"),
    ("dvc-still-running", [], "process {pid} (`{python} dvc exp run`) still runs in this project"),
    ("params-not-committed", [], "params.yaml is not committed at HEAD: there is no committed params file"),
]


@pytest.mark.parametrize("case, argv, words", REFUSALS, ids=[row[0] for row in REFUSALS])
def test_restore_refuses_in_one_line_and_changes_nothing(tmp_path, case, argv, words):
    folder, process = refused_repo(tmp_path, case)
    index = folder / ".git" / "index"
    before = (workspace(folder), index.read_bytes() if index.exists() else None)
    try:
        result = restore(folder, *argv)
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)  # the sleeper this test started, and only it
            process.wait(timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: restore: ") and result.stderr.count("\n") == 1, result.stderr
    words = words.format(pid=process.pid if process else None, python=os.path.basename(sys.executable))
    assert words in result.stderr and "Traceback" not in result.stderr and result.stdout == ""
    if case == "index-locked":
        assert "remove it (`rm -f .git/index.lock`), then run `python -m tools.restore` again" in result.stderr
    if process is not None:
        assert f"`kill {process.pid}`" in result.stderr
    assert (workspace(folder), index.read_bytes() if index.exists() else None) == before


@pytest.mark.pipeline
def test_restore_says_what_dvc_said_when_repro_fails(tmp_path):
    """A stage that fails after the params are back: one line with DVC's last words, exit 1, params as committed."""
    repo = git_repo(tmp_path, {"params.yaml": "x: 3\n", "dvc.yaml": STAGE.replace("x * x", "x / 0")})
    run([sys.executable, "-m", "dvc", "init", "-q"], repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc", cwd=repo)
    (repo / "params.yaml").write_text("x: 5\n")
    result = restore(repo)
    assert result.returncode == 1
    assert result.stderr.startswith("error: restore: `dvc repro` failed: ") and result.stderr.count("\n") == 1
    assert "params.yaml and dvc.lock are as committed" in result.stderr
    assert (repo / "params.yaml").read_text() == "x: 3\n"
    assert len(result.stdout.splitlines()) == 3  # the three steps before it
