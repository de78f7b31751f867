"""A pull-request report: what changed against a base revision, as Markdown a reviewer reads.

    python -m tools.report [--base main] [--out report/report.md] [--check]

The Markdown is the pull-request comment and the job summary as written: its pictures are Mermaid
charts GitHub draws in the page (no image host, so it works on a pull request from a fork too), and
it stays within GitHub's 65,536 characters per comment (long tables are cut, and say so). It opens
with the gates and a compact leaderboard (test MSE with its bootstrap interval, the change against
the base and whether that change is real or inside the noise of the split, the paired difference
from models.yaml's reference) and a bar chart of the best models' test MSE, now and at the base.
Folded below: each iterative model's training loss, the full leaderboard (RMSE, R², cross-validation),
the params and metrics that changed, the leader's worst test predictions, and the PNG pictures.
Every number is written in a dozen characters at most (1.00e+308, never 309 digits).

The PNGs (the leaderboard, the residuals, every dvc.yaml plot whose data changed, drawn by
vl-convert as `dvc plots` draws them) go to a folder beside the report, ``<out stem>-pictures/``,
with an ``index.md`` that shows them: the CI artifact, for reading offline. The comment never
depends on them. vl-convert runs in a child process: if it dies (its V8 engine cannot reserve its
address space under `ulimit -v`, say) the plot is marked as not rendered and the report still writes.

Everything the report shows from data (column names, params values, metric keys, file paths,
revision and model names) is shown as text, never as Markdown or HTML: see ``code()``.

``--out`` writes only what this tool owns (tools/owned.py): a new file, or one it wrote before (its
first line is the ``<!-- written by tools.report; ...`` mark); never params.yaml, a directory or a
device. The pictures folder likewise: new, or the one it wrote (its index.md carries the mark and
lists the PNGs it wrote, the only files it replaces or removes).

The models, their order and their roles (``baseline``, ``reference``) come from models.yaml, their
colours from stages/style.py: a model added there appears here without editing this file. Where
models.yaml names no reference, the comparisons with it and its gates are skipped, and the report
says so.

Is a move real? For each model whose test predictions moved against the base, the per-row
squared errors of this change and of the base on the same test rows are resampled jointly (a
paired bootstrap, ``evaluate.bootstrap`` resamples, ``seed``, ``evaluate.confidence``): an
interval of the MSE difference that excludes 0 is a real change, one that contains 0 lies within
the noise of the split. When the test rows differ from the base's (the data or the split changed)
the comparison is not paired and is skipped. A model listed in ``gates.exempt`` is not held to the
regression tolerance: its move is shown as exempt, never as a failure.

Exit status, so CI can tell a verdict from a crash:
  0  the report was written (and, with ``--check``, every gate passed)
  1  the report was written and, with ``--check``, a gate failed or a model's test
     RMSE regressed beyond ``gates.regression_tolerance``
  2  the report itself failed (bad arguments, an --out it does not own, a missing file, a
     failed git/dvc call, or a bug): one line on stderr, no traceback
A plot that could not be drawn is one line on stderr (``warning: report: ...``) and exit 0.

The base is read as strictly as the current run (tools/readings.py): a base whose metrics file is
broken (NaN, infinity, a negative RMSE, `true`, a text, a list, a file nested too deep) is a failed
gate naming the file and the key, and nothing is compared with it; a base RMSE of 0 fails the
regression gate of a model that errs now, naming the key. The current run's broken file is exit 2.

The modules, one job each: tools/findings.py gathers what the report says (``Findings``),
tools/comment.py writes it as Markdown, tools/charts.py its Mermaid charts, tools/pictures.py and
tools/pictures_folder.py its PNGs, tools/gates.py evaluates the gates; this file is the command.
"""

import argparse
import sys
import tempfile
import traceback
from pathlib import Path

from project.commands import dvc_json, resolve_revision
from project.errors import UserError
from project.models import read_models
from project.params import read_params
from stages.style import model_colors
from tools.comment import build_report
from tools.findings import gather, with_pictures
from tools.markdown import COMMENT_LIMIT, one_line, size, visible
from tools.owned import OwnedError, stamp, write_owned
from tools.owned import check as check_owned
from tools.pictures import changed_plots, draw_leaderboard, draw_png, draw_residuals, picture_count
from tools.pictures_folder import TOOL, owned_pictures, pictures_folder, pictures_index, write_pictures

READS = ["seed", "cv.folds", "evaluate", "gates"]
GATE_FAILED, REPORT_FAILED = 1, 2


def main(argv=None):
    """Write the report; exit 0, 1 (a gate failed, with --check) or 2 (the report failed)."""
    try:
        return write_report(argv)
    except (UserError, OwnedError) as error:
        print(f"error: report: {one_line(error, 1000)}", file=sys.stderr)
    except Exception as error:  # a bug or a broken environment: still one line, and never 1
        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(f"error: report: unexpected {type(error).__name__}: {one_line(error, 500)} "
              f"(at {Path(frame.filename).name}:{frame.lineno})", file=sys.stderr)
    return REPORT_FAILED


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, as every other failure of the report
        raise UserError(f"{message} (see --help)")


def arguments(argv):
    parser = Parser(prog="python -m tools.report", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision or experiment to compare with (main)")
    parser.add_argument("--out", default="report/report.md", type=Path,
                        help="the Markdown to write (report/report.md); a new file or one this tool wrote; "
                             "its PNGs go to <folder>/<stem>-pictures/")
    parser.add_argument("--params", default="params.yaml", help="the params file whose gates apply (params.yaml)")
    parser.add_argument("--models", default="models.yaml", help="the list of models and their roles (models.yaml)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a gate fails or a test RMSE regressed beyond the tolerance "
                             "(2 means the report itself failed)")
    return parser.parse_args(argv)


def refuse_stale_outputs(root):
    """The report reads the workspace's outputs: if params.yaml, the data or the code changed since they were
    made (or dvc.lock is gone), it would show the new params beside the old scores and pass the gates on them."""
    if not ((root / "dvc.yaml").is_file() and (root / ".dvc").is_dir()):
        return  # outputs made by hand, outside DVC: nothing says what they came from
    stale = sorted(dvc_json("status", cwd=root))
    if stale:
        listed = ", ".join(stale[:4]) + (f" and {len(stale) - 4} more" if len(stale) > 4 else "")
        raise UserError(f"the workspace's outputs are out of date (`dvc status`: {listed} changed since they ran); run "
                        "`dvc repro` first, so the report scores what params.yaml says")


def draw_pictures(found, predictions, revision, scratch):
    """Every picture of the report, drawn into ``scratch``: [Picture]."""
    colors = found.colors
    pictures = [draw_png("leaderboard", "leaderboard.png",
                         lambda: draw_leaderboard(found.board, colors, found.settings["confidence"]), scratch),
                draw_png("residuals", "residuals.png", lambda: draw_residuals(predictions, colors), scratch)]
    # `dvc plots diff` gets the base's commit, never its name: DVC writes a revision's name into what it renders.
    return pictures + changed_plots(revision, scratch)


def write_report(argv=None):
    args = arguments(argv)
    # Refuse an --out this tool does not own before any work: params.yaml, a directory, a device.
    check_owned(args.out, TOOL)
    folder = pictures_folder(args.out)
    owned_pictures(folder)

    registry = read_models(args.models)
    params = read_params(args.params, keys=READS, registry=registry)
    refuse_stale_outputs(Path(args.params).resolve().parent)
    revision = resolve_revision(args.base)
    found, predictions = gather(args.base, revision, registry, params, model_colors(list(registry.entries)))

    with tempfile.TemporaryDirectory(prefix="report-pictures-") as scratch:
        scratch = Path(scratch)
        pictures = draw_pictures(found, predictions, revision, scratch)
        found = with_pictures(found, pictures, folder.as_posix())
        text = stamp(build_report(found, COMMENT_LIMIT - size(stamp("", TOOL))), TOOL)
        files = {name: (scratch / name).read_bytes() for picture in pictures for name in picture.files}
        write_pictures(folder, files, lambda listed: pictures_index(args.out.as_posix(), pictures, listed))
    write_owned({args.out: text}, TOOL)
    print(f"wrote {args.out}; pictures: {picture_count(pictures)} in {folder}/")
    for picture in pictures:
        if picture.problem:
            print(f"warning: report: {one_line(visible(picture.title), 100)}: not rendered: {picture.problem}",
                  file=sys.stderr)
    failed = [line for passed, line in found.gates if passed is False]
    for line in failed:
        print(f"gate failed: {one_line(visible(line), 1000)}", file=sys.stderr)
    return GATE_FAILED if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
