"""docs/experiments.md's sweep and sharing blocks, run as a reader runs them: in a clone that has an origin.

tests/test_docs.py runs every page in a copy that has an `origin` (a bare repository standing in for
the reader's real one, e.g. GitHub) and fails if a block changes it (issue 23, item 15: the page once
added a remote named origin, and a sweep would have pushed to the reader's own). This fast check reads
the page: no command outside the colleague's own clone names origin, and the sweep names its remote.
"""

import re

from tests.test_docs import shell_blocks

PAGE = "docs/experiments.md"
PUSHING = re.compile(r"\b(git (push|remote add|fetch)|dvc exp (push|pull)|tools\.sweep (run|collect))\b")


def from_the_sweep_on():
    blocks = shell_blocks(PAGE)
    first = next(index for index, (code, _) in enumerate(blocks) if "tools.sweep expand" in code)
    return blocks[first:]


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
