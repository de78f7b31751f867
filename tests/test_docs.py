"""The manual runs as written: every shell block of README.md and the pages below, in order, on a fresh copy.

Each page gets its own fresh copy of the committed project after `dvc repro` (conftest's pipeline_repo),
and its blocks tagged bash, sh or shell run in document order with `bash -eo pipefail`, each in the
state the blocks before it left, as a reader who copies them one after the other would. A failing
block fails the test with its text and its output. So a renamed flag, a command that no longer
exists, a stacked experiment (the docs go back with `git checkout HEAD -- params.yaml` before the
next, and check the numbers they print) or a number that moved fails CI.

Sample output goes in ```text blocks, commands that need GitHub or a cloud account in ```text or
```yaml blocks; neither is run. Two exceptions, asserted rather than skipped:
- the README's install prefix (`python3 -m venv .venv && ... pip install --no-deps -e . &&`) is not run
  (the tests already run inside that environment): it must equal the prefix .ci/run installs with;
- the README's second command (that prefix, then `pytest`) is not run inside the tests: .ci/run runs
  it verbatim.

Fast checks beside it: every page is listed in PAGES, every shell block is valid bash, and every relative
link (file and #anchor) resolves.
"""

import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, dvc_env

# README first, then the pages in the order a reader meets them from it.
PAGES = ["README.md", "docs/tutorial.md", "docs/reproducibility.md", "docs/experiments.md", "docs/results.md", "docs/derivatives.md",
         "docs/params.md", "docs/troubleshooting.md", "docs/dvc-exp-run-git-index.md", "docs/contributing.md", "bench/README.md",
         "data/README.md"]
SHELLS = ("bash", "sh", "shell")
INSTALL = ("python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.lock && "
           "pip install --no-deps -e . && ")
BLOCK_TIMEOUT = 600


def fenced_blocks(text):
    """[(language, code, line number of the opening fence)] of every top-level fenced block, in order."""
    blocks, language, start, lines = [], None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        if language is None:
            match = re.match(r"^```\s*([\w+-]*)\s*$", line)
            if match:
                language, start, lines = match.group(1).lower(), number, []
        elif line.startswith("```"):
            blocks.append((language, "\n".join(lines) + "\n", start))
            language = None
        else:
            lines.append(line)
    assert language is None, f"a fenced block opened at line {start} is never closed"
    return blocks


def shell_blocks(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    return [(code, line) for language, code, line in fenced_blocks(text) if language in SHELLS]


def ci_commands():
    """The README commands .ci/run runs: the lines of it that start the venv."""
    return [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
            if line.strip().startswith("python3 -m venv")]


def readme_blocks():
    """The README's shell blocks as the test runs them: its install prefix asserted equal to .ci/run's and
    replaced by this environment, its test command asserted to be what .ci/run runs, and not run."""
    blocks = shell_blocks("README.md")
    commands = [line for code, _ in blocks for line in code.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2, commands
    build, test = commands
    # Both start with the install prefix, and .ci/run runs the second verbatim: so the prefix replaced
    # below by this environment is the one CI installs with, and the tests CI runs are the README's.
    assert build.startswith(INSTALL) and test == INSTALL + "pytest", (build, test)
    assert test in ci_commands(), f".ci/run must run the README's test command verbatim: {test}"
    runnable = []
    for code, line in blocks:
        code = code.replace(test + "\n", "").replace(build, build.removeprefix(INSTALL))
        runnable.append((code, line))
    return runnable


def blocks_to_run(page):
    return readme_blocks() if page == "README.md" else shell_blocks(page)


def test_every_page_is_in_the_order():
    pages = {"README.md", "bench/README.md", "data/README.md",
             *(path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md"))}
    assert sorted(pages) == sorted(PAGES)


def test_the_readme_commands_are_the_ones_ci_runs():
    readme_blocks()  # its assertions


def test_every_shell_block_is_valid_bash():
    for page in PAGES:
        for code, line in shell_blocks(page):
            result = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
            assert result.returncode == 0, f"{page}:{line}: {result.stderr}\n{code}"


def test_the_params_page_has_every_key_check_params_knows():
    """The project's keys are on the page; a model's settings on the page or in its class's docstring (where a
    contributor documents a new model's), so the page never needs an edit for a model added to models.yaml."""
    import inspect

    from project.models import read_models
    from project.schema import model_schema, schema_for

    page = (ROOT / "docs" / "params.md").read_text(encoding="utf-8")
    registry = read_models(ROOT / "models.yaml")
    models = {key: entry for entry in registry for key in model_schema(entry)}
    missing = [key for key in schema_for(registry) if f"`{key}`" not in page and not (
        key in models and key.rsplit(".", 1)[-1] in inspect.getdoc(models[key].model_class) + "".join(
            inspect.getsource(models[key].model_class).split("def ", 1)[:1]))]
    assert not missing, f"docs/params.md (or the model's class) does not describe {missing}"


def test_the_dvc_messages_table_is_the_suites_data():
    from tests.test_dvc_messages import table

    start, end = "<!-- dvc-messages: generated by `python -m tests.test_dvc_messages` -->", "<!-- /dvc-messages -->"
    page = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert start in page and end in page
    assert page.split(start)[1].split(end)[0].strip() == table(), \
        "docs/troubleshooting.md out of date: paste `python -m tests.test_dvc_messages` between the markers"


# ---- links ----------------------------------------------------------------------------------------

LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path):
    """GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, spaces to -)."""
    found, seen = set(), {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            text = re.sub(r"[`*]|<[^>]+>", "", match.group(1)).strip().lower()
            slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    found |= set(re.findall(r'<a (?:name|id)="([^"]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        source = ROOT / page
        text = re.sub(r"```.*?```", "", source.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (source.parent / path).resolve() if path else source
            if not file.exists():
                broken.append(f"{page}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page}: {target} (no heading #{anchor} in {file.relative_to(ROOT)})")
    assert not broken, "\n".join(broken)


# ---- the pipeline tier: run them ---------------------------------------------------------------

def run_block(code, repo):
    env = dvc_env()
    env.pop("VIRTUAL_ENV", None)
    env["COLUMNS"] = "160"  # what the docs say a terminal shows
    return subprocess.run(["bash", "-eo", "pipefail", "-c", code], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=BLOCK_TIMEOUT)


@pytest.mark.pipeline
@pytest.mark.parametrize("page", PAGES)
def test_every_shell_block_runs_in_order_on_a_fresh_copy(page, pipeline_repo, tmp_path):
    """On a copy with an `origin`, as a reader's clone has: no block may push to it (issue 23: a block added a
    remote named origin, which fails on a clone, and a sweep would have pushed to the reader's real one)."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(pipeline_repo), str(origin)], check=True, capture_output=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=pipeline_repo, check=True)
    refs = subprocess.run(["git", "for-each-ref"], cwd=origin, capture_output=True, text=True).stdout
    timings = []
    for code, line in blocks_to_run(page):
        started = time.monotonic()
        result = run_block(code, pipeline_repo)
        timings.append(f"line {line}: {time.monotonic() - started:.1f} s")
        if result.returncode != 0:
            pytest.fail(f"{page}, the block at line {line} exited {result.returncode}:\n{code}\n"
                        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}",
                        pytrace=False)
    print(f"{page}: " + ", ".join(timings), file=sys.stderr)
    assert subprocess.run(["git", "for-each-ref"], cwd=origin, capture_output=True, text=True).stdout == refs, \
        f"{page} changed the reader's origin"
