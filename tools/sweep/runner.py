"""``tools.sweep run``: one runner's job, one experiment, pushed only where ``--remote`` says.

``dvc exp run -n NAME -S ...`` in the workspace, after checking the point as expand does. With
``--remote NAME`` (origin on a CI runner, a remote of its own on a person's clone) it then pushes the
experiment's ref (refs/exps/..., what ``dvc exp push`` sends) with plain ``git push``, so the runner's
git credentials apply as for any push, and, when a DVC remote is configured, ``dvc push --run-cache``.
Without ``--remote`` nothing leaves the clone: a clone's origin is someone's real repository, and
experiment refs go there only when asked.
"""

import json
import os
import re
import sys

from project import commands
from project.errors import UserError
from project.yamlfile import shown
from tools.sweep.grid import Params, experiment_name

EXAMPLE_ENTRY = '{"name": "lr-0.1", "set": ["lr=0.1"]}'
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")  # a git ref's last part, never an option
REMOTE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")  # a git remote's name (never a URL or an option)


def parse_entry(text):
    """One matrix item as expand prints it, '{"name": ..., "set": ["key=value", ...]}': (name or None, sets)."""
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UserError(f"--entry is not JSON: {error}") from None
    if not isinstance(entry, dict):
        raise UserError(f"--entry must be a JSON object, e.g. {EXAMPLE_ENTRY}; found {type(entry).__name__}")
    unknown = sorted(set(entry) - {"name", "set"})
    if unknown:
        raise UserError(f"--entry has an unknown key {shown(unknown[0])}; it takes name and set, e.g. {EXAMPLE_ENTRY}")
    sets, name = entry.get("set"), entry.get("name")
    if not isinstance(sets, list) or not sets or not all(isinstance(item, str) for item in sets):
        raise UserError(f'--entry needs "set", a non-empty list of "key=value" strings, e.g. {EXAMPLE_ENTRY}')
    if name is not None and not isinstance(name, str):
        raise UserError(f'--entry "name" must be a string, e.g. {EXAMPLE_ENTRY}')
    return name, sets


def check_name(name):
    if not NAME.fullmatch(name) or ".." in name or name.endswith((".", ".lock")):
        raise UserError(f"experiment name {shown(name)}: use up to 200 letters, digits, '.', '_' and '-' (it names a "
                        "git ref)")
    return name


def check_run(sets, name, params_path):
    """Validate one experiment as expand does, before any command runs: (["key=value", ...], name)."""
    params = Params(params_path)
    axes = params.axes(sets)
    if any(len(values) != 1 for _, values in axes):
        raise UserError("run takes one value per key (e.g. --set lr=0.1); use expand for lists")
    point = [(key, values[0]) for key, values in axes]
    params.check(point)
    texts = [(key, text) for key, (text, _) in point]
    name = experiment_name(texts) if name is None else check_name(name)
    return [f"{key}={text}" for key, text in texts], name


def check_remote_name(remote):
    """Refuse, before anything runs, a --remote that is no remote's name (a URL, an option, a typo's shape)."""
    if remote is not None and not REMOTE.fullmatch(remote):
        raise UserError(f"--remote {shown(remote)}: give the name of a git remote (`git remote` lists them), e.g. "
                        "origin")
    return remote


def check_remote(remote):
    """The remote named exists in this clone (before a long run, not after it)."""
    remotes = commands.git("remote").split()
    if remote not in remotes:
        raise UserError(f"--remote {remote!r}: no such git remote here (this clone has "
                        f"{', '.join(map(repr, remotes)) or 'none'}); add it with `git remote add {remote} URL`")


def has_dvc_remote():
    """True when a default DVC remote is configured (in .dvc/config or config.local)."""
    result = commands.run([sys.executable, "-m", "dvc", "config", "core.remote"], check=False,
                          env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    return result.returncode == 0 and bool(result.stdout.strip())


def experiment_ref(name):
    """refs/exps/.../<name> of an experiment on HEAD's baseline."""
    head = commands.git("rev-parse", "HEAD").strip()
    prefix = f"refs/exps/{head[:2]}/{head[2:]}/"
    for line in commands.git("for-each-ref", "--format=%(refname)", prefix).splitlines():
        if line.rsplit("/", 1)[-1] == name:
            return line
    raise UserError(f"experiment {name!r} not found under {prefix}")


def run_point(sets, name, remote=None, pull=True):
    """One runner: run the experiment; with ``remote``, push its ref there and its cache to the DVC remote."""
    if remote is not None:
        check_remote(remote)
    storage = has_dvc_remote()
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    if storage and pull:  # unchanged stages then restore from the run-cache instead of recomputing
        pulled = commands.run([sys.executable, "-m", "dvc", "pull", "--run-cache", "--allow-missing"], check=False,
                              env=env)
        if pulled.returncode != 0:
            print("warning: dvc pull failed; every stage will run", file=sys.stderr)
    args = ["exp", "run", "--name", name]
    for item in sets:
        args += ["-S", item]
    ran = commands.run([sys.executable, "-m", "dvc", *args], check=False, env=env)
    print(ran.stdout, end="", flush=True)  # the runner's log shows what DVC did
    if ran.returncode != 0:
        print(ran.stderr, end="", file=sys.stderr)
        said = (ran.stderr.strip() or ran.stdout.strip() or "no output").splitlines()[-1]
        raise UserError(f"`dvc {' '.join(args)}` failed: {said}")
    ref = experiment_ref(name)
    if remote is None:
        print(f"ran {ref}; kept in this clone (give --remote NAME to push it)")
        return ref
    commands.git("push", remote, f"{ref}:{ref}")
    if storage:
        commands.dvc("push", "--run-cache")
    print(f"pushed {ref} to {remote}" + (" and its cache to the DVC remote" if storage else ""))
    return ref
