"""A tool's ``--out`` writes only files it owns: a new file, or one this same tool wrote before.

Nothing else is replaced: not a file a person or another tool made (``--out params.yaml``), not a
directory, a device or a pipe (``/dev/null``, ``/dev/full``), not a symbolic link. A file is the
tool's when it carries the tool's mark, by the target's suffix:

- ``.json``: a JSON object whose ``"written_by"`` key is the tool's name (``json_text`` adds it);
- any other suffix (Markdown, HTML, text): a first line starting ``<!-- written by <tool>;``
  (``stamp`` prepends one; an HTML comment shows nowhere in rendered Markdown or HTML).

``write_owned({path: text}, tool)`` checks every target before writing any, writes each through
project/files.py's ``atomic_path`` (a temporary file beside it), and renames them into place only once
all are written. A refusal or a failed write (disk full, a read-only folder) raises ``OwnedError``
(a ``UserError``), one line naming the path, and leaves every old file as it was.
"""

import json
import os
import stat
from contextlib import ExitStack
from pathlib import Path

from project.errors import UserError
from project.files import atomic_path

JSON_KEY = "written_by"
MAX_CHECKED_BYTES = 16 << 20  # a larger file is not one we wrote; refuse it rather than read it all


class OwnedError(UserError):
    """Writing a path was refused or failed; the message is one line naming the path."""


def mark(tool):
    """The first-line mark of a text file ``tool`` wrote (a prefix: the rest of the line is free)."""
    return f"<!-- written by {tool};"


def stamp(text, tool, note="rerunning it replaces this file"):
    """``text`` with the tool's mark as its first line."""
    return f"{mark(tool)} {note} -->\n{text}"


def json_text(data, tool):
    """A JSON object (a dict) as stable text (sorted keys, 2-space indent) carrying the tool's key."""
    return json.dumps({**data, JSON_KEY: tool}, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _carries_mark(data, path, tool):
    """True when ``data`` (bytes) is a file ``tool`` wrote to ``path``."""
    if Path(path).suffix.lower() == ".json":
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return False
        return isinstance(document, dict) and document.get(JSON_KEY) == tool
    return data.split(b"\n", 1)[0].startswith(mark(tool).encode())


_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")]


def check(path, tool):
    """Raise OwnedError unless ``tool`` may write ``path``: it does not exist, or ``tool`` wrote it."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:  # e.g. a parent that is a file
        raise OwnedError(f"{path}: cannot write here: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise OwnedError(f"{path}: is {kind}; refusing to write there, give the path of a file")
    try:
        # O_NOFOLLOW and O_NONBLOCK: if it became a link or a pipe since lstat, fail instead of following or waiting.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(MAX_CHECKED_BYTES + 1)
    except OSError as error:
        raise OwnedError(f"{path}: cannot read it to see who wrote it: {error.strerror}") from None
    if len(data) > MAX_CHECKED_BYTES or not _carries_mark(data, path, tool):
        sign = f'"{JSON_KEY}": "{tool}"' if Path(path).suffix.lower() == ".json" else f"a first line {mark(tool)} ..."
        raise OwnedError(f"{path}: exists and {tool} did not write it (it lacks {sign}); "
                         "refusing to replace it: remove it or choose another path")


def write_owned(files, tool):
    """Write ``{path: text}`` all or nothing, each only if ``check(path, tool)`` allows it.

    Every text must carry the tool's mark (``stamp`` / ``json_text``), so that the next run may
    replace what this one wrote; a text without it is a bug in the caller (ValueError).
    """
    files = {Path(path): text.encode("utf-8") for path, text in files.items()}
    for path, data in files.items():
        if not _carries_mark(data, path, tool):
            raise ValueError(f"{path}: the text lacks {tool}'s mark; make it with stamp() or json_text()")
        check(path, tool)
    try:
        # Each atomic_path renames its temporary when its context closes without an error: every file is
        # written before the first rename, and a failure in any leaves every temporary removed, unrenamed.
        with ExitStack() as written:
            for path, data in files.items():
                temporary = written.enter_context(atomic_path(path))
                with open(temporary, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
    except OwnedError:
        raise
    except UserError as error:
        raise OwnedError(str(error)) from None
