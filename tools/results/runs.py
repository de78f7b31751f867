"""The configurations docs/results.md describes, each run as a user would run it, in a temporary copy.

Each configuration is `dvc exp run -S ...` in a temporary copy of this repository's files (tracked and
new, as a fresh clone would have them), committed as one repository, so the workspace, its experiments
and its DVC cache are untouched. What each run wrote (metrics/evaluate.json's details.test,
metrics/cv.json, metrics/fit.json) is what the page is rendered from.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from project import commands
from project.errors import UserError
from project.files import NotOurJSON, read_json
from project.params import read_params

ROOT = Path(__file__).resolve().parents[2]
TWELVE = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "LSTAT"]
CONFIGURATIONS = {  # name: (what the page calls it, the `dvc exp run -S` overrides)
    "default": ("`RM` alone: the default `params.yaml`", []),
    "rm_lstat": ("`RM` and `LSTAT`", ["data.features=[RM,LSTAT]"]),
    "twelve": ("the 12 columns other than `B`", [f"data.features=[{','.join(TWELVE)}]"]),
}
METRICS = {"test": "evaluate.json", "cv": "cv.json", "fit": "fit.json"}  # metrics/<file>'s details.<kind>
MAX_METRICS_BYTES = 16 << 20  # the evaluate stage writes a few KB


def _environment():
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    # `python -m stages.x` in dvc.yaml must find this interpreter (the project's venv).
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "fromzero results")
        env.setdefault(f"GIT_{role}_EMAIL", "results@fromzero.invalid")
    return env


def _run(args, cwd):
    return commands.run(args, cwd=cwd, env=_environment()).stdout


def copy_project(source, destination):
    """The files a fresh clone of ``source`` would have (tracked and new, not ignored), committed as one repo."""
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], source)
    for name in filter(None, listed.split("\0")):
        path = Path(source) / name
        if path.is_file():
            target = Path(destination) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    _run(["git", "init", "-q"], destination)
    _run(["git", "add", "-A"], destination)
    _run(["git", "commit", "-q", "-m", "the project as it stands"], destination)


def read_metrics(repo):
    """{kind: {model: {...}}} of what the pipeline wrote in ``repo``'s metrics/, read strictly."""
    found = {}
    for kind, file in METRICS.items():
        path = Path(repo) / "metrics" / file
        try:
            document = read_json(path, max_bytes=MAX_METRICS_BYTES)
        except FileNotFoundError:
            raise UserError(f"{path}: not found; run `dvc repro` (or `dvc exp run`) first") from None
        except (NotOurJSON, ValueError, RecursionError) as error:
            raise UserError(f"{path}: not what the pipeline writes ({error})") from None
        except OSError as error:
            raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
        section = document.get("details", {}).get(kind) if isinstance(document, dict) else None
        if not isinstance(section, dict) or not all(isinstance(row, dict) for row in section.values()):
            raise UserError(f"{path}: expected details.{kind} = {{model: {{...}}}}, as the pipeline writes it")
        found[kind] = section
    return found


def measure(repo, name):
    """Run configuration ``name`` in the git + DVC repository ``repo`` (its workspace changes); its metrics."""
    _, overrides = CONFIGURATIONS[name]
    _run(["git", "checkout", "-q", "HEAD", "--", "params.yaml"], repo)  # never stacked on an earlier run
    _run([sys.executable, "-m", "dvc", "exp", "run", *[arg for item in overrides for arg in ("-S", item)]], repo)
    return read_metrics(repo)


def settings(repo):
    """The params the tables' headers and intervals depend on, read and validated as the stages read them."""
    params = read_params(Path(repo) / "params.yaml", keys=["seed", "seeds", "cv", "evaluate"])
    return {"seed": params["seed"], "seeds": params["seeds"], "folds": params["cv"]["folds"],
            "bootstrap": params["evaluate"]["bootstrap"], "confidence": params["evaluate"]["confidence"]}


def run_configurations(names, source=ROOT):
    """{name: metrics} for each configuration, run one after the other in one temporary copy of ``source``."""
    measured = {}
    with tempfile.TemporaryDirectory(prefix="fromzero-results-") as folder:
        repo = Path(folder) / "repo"
        repo.mkdir()
        copy_project(source, repo)
        for name in names:
            started = time.monotonic()
            print(f"{name}: dvc exp run {' '.join(map(repr, CONFIGURATIONS[name][1]))}".rstrip(), file=sys.stderr,
                  flush=True)
            measured[name] = measure(repo, name)
            print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        found = settings(repo)
    return measured, found
