"""Back to the committed params and outputs after a failed or interrupted `dvc exp run`.

    python -m tools.restore          # in the project's root, where dvc.yaml is

DVC runs an experiment in the workspace, so a run that fails or is stopped leaves it half-changed: the
`-S` values in params.yaml, the stages that ran recorded in dvc.lock (both sometimes staged), a failed
stage's outputs deleted, and, about one time in three, git's index recording the edited params.yaml's
size and time with the committed content's hash, so that git calls it unchanged and a checkout does
nothing (docs/dvc-exp-run-git-index.md). This does the one way back, saying each step in one line:

1. `git reset -q`: unstage what the run staged (a checkout from the index would bring back the
   experiment's values). It changes git's index only, no file;
2. touch params.yaml and dvc.lock (same bytes, a new time), so git compares them by content again;
3. `git checkout HEAD -- params.yaml dvc.lock`, then check that both equal HEAD's;
4. `dvc repro`: DVC puts the outputs back, from its cache or by rerunning the stages.

Before any of it, it refuses, changing nothing, while git's index is locked (`.git/index.lock`: a git
command is running, or one was killed mid-write and left it) or a DVC command or stage still runs in
this project (an orphaned stage would overwrite what this restores when it finishes). It writes no
other file: what else the workspace holds stays as it is.

Exit status: 0 restored; 1 one line on stderr saying what stopped it and what to do; 130 interrupted.
"""

import argparse
import os
import re
import stat
import sys

from project import commands
from project.errors import UserError
from tools.oneline import Parser, one_line

FILES = ("params.yaml", "dvc.lock")
AGAIN = "then run `python -m tools.restore` again"
STEPS = 4


def step(number, text):
    print(f"restore {number}/{STEPS}: {text}", flush=True)


def listed(names, most=5):
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def check_root():
    if not os.path.isfile("dvc.yaml"):
        raise UserError(f"no dvc.yaml in {os.getcwd()}: run it in the project's root, where dvc.yaml and params.yaml "
                        "are")
    found = commands.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], check=False)
    if found.returncode != 0:
        why = (found.stderr.strip().splitlines() or ["it has no commit yet"])[-1]
        raise UserError(f"{os.getcwd()}: not a git repository with a commit to go back to ({why})")


def check_index_unlocked():
    lock = commands.git("rev-parse", "--git-path", "index.lock").strip()
    if os.path.lexists(lock):
        raise UserError(f"{lock} exists: a git command is running in this repository, or one was killed while it "
                        "wrote git's index (kill -9, a CI runner torn down) and left its lock; nothing was changed. "
                        f"When no other git command is running here, remove it (`rm -f {lock}`), {AGAIN}")


def _is_dvc_or_stage(words):
    """A DVC command (`dvc ...`: the console script, run by its interpreter; `python -m dvc ...`) or a stage
    (`python -m stages.<name> ...`)."""
    if any(os.path.basename(word) == "dvc" for word in words[:2]):
        return True
    return any(flag == "-m" and (module == "dvc" or module.startswith("stages."))
               for flag, module in zip(words, words[1:]))


def still_running(root):
    """[(pid, command)] of DVC commands and stages whose working directory is in ``root`` (Linux's /proc;
    elsewhere, and for other users' processes, none are seen)."""
    if not os.path.isdir("/proc"):
        return []
    root, ours, found = os.path.realpath(root), {os.getpid(), os.getppid()}, []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry.name}/cwd")
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                words = [word.decode("utf-8", "replace") for word in handle.read(4096).split(b"\0") if word]
        except OSError:  # gone, a zombie, or another user's
            continue
        if (cwd == root or cwd.startswith(root + os.sep)) and _is_dvc_or_stage(words):
            found.append((int(entry.name), " ".join([os.path.basename(word) for word in words[:2]] + words[2:])))
    return sorted(found)


def check_nothing_running():
    running = still_running(os.getcwd())
    if running:
        pid, command = running[0]
        others = f" (and {len(running) - 1} more)" if len(running) > 1 else ""
        shown = re.sub(r"\s+", " ", command)[:100]
        raise UserError(f"process {pid} (`{shown}`){others} still runs in this project; restoring now would race it "
                        "(a stage left running by a killed `dvc exp run` writes its outputs when it ends); nothing was "
                        f"changed. Wait for it to end, or stop it with `kill {pid}`, {AGAIN}")


def unstage():
    staged = commands.git("diff", "--cached", "--name-only", "-z").split("\0")
    commands.git("reset", "-q")
    staged = [name for name in staged if name]
    step(1, f"git reset -q: unstaged {listed(staged)}" if staged else "git reset -q: nothing was staged")


def touch():
    touched = []
    for name in FILES:
        try:
            if stat.S_ISREG(os.lstat(name).st_mode):
                os.utime(name)
                touched.append(name)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise UserError(f"{name}: cannot be touched ({error.strerror or error})") from None
    step(2, f"touched {' and '.join(touched)} (same bytes, a new time): git compares them by content again"
         if touched else f"touched nothing: neither of {' and '.join(FILES)} is here (the checkout brings them back)")


def committed_files():
    """Which of FILES HEAD has; refused (before anything changes) when it has no params.yaml to go back to."""
    committed = [name for name in FILES
                 if commands.run(["git", "cat-file", "-e", f"HEAD:./{name}"], check=False).returncode == 0]
    if "params.yaml" not in committed:
        raise UserError("params.yaml is not committed at HEAD: there is no committed params file to go back to; "
                        "nothing was changed")
    return committed


def checkout(committed):
    commands.git("checkout", "HEAD", "--", *committed)
    differs = commands.run(["git", "diff", "--quiet", "HEAD", "--", *committed], check=False)
    if differs.returncode != 0:
        raise UserError(f"{' and '.join(committed)} still differ from HEAD after `git checkout HEAD --`; check "
                        f"`git status`, {AGAIN}")
    left = [name for name in FILES if name not in committed]
    step(3, f"git checkout HEAD -- {' '.join(committed)}: as committed"
         + (f" ({', '.join(left)} is not committed: left as it is)" if left else ""))


def repro():
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    # `python -m stages.x` in dvc.yaml must find this interpreter (the project's environment).
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    result = commands.run([sys.executable, "-m", "dvc", "repro"], check=False, env=env)
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise UserError(f"`dvc repro` failed: {said} (params.yaml and dvc.lock are as committed; fix what DVC names "
                        "and run `dvc repro`)")
    ran = re.findall(r"Running stage '([^']+)'", result.stdout)
    cached = re.findall(r"Stage '([^']+)' is cached - skipping run", result.stdout)
    done = ([f"ran {listed(ran, 8)}"] if ran else []) + ([f"restored {listed(cached, 8)} from DVC's cache"]
                                                          if cached else [])
    step(4, f"dvc repro: {'; '.join(done)}; every other stage up to date" if done
         else "dvc repro: every stage up to date, nothing ran")


def _main(argv):
    parser = Parser(prog="python -m tools.restore", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    check_root()
    check_index_unlocked()
    check_nothing_running()
    committed = committed_files()
    unstage()
    touch()
    checkout(committed)
    repro()


def main(argv=None):
    return one_line("restore", lambda: _main(argv))


if __name__ == "__main__":
    raise SystemExit(main())
