"""Interrupted runs: a stage stopped by Ctrl-C or SIGTERM says so in one line and leaves its outputs whole;
an interrupted `dvc exp run` is undone by the one recipe check_params prints (issue 19, item 5)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stages.check_params import RESTORE, restore_command
from tests.conftest import ROOT, dvc_env, only_error_line, run_stage


# ---- tier 2: the stage itself ---------------------------------------------------------------------

def test_ctrl_c_in_a_stage_is_one_line_naming_it_and_exit_130(project, capsys, monkeypatch):
    from stages import fit

    for name in ("check_params", "load"):
        assert run_stage(project, name) == 0

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit, "cross_validation", interrupted)
    assert run_stage(project, "fit@gd") == 130
    line = only_error_line(capsys)
    assert line == "error: fit@gd: interrupted by SIGINT (Ctrl-C); no output is half-written: each is its old file " \
                   "or its new one"
    assert not (project.root / "models/gd").exists()


def stage_command(project, name):
    from tests.conftest import stage_commands

    module, argv = stage_commands()[name]
    return [sys.executable, "-m", module, "--params", project.path("params.yaml"), *argv]


@pytest.mark.parametrize("signum, status, words", [
    (signal.SIGINT, 130, "interrupted by SIGINT (Ctrl-C)"),
    (signal.SIGTERM, 143, "interrupted by SIGTERM"),
])
def test_a_signal_mid_fit_is_one_line_no_traceback_and_the_old_outputs_stay(project, signum, status, words):
    """A real process, a real signal, halfway through a fit of the net (long on purpose)."""
    for name in ("check_params", "load", "fit@net"):
        assert run_stage(project, name) == 0
    folder = project.root / "models/net"
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    project.set("net.steps", 200_000)
    process = subprocess.Popen(stage_command(project, "fit@net"), cwd=project.root, stderr=subprocess.PIPE,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wait_for_cpu(process.pid, 2.0)  # Python, numpy and the stage's handlers up, the descent under way, at any load
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    assert err.strip().splitlines() == [f"error: fit@net: {words}; no output is half-written: each is its old file "
                                        "or its new one"]
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before
    assert not [path for path in project.root.rglob("*.tmp")]


@pytest.mark.parametrize("code, name", [
    # between `python -m stages.x` importing the package and the stage's own handling (imports under way)
    ("import stages; os.kill(os.getpid(), signal.SIGINT); time.sleep(10)", "stages"),
    ("sys.orig_argv = [sys.executable, '-m', 'stages.fit', 'knn']; import stages; "
     "os.kill(os.getpid(), signal.SIGINT); time.sleep(10)", "fit@knn"),
    # after the stage's main returned: what it printed still reaches its reader
    ("import stages; from stages.cli import stage_main; stage_main(lambda argv: print('fitted'))(); "
     "os.kill(os.getpid(), signal.SIGINT); time.sleep(10)", "stages"),
])
def test_ctrl_c_while_a_stage_starts_or_ends_is_the_same_one_line(code, name):
    """Under load, DVC passed Ctrl-C to a stage still importing numpy: a KeyboardInterrupt traceback."""
    result = subprocess.run([sys.executable, "-c", f"import os, signal, sys, time; sys.argv = ['-m']; {code}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines() == [f"error: {name}: interrupted by SIGINT (Ctrl-C); no output is "
                                          "half-written: each is its old file or its new one"]
    assert result.stdout == ("fitted\n" if "fitted" in code else "")


def test_a_stage_started_with_ctrl_c_ignored_keeps_ignoring_it():
    """`nohup` and some CI runners start a process with SIGINT ignored; the stage must not take it back."""
    code = ("import os, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); sys.argv = ['-m']; "
            "import stages; from stages.cli import stage_main; "
            "stage_main(lambda argv: os.kill(os.getpid(), signal.SIGINT) or time.sleep(0.2))(); "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2); print('still here')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "still here\n", "")


def wait_for_cpu(pid, seconds, timeout=120):
    """Wait until the process has used ``seconds`` of CPU: a point in its run that does not move with the load
    (a fixed sleep did, and a loaded machine once signalled a stage before it had started: issue 23)."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= seconds:  # utime + stime
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not get {seconds} s of CPU in {timeout} s")


def test_the_restore_recipe_names_the_params_file_and_the_lock_beside_it():
    assert restore_command("params.yaml") == ("git reset -q && touch params.yaml dvc.lock && "
                                              "git checkout HEAD -- params.yaml dvc.lock && dvc repro")
    assert "{path}" in RESTORE and "{lock}" in RESTORE


# ---- tier 3: `dvc exp run` interrupted, then the recipe -----------------------------------------------

# When the signal is sent: the first line DVC prints (the experiment's params already written), a stage
# running (fit@gd, which lr reruns), and DVC committing the experiment (every stage done).
MOMENTS = {"early": "Reproducing experiment", "mid-stage": "> python -m stages.fit gd",
           "while DVC commits": "Stage 'plot_templates'"}
# Ctrl-C reaches the terminal's whole process group; `kill` and `timeout` send SIGTERM to DVC alone;
# SIGKILL (the OOM killer, a CI runner torn down) takes the whole group.
SIGNALS = {"SIGINT": (signal.SIGINT, True), "SIGTERM": (signal.SIGTERM, False), "SIGKILL": (signal.SIGKILL, True)}


def files_of(repo):
    """{path: md5} of every file outside .git and .dvc: the workspace as a user sees it."""
    found = {}
    for path in sorted(Path(repo).rglob("*")):
        relative = path.relative_to(repo).as_posix()
        if path.is_file() and not relative.startswith((".git/", ".dvc/")):
            found[relative] = hashlib.md5(path.read_bytes()).hexdigest()
    return found


def run_recipe(repo):
    """The way back check_params prints, as a user runs it: `python -m tools.restore` (the recipe, step by step)."""
    return subprocess.run([sys.executable, "-m", "tools.restore"], cwd=repo, env=dvc_env(), capture_output=True,
                          text=True)


def group_gone(pgid, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.pipeline
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("signal_name", list(SIGNALS))
def test_an_interrupted_exp_run_is_undone_by_the_recipe(pipeline_repo, signal_name, moment):
    repo = pipeline_repo
    committed = files_of(repo)
    signum, whole_group = SIGNALS[signal_name]
    process = subprocess.Popen([sys.executable, "-m", "dvc", "exp", "run", "-S", "lr=0.001"], cwd=repo,
                               env=dvc_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if MOMENTS[moment] in line:
            time.sleep(0.3)
            os.killpg(process.pid, signum) if whole_group else process.send_signal(signum)
            break
    rest = process.stdout.read()
    process.wait(timeout=120)
    assert group_gone(process.pid, timeout=10), "a stage outlived DVC"  # it notices DVC gone within a second
    assert MOMENTS[moment] in "".join(seen), "".join(seen) + rest
    assert "Traceback" not in "".join(seen) + rest

    result = run_recipe(repo)
    lock = Path(repo) / ".git/index.lock"
    if result.returncode != 0 and signal_name in ("SIGTERM", "SIGKILL") and lock.exists():
        # DVC catches neither signal: killed while it wrote git's index, it leaves the lock; the tool refuses,
        # changing nothing, and says to remove it (no process is left to), as docs/troubleshooting.md does.
        assert "index.lock exists" in result.stderr and "rm -f" in result.stderr, result.stderr
        lock.unlink()
        result = run_recipe(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""
    status = subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=repo, env=dvc_env(), capture_output=True,
                            text=True)
    assert "up to date" in status.stdout, status.stdout
    assert files_of(repo) == committed  # params.yaml as committed, every output byte for byte


@pytest.mark.pipeline
def test_a_lock_left_by_a_killed_git_write_is_named_by_git_and_the_documented_step_clears_it(pipeline_repo):
    """What `kill -9` during DVC's commit can leave (seen once in CI): the recipe stops on git's own
    words, and docs/troubleshooting.md's `rm -f .git/index.lock` then lets it finish."""
    repo = pipeline_repo
    committed = files_of(repo)
    params = Path(repo) / "params.yaml"
    params.write_text(params.read_text().replace("lr: 0.01", "lr: 0.001", 1))
    assert files_of(repo) != committed
    (Path(repo) / ".git/index.lock").write_bytes(b"")
    stopped = run_recipe(repo)
    assert stopped.returncode != 0 and "index.lock exists" in stopped.stderr, stopped.stderr
    shell = subprocess.run(restore_command("params.yaml"), shell=True, cwd=repo, env=dvc_env(), capture_output=True,
                           text=True)  # the recipe as shell: git's own words
    assert shell.returncode != 0 and "index.lock': File exists." in shell.stderr, shell.stderr
    assert "rm -f .git/index.lock" in (ROOT / "docs/troubleshooting.md").read_text()
    subprocess.run("rm -f .git/index.lock", shell=True, cwd=repo, check=True)
    finished = run_recipe(repo)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert files_of(repo) == committed


@pytest.mark.pipeline
def test_a_stage_whose_dvc_is_killed_stops_and_never_overwrites_the_restored_workspace(pipeline_repo):
    """Issue 23: SIGTERM to DVC alone during a long fit@net left the stage running as an orphan; the recipe
    then restored the workspace, and the orphan, finishing, replaced models/net with the experiment's model.
    The stage watches the `dvc` process that started it and stops, in one line, once it is gone."""
    repo = pipeline_repo
    committed = files_of(repo)
    process = subprocess.Popen([sys.executable, "-m", "dvc", "exp", "run", "-S", "net.steps=400000"], cwd=repo,
                               env=dvc_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    for line in process.stdout:
        if "> python -m stages.fit net" in line:
            break
    deadline, stage = time.monotonic() + 30, None
    while stage is None and time.monotonic() < deadline:  # DVC prints the command, then starts it
        # the Python process itself, not the `sh -c` DVC may start it through (a shell uses no CPU)
        stage = next((pid for pid in children(process.pid) if b"stages.fit" in cmdline(pid).split(b"\0")), None)
        time.sleep(0.05)
    assert stage is not None, "fit@net never started"
    wait_for_cpu(stage, 2.0)
    process.send_signal(signal.SIGTERM)  # DVC alone, as `kill` or `timeout` would
    said = process.stdout.read()
    process.wait(timeout=60)
    assert group_gone(process.pid, timeout=10), "the stage outlived DVC"
    assert "the `dvc` process that ran this stage is gone" in said and "Traceback" not in said, said
    result = run_recipe(repo)
    lock = Path(repo) / ".git/index.lock"
    if result.returncode != 0 and lock.exists():
        lock.unlink()
        result = run_recipe(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    time.sleep(2.0)  # an orphan would write now
    assert files_of(repo) == committed


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def children(pid):
    """Every descendant of ``pid`` (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == parent:
                    found.append(int(entry.name))
                    todo.append(int(entry.name))
    return found
