"""docs/experiments.md's sweep and sharing blocks, run as a reader runs them: in a clone that has an origin.

tests/test_docs.py runs every page in a copy whose repository has no remote at all, where
`git remote add origin ...` passes and a push to origin reaches nothing that matters (issue 23, item
15). Here the copy first gets an `origin` (a bare repository standing in for the reader's real one,
e.g. GitHub), and the blocks from the sweep section to the end of the page run in order as
tests/test_docs.py runs them. They must all pass, and the real origin must be left exactly as it was:
no experiment ref, no branch, nothing pushed. A fast check beside it reads the page: no command
outside the colleague's own clone names origin.
"""

import re

import pytest

from tests.conftest import git
from tests.test_docs import run_block, shell_blocks

PAGE = "docs/experiments.md"
PUSHING = re.compile(r"\b(git (push|remote add|fetch)|dvc exp (push|pull)|tools\.sweep (run|collect))\b")


def from_the_sweep_on():
    blocks = shell_blocks(PAGE)
    first = next(index for index, (code, _) in enumerate(blocks) if "tools.sweep expand" in code)
    return blocks[first:]


def refs(repo):
    return git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo).stdout.splitlines()


def test_the_pages_pushes_and_fetches_never_name_the_readers_origin():
    """Outside the colleague's fresh clone (whose origin is the page's stand-in), no git or sweep command that
    talks to a remote names origin; the sweep's run and collect name theirs with --remote."""
    blocks = from_the_sweep_on()
    assert blocks, f"{PAGE} has no sweep block"
    talking = []
    for code, line in blocks:
        in_colleagues_clone = False
        for command in code.splitlines():
            command = command.split(" #", 1)[0]
            in_colleagues_clone |= "cd ../colleague" in command
            if PUSHING.search(command) and not in_colleagues_clone:
                talking.append((line, command))
                assert not re.search(r"\borigin\b", command), f"{PAGE}:{line}: {command}"
                if "tools.sweep run" in command or "tools.sweep collect" in command:
                    assert "--remote " in command, f"{PAGE}:{line}: {command}"
    assert any("tools.sweep run" in command for _, command in talking)


@pytest.mark.pipeline
def test_the_sweep_and_sharing_blocks_run_in_a_clone_that_has_an_origin(pipeline_repo, tmp_path):
    repo = pipeline_repo
    real = tmp_path / "real-origin.git"  # the reader's origin (GitHub); the page's stand-in is ../fromzero-demo.git
    git("init", "-q", "--bare", "-b", "main", str(real), cwd=tmp_path)
    git("remote", "add", "origin", str(real), cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    before = refs(real)

    for code, line in from_the_sweep_on():
        result = run_block(code, repo)
        if result.returncode != 0:
            pytest.fail(f"{PAGE}, the block at line {line} exited {result.returncode} in a clone with an origin:\n"
                        f"{code}\n--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}",
                        pytrace=False)

    assert refs(real) == before, "the page pushed to the reader's own origin"
    assert git("remote", "get-url", "origin", cwd=repo).stdout.strip() == str(real)
    demo = [ref for ref in refs(tmp_path / "fromzero-demo.git") if ref.split()[0].startswith("refs/exps/")]
    names = {ref.split()[0].rsplit("/", 1)[-1] for ref in demo}
    assert {"sweep1_lr-0.1", "sweep1_lr-0.001", "lr-small"} <= names, names  # they went to the page's stand-in
