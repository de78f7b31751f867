"""docs/tutorial.md and its pictures, generated from the outputs of the run in this checkout.

    python -m tools.tutorial                 # write docs/tutorial.md and docs/tutorial/*.png
    python -m tools.tutorial --check         # exit 1 when they are not what the outputs give (nothing written)
    python -m tools.tutorial --out DIR       # write DIR/tutorial.md and DIR/tutorial/*.png instead

Run it from the repository root after `dvc repro` (or `dvc exp run`): it reads params.yaml, models.yaml,
dvc.lock, metrics/, models/, data/prepared/, plots/eda/ and docs/results.json, and runs nothing. The
page and every picture are drawn first, in a temporary folder, and written only once all are drawn. It
replaces only a page it wrote (its first line says so) and pictures in its own folder.

Exit status: 0 done (with --check: equal); 1 a difference, or one line on stderr saying what failed;
130 interrupted.
"""

import argparse
import os
import stat
import tempfile
from pathlib import Path

from project.errors import UserError
from project.files import write_bytes
from tools.oneline import Parser, one_line
from tools.owned import check as check_owned
from tools.owned import write_owned
from tools.tutorial.page import PICTURES_FOLDER, TOOL, compute, render
from tools.tutorial.pictures import draw_all
from tools.tutorial.run import read_run

PAGE_NAME = "tutorial.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def build_parser():
    parser = Parser(prog="python -m tools.tutorial", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="write nothing: exit 1 when the page or a picture differs from what the outputs give")
    parser.add_argument("--out", type=Path, default=Path("docs"),
                        help=f"the folder of {PAGE_NAME} and its pictures' folder {PICTURES_FOLDER}/ (docs)")
    return parser


def draw(folder):
    """Render the page and draw its pictures into ``folder``: (the page's text, {picture: its bytes})."""
    run = read_run()
    gradients, found, ties, seen = compute(run)
    text = render(run, gradients, found, ties, seen)
    names = draw_all(run, seen, folder)
    return text, {name: (folder / name).read_bytes() for name in names}


def _regular(path):
    """The bytes of a regular file at ``path``, None where there is none; UserError for anything else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        raise UserError(f"{path}: not a regular file (a directory, a link or a device); refusing to use it")
    return Path(path).read_bytes()


def differences(out, text, pictures):
    """[lines]: how ``out``'s page and pictures differ from ``text`` and ``pictures`` (none: equal)."""
    found, page, folder = [], out / PAGE_NAME, out / PICTURES_FOLDER
    again = "run `python -m tools.tutorial`" + (f" --out {out}" if out != Path("docs") else "")
    shown = _regular(page)
    if shown is None:
        found.append(f"{page}: missing; {again}")
    elif shown != text.encode("utf-8"):
        found.append(f"{page}: not what this checkout's outputs give; {again}")
    for name, data in pictures.items():
        drawn = _regular(folder / name)
        if drawn != data:
            found.append(f"{folder / name}: {'missing' if drawn is None else 'a different picture'}; {again}")
    if folder.is_dir():
        found += [f"{path}: not a picture the page shows; remove it" for path in sorted(folder.iterdir())
                  if path.name not in pictures]
    return found


def install(out, text, pictures):
    """Write the pictures, then the page: every target checked before anything is written."""
    page, folder = out / PAGE_NAME, out / PICTURES_FOLDER
    check_owned(page, TOOL)
    if folder.exists() and (folder.is_symlink() or not folder.is_dir()):
        raise UserError(f"{folder}: not a folder; the page's pictures go there: remove it or choose another --out")
    for name in pictures:
        shown = _regular(folder / name)
        if shown is not None and not shown.startswith(PNG_SIGNATURE):
            raise UserError(f"{folder / name}: exists and is not a picture; refusing to replace it")
    for name, data in pictures.items():
        write_bytes(folder / name, data)
    write_owned({page: text}, TOOL)


def _main(argv):
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fromzero-tutorial-") as folder:
        text, pictures = draw(Path(folder))
    if args.check:
        found = differences(args.out, text, pictures)
        for line in found:
            print(line)
        if not found:
            print(f"{args.out / PAGE_NAME} and its {len(pictures)} pictures are what the outputs give")
        return 1 if found else 0
    install(args.out, text, pictures)
    print(f"wrote {args.out / PAGE_NAME} and {len(pictures)} pictures in {args.out / PICTURES_FOLDER}")
    return 0


def main(argv=None):
    return one_line("tutorial", lambda: _main(argv))
