"""Talking to git and DVC: a revision's files, a name resolved to a commit, DVC's answers as JSON.

A command that fails is a StageError: one line naming the command and the last line it said.
"""

import json
import subprocess
import sys

from stages.cli import StageError


def _run(args):
    result = subprocess.run(args, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        command = " ".join(args[2:] if args[0] == sys.executable else args)
        last_line = ((result.stderr or result.stdout).strip().splitlines() or ["no output"])[-1]
        raise StageError(f"`{command}` failed: {last_line}")
    return result.stdout


def dvc_json(*args):
    """What ``dvc ARGS --json`` printed, parsed ({} when it printed nothing)."""
    return json.loads(_run([sys.executable, "-m", "dvc", *args, "--json"]) or "{}")


def resolve_revision(name):
    """A git commit for a branch, tag, SHA or DVC experiment name."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"],
                           capture_output=True, text=True, errors="replace")
    if found.returncode == 0:
        return found.stdout.strip()
    refs = _run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"]).splitlines()
    for line in refs:
        ref, sha = line.split()
        if ref.rsplit("/", 1)[-1] == name:
            return sha
    raise StageError(f"base revision {name!r} is neither a git revision nor a DVC experiment")


def file_at(revision, path):
    """A git-tracked file's bytes at a revision, or None where it did not exist."""
    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True)
    return result.stdout if result.returncode == 0 else None
