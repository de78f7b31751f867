"""Running git and DVC: the one helper every stage, tool and test of the project's own goes through.

A command that fails is a UserError: one line naming the command and the last line it said. A
command that may legitimately fail (is this path tracked?) is run with ``check=False``.
"""

import json
import os
import subprocess
import sys

from project.errors import UserError


def run(args, *, cwd=None, check=True, timeout=None, text=True, env=None):
    """``subprocess.run`` of ``args``, output captured; UserError if it cannot start, times out, or (with
    ``check``) exits non-zero."""
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=text, timeout=timeout, env=env,
                                **({"errors": "replace"} if text else {}))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UserError(f"`{_shown(args)}` could not run ({error})") from None
    if check and result.returncode != 0:
        said = result.stderr or result.stdout or ""
        said = said if isinstance(said, str) else said.decode("utf-8", "replace")
        lines = [line.strip() for line in said.strip().splitlines() if line.strip()] or ["no output"]
        # DVC ends a failure with a footer ("Having any troubles? ..."): its own ERROR: line says what failed.
        errors = [line for line in lines if line.startswith("ERROR:")]
        raise UserError(f"`{_shown(args)}` failed: {(errors or lines)[-1][:300]}")
    return result


def _shown(args):
    words = list(args[2:]) if args[:2] == [sys.executable, "-m"] else list(args)
    return " ".join(map(str, words))[:200]


def git(*args, cwd=None, check=True, text=True):
    """git ARGS; its standard output."""
    return run(["git", *args], cwd=cwd, check=check, text=text).stdout


def dvc(*args, cwd=None, check=True):
    """``python -m dvc ARGS`` with this interpreter (the project's environment); its standard output."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    return run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=check, env=env).stdout


def dvc_json(*args, cwd=None):
    """What ``dvc ARGS --json`` printed, parsed ({} when it printed nothing)."""
    return json.loads(dvc(*args, "--json", cwd=cwd) or "{}")


def resolve_revision(name):
    """A git commit for a branch, tag, SHA or DVC experiment name."""
    found = run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"], check=False)
    if found.returncode == 0:
        return found.stdout.strip()
    for line in git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps").splitlines():
        ref, sha = line.split()
        if ref.rsplit("/", 1)[-1] == name:
            return sha
    raise UserError(f"base revision {name!r} is neither a git revision nor a DVC experiment")


def file_at(revision, path, cwd=None):
    """A git-tracked file's bytes at a revision, or None where it did not exist (or there is no git)."""
    try:
        result = run(["git", "--no-optional-locks", "show", f"{revision}:{path}"], cwd=cwd, check=False, text=False)
    except UserError:
        return None
    return result.stdout if result.returncode == 0 else None
