"""The folder beside the report that holds its PNG pictures, and only what the report wrote there.

The folder is new, or the one the report wrote: its index.md carries the report's mark and lists the
PNGs it wrote, the only files it replaces or removes.
"""

import os
import re
import stat
from pathlib import Path

from project.files import write_bytes
from tools.markdown import code
from tools.owned import OwnedError, stamp, write_owned
from tools.owned import check as check_owned

TOOL = "tools.report"  # the pictures folder is the report's: its index.md carries the report's mark
PICTURES_INDEX = "index.md"
_LISTED = re.compile(r"^<!-- pictures: (.*) -->$", re.M)
_PICTURE_NAME = re.compile(r"[a-z0-9_.-]+\.png")


def pictures_folder(out):
    """Where the PNGs of the report ``out`` go: ``<folder>/<stem>-pictures/``."""
    return out.parent / f"{out.stem}-pictures"


def owned_pictures(folder):
    """The PNG names this tool wrote in ``folder`` last time (none if it does not exist yet).

    OwnedError when the folder is not this tool's: not a directory, or a directory without an
    index.md carrying the tool's mark that is not empty.
    """
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return set()
    except OSError as error:
        raise OwnedError(f"{folder}: cannot write the report's pictures here: {error.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise OwnedError(f"{folder}: is not a directory (the report's pictures go there); refusing to replace "
                         "it: remove it or choose another --out")
    index = folder / PICTURES_INDEX
    check_owned(index, TOOL)
    if not index.exists():
        if any(folder.iterdir()):
            raise OwnedError(f"{folder}: exists and {TOOL} did not write it (no {PICTURES_INDEX} with its mark); "
                             "refusing to write pictures into it: remove it or choose another --out")
        return set()
    listed = _LISTED.search(index.read_text(encoding="utf-8", errors="replace"))
    return {name for name in (listed.group(1).split(", ") if listed else []) if _PICTURE_NAME.fullmatch(name)}


def pictures_index(report, pictures, names):
    """index.md of the pictures folder: every picture shown (for reading offline), and the list of files."""
    lines = [f"# The pictures of {code(report, cell=False)}", "",
             "Written by `python -m tools.report`; the report itself draws its charts with Mermaid.", ""]
    for picture in pictures:
        lines += [f"## {code(picture.title, cell=False)}", ""]
        lines += [f"![{Path(name).stem}]({name})" for name in picture.files]
        if picture.problem:
            lines.append(f"Not rendered: {code(picture.problem, cell=False)}")
        lines.append("")
    lines.append(f"<!-- pictures: {', '.join(sorted(names))} -->")
    return stamp("\n".join(lines) + "\n", TOOL)


def write_pictures(folder, files, index):
    """Write ``files`` ({png name: bytes}) and ``index(names)`` into ``folder``, replacing only this tool's.

    A PNG there that the last index did not list is not ours: refused (OwnedError), nothing written.
    The index lists every name before the PNGs land, so a run that dies midway never orphans one.
    """
    previous = owned_pictures(folder)
    for name in files:
        target = folder / name
        if os.path.lexists(target) and (name not in previous or not stat.S_ISREG(os.lstat(target).st_mode)):
            raise OwnedError(f"{target}: exists and {TOOL} did not write it; refusing to replace it: "
                             "remove it or choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_owned({folder / PICTURES_INDEX: index(previous | set(files))}, TOOL)
        for name, data in files.items():
            write_bytes(folder / name, data)
        for name in previous - set(files):  # an earlier run's picture of a plot that no longer changed
            target = folder / name
            if os.path.lexists(target) and stat.S_ISREG(os.lstat(target).st_mode):
                os.remove(target)
    except OSError as error:
        raise OwnedError(f"{folder}: cannot write the pictures: {error.strerror or error}") from None
    write_owned({folder / PICTURES_INDEX: index(set(files))}, TOOL)
