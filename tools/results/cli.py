"""docs/results.md's tables, generated: run the configurations the page describes, keep what they measured.

    python -m tools.results                    # run all three (a few minutes): docs/results.json and the tables
    python -m tools.results --only rm_lstat    # rerun one configuration, keep the others from docs/results.json
    python -m tools.results --render           # no runs: the tables from docs/results.json
    python -m tools.results --check            # exit 1 when docs/results.md's tables are not docs/results.json's
    python -m tools.results --compare rm_lstat # the workspace's metrics/ against one configuration's

Each configuration is run as a user would run it, `dvc exp run -S 'data.features=[...]'`, in a
temporary copy of this repository's files (tracked and new, as a fresh clone would have them), so the
workspace, its experiments and its DVC cache are untouched. What each run wrote (metrics/evaluate.json's
details.test, metrics/cv.json, metrics/fit.json) is kept in docs/results.json, and the tables between
the `<!-- results:NAME -->` markers of docs/results.md are rendered from it: per model, the test MSE with
its bootstrap interval, the median over seeds with their range, the paired difference from the
reference model (models.yaml's `reference`) with its verdict, and the cross-validated MSE.
tests/test_results.py holds the page, the JSON and the committed metrics equal.

Exit status: 0 done (with --check and --compare: equal); 1 a difference, or one line on stderr saying
what failed (a run, a missing marker, an unknown configuration, a broken file); 130 interrupted.
"""

import argparse
from pathlib import Path

from project.errors import UserError
from project.files import write_text
from project.models import read_models
from tools.oneline import Parser, one_line
from tools.owned import check as check_owned
from tools.owned import json_text, write_owned
from tools.results.data import compare, read_data
from tools.results.page import fill, generated_parts, read_page
from tools.results.runs import CONFIGURATIONS, ROOT, run_configurations
from tools.results.tables import render_all

PAGE, DATA = Path("docs/results.md"), Path("docs/results.json")
TOOL = "tools.results"  # the mark in docs/results.json: --data replaces only a file this tool wrote


def build_parser():
    parser = Parser(prog="python -m tools.results", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--only", choices=list(CONFIGURATIONS),
                        help="rerun this configuration only; the others stay as docs/results.json has them")
    action.add_argument("--render", action="store_true", help="no runs: rewrite the tables from docs/results.json")
    action.add_argument("--check", action="store_true",
                        help="no runs: exit 1 when the page's tables differ from docs/results.json's")
    action.add_argument("--compare", metavar="NAME",
                        help="exit 1 when metrics/ (the workspace's) differ from configuration NAME's")
    parser.add_argument("--page", type=Path, default=PAGE, help=f"the results page ({PAGE})")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the measured metrics ({DATA})")
    return parser


def registry():
    return read_models(ROOT / "models.yaml")


def measure_all(args):
    """Run the configurations (all, or --only's) and return docs/results.json's new content."""
    check_owned(args.data, TOOL)  # before minutes of runs, not after
    old = read_data(args.data) if args.only else {"configurations": []}
    names = [args.only] if args.only else list(CONFIGURATIONS)
    measured, found = run_configurations(names)
    if args.only and old.get("settings") != found:
        raise UserError(f"{args.data}: measured with {old.get('settings')}, params.yaml now says {found}; "
                        "rerun every configuration (without --only)")
    kept = {item["name"]: item for item in old["configurations"]}
    kept.update({name: {"name": name, "set": CONFIGURATIONS[name][1], **metrics} for name, metrics in measured.items()})
    return {"about": "what `python -m tools.results` measured; docs/results.md's tables are rendered from it",
            "settings": found, "configurations": [kept[name] for name in CONFIGURATIONS if name in kept]}


def _main(argv):
    args = build_parser().parse_args(argv)
    if args.compare:
        differences = compare(read_data(args.data), args.compare, Path("metrics"))
        for line in differences:
            print(line)
        if not differences:
            print(f"metrics/ equal docs/results.json's {args.compare}")
        return 1 if differences else 0

    text = read_page(args.page)
    if args.check:
        rendered, shown = render_all(read_data(args.data), registry()), generated_parts(text)
        stale = [name for name in rendered if shown.get(name) != rendered[name]]
        for name in stale:
            print(f"{args.page}: the {name} table is not what docs/results.json gives; "
                  "run `python -m tools.results --render`")
        return 1 if stale else 0

    models = registry()
    fill(text, {name: "" for name in CONFIGURATIONS}, args.page)  # every marker there before minutes of runs
    data = read_data(args.data) if args.render else measure_all(args)
    page = fill(text, render_all(data, models), args.page)
    if not args.render:
        write_owned({args.data: json_text(data, TOOL)}, TOOL)
    write_text(args.page, page)
    print(f"wrote {args.page}" + ("" if args.render else f" and {args.data}"))
    return 0


def main(argv=None):
    return one_line("results", lambda: _main(argv))
