"""A sweep spread over CI runners: expand overrides into a matrix, run one point, collect a leaderboard.

    python -m tools.sweep expand 'lr=0.1,0.01,0.001' 'knn.k=1,3' [--prefix sweep42]
    python -m tools.sweep run --set lr=0.1 --set knn.k=1 [--name NAME] [--remote NAME]   # or --entry '<matrix item>'
    python -m tools.sweep collect [--remote NAME] [--prefix sweep42] [--sort gd.rmse] [--out sweep/leaderboard.md]

``expand`` takes the syntax of ``dvc exp run --queue -S`` (one ``key=v1,v2`` per argument, the
cartesian product over arguments), reads every value as DVC reads a -S value, checks every point
against the whole params schema as check_params does (so `seed=042` is refused here, not in every
runner), and prints a GitHub Actions matrix as JSON:
``{"include": [{"name": "lr-0.1_knn.k-1", "set": ["lr=0.1", "knn.k=1"]}, ...]}``.

``run`` is one runner's job: ``dvc exp run -n NAME -S ...``; with ``--remote NAME``, then ``git push``
of the experiment's ref (refs/exps/...) to that remote, which is what ``dvc exp push`` sends, and,
when a DVC remote is configured, ``dvc push --run-cache``. Without ``--remote`` nothing is pushed:
on a person's clone origin is a real repository, so pushing there is asked for by name (CI passes
``--remote origin``).

``collect`` fetches every experiment of HEAD from ``--remote NAME`` (without it: the ones this clone
has), reads each one's committed metrics/evaluate.json and params.yaml, and writes one Markdown
leaderboard (and the same rows as JSON beside it), also appended to $GITHUB_STEP_SUMMARY when that is
set. ``--out`` writes only files this tool wrote before, or new ones (tools/owned.py).

Exit status: 0 done; 1 with one line on stderr: a bad argument, override, entry or file, a refused or
failed write, or a failed git/DVC command; 130 interrupted (Ctrl-C).
"""

import argparse
import json
from pathlib import Path

from project.errors import UserError
from tools.oneline import Parser, one_line
from tools.sweep.collect import collect
from tools.sweep.grid import expand
from tools.sweep.runner import check_remote_name, check_run, parse_entry, run_point


def build_parser():
    parser = Parser(prog="python -m tools.sweep", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    p_expand = commands.add_parser("expand", help="overrides -> a JSON matrix of experiments")
    p_expand.add_argument("overrides", nargs="+", help="key=v1,v2 (the syntax of dvc exp run --queue -S)")
    p_expand.add_argument("--prefix", default="", help="prepended to each experiment name, e.g. a run id")
    p_expand.add_argument("--params", default="params.yaml")

    p_run = commands.add_parser("run", help="run one experiment; with --remote, push it")
    p_run.add_argument("--set", "-S", action="append", default=[], dest="sets", metavar="KEY=VALUE")
    p_run.add_argument("--name", help="experiment name (default: from the overrides)")
    p_run.add_argument("--entry", help="one matrix item as JSON: {\"name\": ..., \"set\": [...]}")
    p_run.add_argument("--remote", metavar="NAME",
                       help="the git remote to push the experiment to (CI: origin); without it nothing is pushed")
    p_run.add_argument("--params", default="params.yaml")

    p_collect = commands.add_parser("collect", help="fetch every experiment and write the leaderboard")
    p_collect.add_argument("--remote", metavar="NAME",
                           help="the git remote to fetch the experiments from; without it, this clone's")
    p_collect.add_argument("--prefix", default="", help="only the experiments that expand named with this prefix")
    p_collect.add_argument("--sort", default="gd.rmse", help="<model>.<metric> from evaluate.json, or 'best'")
    p_collect.add_argument("--out", default="sweep/leaderboard.md", type=Path,
                           help="a new file, or one this tool wrote; the JSON rows go beside it")
    p_collect.add_argument("--pull-cache", action="store_true",
                           help="also `dvc exp pull` the experiments' outputs from --remote's DVC remote")
    return parser


def _main(argv, command):
    args = build_parser().parse_args(argv)
    command[0] = f"sweep {args.command}"
    if args.command == "expand":
        print(json.dumps(expand(args.overrides, args.params, args.prefix)))
    elif args.command == "run":
        remote = check_remote_name(args.remote)
        sets, name = list(args.sets), args.name
        if args.entry is not None:
            entry_name, entry_sets = parse_entry(args.entry)
            sets, name = sets + entry_sets, name if name is not None else entry_name
        if not sets:
            raise UserError("nothing to run: give --set KEY=VALUE or --entry")
        sets, name = check_run(sets, name, args.params)
        run_point(sets, name, remote=remote)
    else:
        collect(check_remote_name(args.remote), args.prefix, args.sort, args.out, args.pull_cache)


def main(argv=None):
    command = ["sweep"]
    return one_line(lambda: command[0], lambda: _main(argv, command))
