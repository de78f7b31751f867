"""How a stage fails: one line on stderr and exit status 1, never a traceback.

Problems with the user's input raise ``StageError``; anything else is a bug and
keeps its traceback.
"""

import argparse
import functools
import signal
import sys
from pathlib import Path

from stages.errors import StageError
from stages.params import read_params

__all__ = ["Interrupted", "StageError", "check_work", "divergence_message", "largest_that_fits", "name_stage", "path_option",
           "stage_arguments", "stage_main", "stage_parser"]


class Interrupted(BaseException):
    """SIGTERM (``kill``, ``timeout``, a cancelled CI job), raised where the stage was, as Ctrl-C raises
    KeyboardInterrupt: so ``finally`` blocks run and a stage's temporaries are removed."""


def _raise_interrupted(signum, frame):
    raise Interrupted()


UNTOUCHED = "its outputs are all as they were or all new, none half-written"
_NAMES = []  # the running stage's name, as ``name_stage`` gave it (innermost last)


def name_stage(name):
    """Name the running stage in its messages (``fit@knn``), once its arguments are parsed."""
    if _NAMES:
        _NAMES[-1] = name


def stage_main(main):
    """Wrap a ``main(argv)`` so a StageError prints one line and returns 1.

    Otherwise the wrapper returns what ``main`` returned (None counts as 0). Ctrl-C (SIGINT) and
    SIGTERM print one line naming the stage and return 130 and 143 (128 + the signal, as a shell
    reports them); a file the system refuses to read or write (a read-only folder, a full disk, no
    permission) and running out of memory are one line and 1 too. Anything else is a bug and keeps
    its traceback. A script serving several stages names the one it runs with ``name_stage``.
    """

    @functools.wraps(main)
    def wrapper(argv=None):
        _NAMES.append(_stage_name(main, sys.argv[1:] if argv is None else list(argv)))
        previous = _install(signal.SIGTERM, _raise_interrupted)
        try:
            status = main(argv)
        except StageError as error:
            return _fail(_NAMES[-1], error, 1)
        except KeyboardInterrupt:
            return _fail(_NAMES[-1], f"interrupted by SIGINT (Ctrl-C); {UNTOUCHED}", 130)
        except Interrupted:
            return _fail(_NAMES[-1], f"interrupted by SIGTERM; {UNTOUCHED}", 143)
        except MemoryError:
            return _fail(_NAMES[-1], "ran out of memory (the machine, or a limit such as `ulimit -v`, refused "
                                     "more); use fewer rows or smaller settings", 1)
        except OSError as error:
            if error.filename is None:  # not about a file: a bug or the system, keep the traceback
                raise
            return _fail(_NAMES[-1], f"{error.filename}: cannot be read or written ({error.strerror or error})", 1)
        finally:
            _install(signal.SIGTERM, previous)
            _NAMES.pop()
        return status or 0

    return wrapper


def _stage_name(main, argv):
    spec = main.__globals__.get("__spec__")  # "stages.fit" even when run as __main__
    stage = (spec.name if spec else main.__module__).rsplit(".", 1)[-1]
    if "--name" in argv[:-1]:  # one script serving several stages names the stage it runs
        stage = argv[argv.index("--name") + 1]
    return stage


def _fail(stage, message, status):
    try:
        print(f"error: {stage}: {message}", file=sys.stderr)
    except (OSError, ValueError):  # stderr closed (the terminal went away): the exit status says it
        pass
    return status


def _install(signum, handler):
    """Set a signal's handler where Python allows it (the main thread); the previous one, or None."""
    if handler is None:
        return None
    try:
        return signal.signal(signum, handler)
    except (ValueError, OSError):  # not the main thread
        return None


def stage_parser(description, reads):
    """A stage's argparse parser: ``--params``, and under ``--help`` the params keys it reads.

    ``reads`` is the list dvc.yaml declares for the stage (tests/test_deps.py holds the two equal).
    Each stage adds its path options with ``path_option``: dvc.yaml passes them next to the stage's
    deps and outs, so no path is written twice.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=f"params it reads from --params: {', '.join(reads)}" if reads
                                     else "it reads no params")
    parser.add_argument("--params", default="params.yaml", metavar="FILE",
                        help="the params file (default: params.yaml); only the keys listed below are read")
    return parser


def path_option(parser, name, help, **kwargs):
    parser.add_argument(f"--{name}", required=True, type=Path, metavar="PATH", help=help, **kwargs)


def stage_arguments(argv, description, paths, reads):
    """A stage's command line and the params it reads, validated: ``(args, params)``.

    ``paths`` maps each required path option ("train", "out-dir", ...) to its help; each arrives as
    a ``pathlib.Path``. ``reads`` is the params keys (or sections) the stage reads.
    """
    parser = stage_parser(description, reads)
    for name, help in paths.items():
        path_option(parser, name, help)
    args = parser.parse_args(argv)
    return args, read_params(args.params, keys=reads)


def divergence_message(error, key, value):
    """One line for a DivergenceError: which key, its value, where it broke, what to try."""
    advice = (f"on this data it must be below {error.stable_below:.3g}" if error.stable_below
              else f"try a smaller {key}, e.g. {value / 10:g}")
    return (f"params.yaml: {key} = {value:g} makes the fit diverge: the loss {error.reason} at step "
            f"{error.step} (loss={error.loss:.4g}); {advice}")


# What one stage may spend on the work a params key sizes (its data and Python itself come on top):
# the benchmark's 10^6-row run must stay under 2 GiB end to end (issue 11), and nothing should run
# for more than a few minutes without the user having asked for it in so many words.
WORK_BYTES = 1 << 30  # 1 GiB
WORK_SECONDS = 600.0  # 10 minutes


def check_work(key, value, rows, bytes_per_unit, seconds_per_unit=0.0, *, source="params.yaml", what=None):
    """Refuse ``key = value`` when value × rows units of work exceed WORK_BYTES or WORK_SECONDS.

    ``rows`` is what one unit of ``value`` is multiplied by on this data (rows, or rows × features);
    ``bytes_per_unit`` and ``seconds_per_unit`` are the measured cost of one value·row; the
    model stages count their cross-validation's fits in ``rows`` too (stages/fit.py).
    Raises StageError naming the key, the value, the rows, what it would need and the most that fits.
    """
    units = value * rows
    need_bytes, need_seconds = units * bytes_per_unit, units * seconds_per_unit
    if need_bytes <= WORK_BYTES and need_seconds <= WORK_SECONDS:
        return
    limits = []
    if bytes_per_unit:
        limits.append(WORK_BYTES / (rows * bytes_per_unit))
    if seconds_per_unit:
        limits.append(WORK_SECONDS / (rows * seconds_per_unit))
    most = max(int(min(limits)), 0)
    what = what or f"{rows} rows"  # e.g. "4096 rows × 3 features" when a unit is a row·feature
    raise StageError(f"{source}: {key} = {value} is too large for {what}: it would need about "
                     f"{work_needs(need_bytes, need_seconds)}; at most {most} on this data")


def largest_that_fits(fits, low, high):
    """The largest whole number in [low, high] for which ``fits`` holds (``fits`` monotone), or low - 1."""
    if not fits(low):
        return low - 1
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def work_needs(need_bytes, need_seconds):
    """What work beyond the limits would need, in words: "1.2 GiB of memory (the limit is 1 GiB)", ..."""
    needs = []
    if need_bytes > WORK_BYTES:
        needs.append(f"{_amount(need_bytes / 2**30)} GiB of memory (the limit is {WORK_BYTES / 2**30:g} GiB)")
    if need_seconds > WORK_SECONDS:
        needs.append(f"{_amount(need_seconds / 60)} minutes (the limit is {WORK_SECONDS / 60:g})")
    return " and ".join(needs)


def _amount(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"
