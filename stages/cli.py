"""How a stage starts and fails: its command line, one line on stderr and exit status 1, never a traceback.

Problems with the user's input raise ``project.errors.UserError``; anything else is a bug and keeps
its traceback. Ctrl-C and SIGTERM end a stage with one line (exit 130 and 143); so does the death of
the `dvc` process that started it (an orphaned stage would go on and overwrite a workspace the user
has since restored), and running past ``limits.minutes``.
"""

import argparse
import functools
import os
import signal
import sys
import threading
from pathlib import Path

from project.errors import UserError

__all__ = ["Interrupted", "UserError", "guard_the_start", "name_stage", "path_option", "stage_arguments", "stage_main", "stage_parser"]

# What is true of the outputs after an interruption: every write goes to a temporary file first, so each
# output is the old file or the new one, never half of either; under DVC, DVC removed the stage's old
# outputs before it ran, and the committed ones come back from its cache.
BY_HAND = "no output is half-written: each is its old file or its new one"
UNDER_DVC = ("no output is half-written; DVC removed this stage's outputs before it ran: `dvc checkout` brings back "
             "the committed ones (docs/troubleshooting.md)")
WATCH_SECONDS = 0.5


def after_interrupt():
    return UNDER_DVC if "DVC_STAGE" in os.environ else BY_HAND


class Interrupted(BaseException):
    """SIGTERM, the parent's death or the time limit, raised where the stage was (as Ctrl-C raises
    KeyboardInterrupt), so ``finally`` blocks run and temporaries are removed."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


_NAMES = []  # the running stage's name, as ``name_stage`` gave it (innermost last)
_WHY = {}  # signal number -> what raised it, set by the watchdogs before they signal


def name_stage(name):
    """Name the running stage in its messages (``fit@knn``), once its arguments are parsed."""
    if _NAMES:
        _NAMES[-1] = name


def guard_the_start():
    """Ctrl-C before ``stage_main`` takes over (while the stage imports numpy) or after it is done: the same
    one line and exit 130, not a KeyboardInterrupt's traceback (a loaded machine once showed one: DVC passed
    Ctrl-C to a stage that was still starting)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with Ctrl-C ignored (nohup)
        _install(signal.SIGINT, _interrupted_outside_main)


def _interrupted_outside_main(signum, frame):
    argv = sys.orig_argv[sys.orig_argv.index("-m") + 1:] if "-m" in sys.orig_argv else ["stages"]
    name = argv[0].rsplit(".", 1)[-1]
    name = f"{name}@{argv[1]}" if name == "fit" and len(argv) > 1 else name
    try:
        sys.stdout.flush()  # what a finished stage printed, then the line
        os.write(2, f"error: {name}: interrupted by SIGINT (Ctrl-C); {after_interrupt()}\n".encode())
    finally:
        os._exit(130)  # nothing of the stage's work is under way: no temporary to remove


def _raise_interrupted(signum, frame):
    why = _WHY.pop(signum, None)
    raise Interrupted(why or ("interrupted by SIGTERM", 143))


def stage_main(main):
    """Wrap a ``main(argv)`` so a UserError prints one line and returns 1; other endings, one line each."""

    @functools.wraps(main)
    def wrapper(argv=None):
        _NAMES.append(_stage_name(main))
        previous = {signum: _install(signum, _raise_interrupted) for signum in (signal.SIGTERM, signal.SIGALRM)}
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # Ctrl-C: KeyboardInterrupt, unless ignored
            previous[signal.SIGINT] = _install(signal.SIGINT, signal.default_int_handler)
        _watch_parent()
        try:
            status = main(argv)
        except UserError as error:
            return _fail(error, 1)
        except KeyboardInterrupt:
            return _fail(f"interrupted by SIGINT (Ctrl-C); {after_interrupt()}", 130)
        except Interrupted as interrupted:
            message, status = interrupted.why
            return _fail(f"{message}; {after_interrupt()}", status)
        except MemoryError:
            return _fail("ran out of memory (the machine, or a limit such as `ulimit -v`, refused more); use fewer "
                         "rows or smaller settings, or lower limits.memory_gib so the stage refuses before it starts", 1)
        except OSError as error:
            if error.filename is None:  # not about a file: a bug or the system, keep the traceback
                raise
            return _fail(f"{error.filename}: cannot be read or written ({error.strerror or error})", 1)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0) if threading.current_thread() is threading.main_thread() else None
            for signum, handler in previous.items():
                _install(signum, handler)
            _NAMES.pop()
        return status or 0

    return wrapper


def _stage_name(main):
    spec = main.__globals__.get("__spec__")  # "stages.fit" even when run as __main__
    return (spec.name if spec else main.__module__).rsplit(".", 1)[-1]


def _fail(message, status):
    try:
        print(f"error: {_NAMES[-1]}: {message}", file=sys.stderr)
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


def time_limit(minutes):
    """End the stage with one line once it has run ``minutes`` (params.yaml's limits.minutes)."""
    if threading.current_thread() is not threading.main_thread():
        return
    _WHY[signal.SIGALRM] = (f"stopped after running {minutes:g} minutes, limits.minutes in params.yaml; raise it "
                            "for a longer run, or use fewer rows or smaller settings", 1)
    signal.setitimer(signal.ITIMER_REAL, minutes * 60.0)


def _process_start(pid):
    """(the process's start time, its parent's pid) from /proc, or None once it has ended (gone, or a zombie
    its own parent has not yet reaped: it ran its last instruction all the same)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return None if fields[0] in (b"Z", b"X") else (int(fields[19]), int(fields[1]))
    except (OSError, IndexError, ValueError):
        return None


def _dvc_ancestor():
    """(pid, start time) of the nearest ancestor process running DVC, or None (Linux only)."""
    pid = os.getppid()
    for _ in range(8):
        found = _process_start(pid)
        if found is None or pid <= 1:
            return None
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
        except OSError:
            return None
        if any(os.path.basename(word) in (b"dvc", b"dvc.exe") or word == b"dvc" for word in words[:3]):
            return pid, found[0]
        pid = found[1]
    return None


def _watch_parent():
    """Under DVC (DVC_STAGE set), end the stage if the `dvc` process that started it dies.

    DVC catches neither SIGTERM nor SIGKILL: when it dies, its stage goes on as an orphan, and would
    replace outputs the user has since restored. A thread looks every WATCH_SECONDS whether that
    process still exists (the same pid and start time) and, once it does not, sends this process SIGTERM.
    """
    if "DVC_STAGE" not in os.environ or threading.current_thread() is not threading.main_thread():
        return
    ancestor = _dvc_ancestor()
    if ancestor is None:
        return
    pid, started = ancestor

    def alive():
        found = _process_start(pid)
        return found is not None and found[0] == started

    def watch():
        while alive():
            threading.Event().wait(WATCH_SECONDS)
        _WHY[signal.SIGTERM] = ("stopped: the `dvc` process that ran this stage is gone (killed?), so nothing would "
                                "record what this stage wrote", 143)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stage_parser(description, reads):
    """A stage's argparse parser: ``--params``, and under ``--help`` the params keys it reads.

    ``reads`` is the list dvc.yaml declares for the stage (tests/test_deps.py holds the two equal).
    Each stage adds its path options with ``path_option``: dvc.yaml passes them next to the stage's
    deps and outs, so no path is written twice.
    """
    prog = f"python -m stages.{_NAMES[-1]}" if _NAMES else None
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=f"params it reads from --params: {', '.join(reads)}" if reads
                                     else "it reads no params")
    parser.add_argument("--params", default="params.yaml", metavar="FILE",
                        help="the params file (default: params.yaml); only the keys listed below are read")
    return parser


def path_option(parser, name, help, **kwargs):
    parser.add_argument(f"--{name}", required=True, type=Path, metavar="PATH", help=help, **kwargs)


def stage_arguments(argv, description, paths, reads, **read):
    """A stage's command line and the params it reads, validated: ``(args, params)``.

    ``paths`` maps each required path option ("train", "out-dir", ...) to its help; each arrives as a
    ``pathlib.Path``. ``reads`` is the params keys (or sections) the stage reads; ``read`` goes to
    ``project.params.read_params`` (the models whose settings it reads).
    """
    from project.params import read_params

    parser = stage_parser(description, reads)
    for name, help in paths.items():
        path_option(parser, name, help)
    args = parser.parse_args(argv)
    return args, read_params(args.params, keys=reads, **read)
