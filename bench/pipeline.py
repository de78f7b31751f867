"""The pipeline through DVC: against its twin, stage by stage, and at scale.

Everything is read from the repository at run time: the stages, their commands,
deps, params and outputs from its ``dvc.yaml``, the values from ``params.yaml``.
A run works on copies (git's tracked and untracked-not-ignored files, the way a
clone plus the working tree's edits would look), never on the repository itself.
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.twin import build_twin
from project.commands import run
from project.errors import UserError
from project.params import set_key
from project.yamlfile import read_yaml

# A small launcher: a child forked from this (large) process would report our RSS as its peak, so
# the command is started from a fresh interpreter that reports its descendants' peak (RUSAGE_CHILDREN
# covers every descendant that was waited for: DVC's stages included). It runs the command in a
# process group of its own and, past the timeout, kills that group (DVC and its stage with it).
LAUNCHER = """
import os, resource, signal, subprocess, sys
rss, timeout, args = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
child = subprocess.Popen(args, start_new_session=True)
try:
    code = child.wait(timeout=timeout if timeout > 0 else None)
except subprocess.TimeoutExpired:
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    code = 124
open(rss, "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""
TIMED_OUT = 124


class CommandFailed(RuntimeError):
    pass


def environment():
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for key, value in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@fromzero.invalid"),
                       ("GIT_COMMITTER_NAME", "bench"), ("GIT_COMMITTER_EMAIL", "bench@fromzero.invalid")):
        env.setdefault(key, value)
    return env


def measured(args, cwd, timeout=None, extra_env=None):
    """Run a command (through project/commands.py): (seconds, peak RSS in MiB of its largest process, stdout +
    stderr). A timeout kills the command's whole process group (the launcher's doing) and raises
    CommandFailed; so does a non-zero exit."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        result = run([sys.executable, "-c", LAUNCHER, rss.name, str(timeout or 0), *map(str, args)], cwd=cwd,
                     check=False, env=dict(environment(), **(extra_env or {})))
        seconds = time.perf_counter() - start
        peak_kib = int(rss.read() or 0)
    output = result.stdout + result.stderr
    if result.returncode == TIMED_OUT:
        raise CommandFailed(f"{' '.join(map(str, args))}: timed out after {timeout} s")
    if result.returncode != 0:
        raise CommandFailed(f"{' '.join(map(str, args))} failed in {cwd}:\n{output[-3000:]}")
    return seconds, peak_kib / 1024, output


def dvc(*args):
    return [sys.executable, "-m", "dvc", *args]


def git(repo, *args):
    """git ARGS in ``repo`` (project/commands.py), with the bench's author; its standard output."""
    try:
        return run(["git", *args], cwd=repo, env=environment()).stdout
    except UserError as error:
        raise CommandFailed(str(error)) from None


def stages_run(output):
    return sorted(set(re.findall(r"Running stage '([^']+)'", output)))


def copy_repo(source, dest):
    """A fresh git repo at ``dest`` with ``source``'s working tree (tracked and untracked, not ignored), committed."""
    source, dest = Path(source), Path(dest)
    listed = git(source, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        if (source / name).is_file() and not name.startswith("bench/"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
    git(dest, "init", "-q", "-b", "main")
    commit(dest, "copy")
    return dest


def commit(repo, message):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message, "--allow-empty")


def read_params(repo):
    """params.yaml of ``repo``, read by the project's one YAML reader (project/yamlfile.py)."""
    return read_yaml(Path(repo) / "params.yaml")


def set_top_level(repo, key, value):
    """Rewrite one top-level scalar of params.yaml in place, keeping its comments (as `dvc exp run -S` does):
    a text edit, not a reader; the value is then read back through the project's reader."""
    path = Path(repo) / "params.yaml"
    text, count = re.subn(rf"(?m)^({re.escape(key)}:[ \t]*)[^#\n]*?([ \t]*(#.*)?)$", rf"\g<1>{value}\g<2>",
                          path.read_text(), count=1)
    if count != 1:
        raise ValueError(f"params.yaml has no top-level key {key!r}")
    path.write_text(text)
    if read_params(repo)[key] != value:
        raise ValueError(f"params.yaml: {key} reads back as {read_params(repo)[key]!r}, not {value!r}")


def stage_commands(repo):
    """[(name, cmd)] in dvc.yaml's order, as DVC resolves them (foreach instances such as fit@gd included),
    for running a stage alone."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        return [(stage.addressing.split(":")[-1], " ".join(stage.cmd.split())) for stage in dvc_repo.index.stages
                if getattr(stage, "cmd", None)]


def _fresh_values(base):
    """Distinct learning rates near ``base``: each run's value is new to every run-cache."""
    i = 0
    while True:
        i += 1
        yield float(f"{base * (1 + 0.0007 * i):.6g}")


def bench_pipeline(source, repeats, workdir, key="lr"):
    """`dvc exp run -S lr=<new>`, `dvc repro -f` and a no-op `dvc repro`: the project against its twin.

    Interleaved (project, twin, project, twin, ...) so drifting load on the shared machine
    hits both alike; medians over ``repeats``.
    """
    workdir = Path(workdir)
    project = copy_repo(source, workdir / "project")
    twin = copy_repo(source, workdir / "twin")
    build_twin(twin)
    commit(twin, "twin")
    repos = {"project": project, "twin": twin}
    for repo in repos.values():  # fill each cache once, then commit the outputs as the baseline
        measured(dvc("repro"), repo)
        commit(repo, "outputs")
    base = read_params(project)[key]
    values = _fresh_values(float(base))
    # Near the default rate gd converges in about as many steps; a tenth of it takes ten times the steps
    # to the same line (gd.steps is a cap, the fit stops on gd.tol): the cost of a slower rate, which the
    # twin, doing no work, does not pay. Both rerun check_params, fit@gd and evaluate either way.
    moving = _fresh_values(float(base) / 10)
    commands = {
        f"dvc exp run -S {key}=<new>": lambda value: dvc("exp", "run", "-S", f"{key}={value}"),
        f"dvc exp run -S {key}=<a tenth: ten times the steps>":
            lambda value: dvc("exp", "run", "-S", f"{key}={next(moving)}"),
        "dvc repro -f": lambda value: dvc("repro", "-f"),
        "no-op dvc repro": lambda value: dvc("repro"),
    }
    times = {name: {label: [] for label in repos} for name in commands}
    ran = {name: {label: set() for label in repos} for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            value = next(values)
            for label, repo in repos.items():
                if name == "dvc repro -f":
                    set_top_level(repo, key, value)  # a fresh value: the run-cache cannot answer
                seconds, _, output = measured(command(value), repo)
                times[name][label].append(seconds)
                ran[name][label].add(tuple(stages_run(output)))
    rows = {}
    for name in commands:
        project_s = statistics.median(times[name]["project"])
        twin_s = statistics.median(times[name]["twin"])
        rows[name] = {"project_s": round(project_s, 3), "twin_s": round(twin_s, 3),
                      "ratio": round(project_s / twin_s, 2),
                      "project_times": [round(t, 3) for t in times[name]["project"]],
                      "twin_times": [round(t, 3) for t in times[name]["twin"]],
                      "stages_run": sorted({s for run in ran[name]["project"] for s in run}),
                      "twin_stages_run": sorted({s for run in ran[name]["twin"] for s in run}),
                      "same_stages_as_twin": ran[name]["project"] == ran[name]["twin"]}
    breakdown = stage_breakdown(project, repeats)
    for name, imports in import_times(project).items():
        breakdown[name]["imports"] = imports
    for name, row in rows.items():  # what DVC itself adds: the command's time less its stages' own
        own = sum(breakdown[stage]["seconds"] for stage in row["stages_run"] if stage in breakdown)
        row["stages_alone_s"] = round(own, 3)
    return {"commands": rows, "stages": breakdown,
            "python_floor": python_floor(repeats, project)}


def why(error):
    """The line a failed command said about itself (a stage's `error: ...`), else its first line."""
    lines = str(error).splitlines()
    said = [line for line in lines if line.startswith("error: ")]
    return (said[0] if said else lines[0])[:300]


def stage_breakdown(repo, repeats, timeout=None, tolerate=False):
    """Each stage's command run alone (its inputs in place), median seconds and peak MiB."""
    result = {}
    commands = stage_commands(repo)
    samples = {name: [] for name, _ in commands}
    peaks = {name: 0.0 for name, _ in commands}
    failed = {}
    for _ in range(repeats):
        for name, command in commands:
            if name in failed:
                continue
            try:
                seconds, peak, _ = measured(["/bin/sh", "-c", command], repo, timeout=timeout)
            except CommandFailed as error:
                if not tolerate:
                    raise
                failed[name] = why(error)
                continue
            samples[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    for name, _ in commands:
        if name in failed:
            result[name] = {"seconds": None, "peak_mib": None, "error": failed[name]}
        else:
            result[name] = {"seconds": round(statistics.median(samples[name]), 3), "peak_mib": round(peaks[name])}
    return result


HEAVY = ("numpy", "scipy", "sklearn", "pandas", "matplotlib", "yaml", "PIL", "tqdm")


def import_times(repo):
    """Per stage, from -X importtime: all imports' seconds, and each heavy package's (including what it pulls in)."""
    result = {}
    for name, command in stage_commands(repo):
        _, _, output = measured(["/bin/sh", "-c", command], repo, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
        entries = []  # (seconds, depth, top-level package), in the post-order Python prints them
        for line in output.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$", line)
            if match:
                entries.append((int(match.group(1)) / 1e6, len(match.group(2)) // 2, match.group(3).split(".")[0]))
        total, packages, parents = 0.0, {}, {}
        for seconds, depth, package in reversed(entries):  # reversed: each parent before its children
            parents[depth] = package
            if depth == 0:
                total += seconds
            if package in HEAVY and (depth == 0 or parents.get(depth - 1) != package):
                packages[package] = round(packages.get(package, 0.0) + seconds, 3)  # entered from outside
        result[name] = {"total_s": round(total, 3),
                        "heavy": dict(sorted(packages.items(), key=lambda item: -item[1]))}
    return result


def python_floor(repeats, repo):
    """What any stage pays before its own work: the interpreter, and numpy's import."""
    floors = {}
    for label, code in (("python -c pass", "pass"), ("python -c 'import numpy'", "import numpy"),
                        ("python -S -I -c pass (the twin's stage)", None)):
        args = [sys.executable, "-S", "-I", "-c", "pass"] if code is None else [sys.executable, "-c", code]
        floors[label] = round(statistics.median(measured(args, repo)[0] for _ in range(max(repeats, 3))), 3)
    return floors


# ---- scale --------------------------------------------------------------------------------

def scale_params(repo, csv_name, features):
    """params.yaml for a scale run: the synthetic CSV and its features (read by the project's reader, written back
    as YAML); returns the net's batch setting."""
    path = Path(repo) / "params.yaml"
    params = read_params(repo)
    set_key(params, "data.csv", f"data/raw/{csv_name}")
    set_key(params, "data.features", list(features))
    if params.get("net", {}).get("batch_size") == 0:  # full batch over 10^6 rows for every step: what `auto` avoids
        set_key(params, "net.batch_size", 512)
    import yaml

    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return params["net"].get("batch_size")


NOTE = re.compile(r"^(?:note|warning): .*$", re.MULTILINE)


def side_by_side(repo, timeout):
    """bench/side_by_side.py on the repo's split, in its own process: (its JSON, its peak MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        _, peak, _ = measured([sys.executable, "-m", "bench.side_by_side", str(repo), "--out", out.name],
                              Path(__file__).resolve().parents[1], timeout=timeout)
        import json

        result = json.loads(Path(out.name).read_text())
    result["peak_mib"] = round(peak)
    return result


def bench_scale(source, configs, workdir, timeout):
    """For each config (name, CSV, features, whether to run scikit-learn beside it): `dvc repro` end to end (its
    notes kept), then every stage alone (seconds and peak RSS), then the side-by-side script on the same split."""
    repo = copy_repo(source, Path(workdir) / "scale")
    results = []
    for config in configs:
        csv = config["csv"]
        shutil.copy2(csv, repo / "data" / "raw" / csv.name)
        batch = scale_params(repo, csv.name, config["features"])
        commit(repo, config["name"])
        entry = {"name": config["name"], "rows": config["rows"], "columns": config["columns"],
                 "features": list(config["features"]), "net_batch_size": batch}
        print(f"bench: scale: {config['name']} ...", flush=True)
        try:
            seconds, peak, output = measured(dvc("repro"), repo, timeout=timeout)
            entry.update(dvc_repro_s=round(seconds, 2), dvc_repro_peak_mib=round(peak), stages_run=stages_run(output),
                         notes=NOTE.findall(output))
        except CommandFailed as error:
            entry["error"] = why(error)
            entry["detail"] = str(error)[-1500:]
        # Every stage alone, even after a failure: which one is slow or failing is what the lead needs.
        entry["stages"] = stage_breakdown(repo, 1, timeout=timeout, tolerate=True)
        entry["peak_stage_mib"] = max((s["peak_mib"] or 0) for s in entry["stages"].values())
        if config.get("side_by_side") and "error" not in entry:
            try:
                entry["side_by_side"] = side_by_side(repo, timeout)
            except CommandFailed as error:
                entry["side_by_side"] = {"error": why(error)}
        results.append(entry)
    return results
