"""How a stage fails: one line on stderr and exit status 1, never a traceback.

Problems with the user's input raise ``StageError``; anything else is a bug and
keeps its traceback.
"""

import argparse
import functools
import sys
from pathlib import Path


class StageError(Exception):
    """A problem with the user's data or params, told in one line."""

def stage_main(main):
    """Wrap a ``main(argv)`` so a StageError prints one line and returns 1.

    Otherwise the wrapper returns what ``main`` returned (None counts as 0).
    """

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            status = main(argv)
        except StageError as error:
            spec = main.__globals__.get("__spec__")  # "stages.gd" even when run as __main__
            name = (spec.name if spec else main.__module__).rsplit(".", 1)[-1]
            print(f"error: {name}: {error}", file=sys.stderr)
            return 1
        return status or 0

    return wrapper


def stage_arguments(argv, description, *paths):
    """A stage's command line and its validated params: ``(args, params)``.

    Every stage takes ``--params`` (default params.yaml) and the required path
    options named in ``paths`` ("train", "out-dir", ...), which dvc.yaml passes
    next to the stage's deps and outs; each arrives as a ``pathlib.Path``.
    """
    from stages.params import read_params  # stages.params imports StageError from here

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    for name in paths:
        parser.add_argument(f"--{name}", required=True, type=Path)
    args = parser.parse_args(argv)
    return args, read_params(args.params)


def divergence_message(error, key, value):
    """One line for a DivergenceError: which key, its value, where it broke, what to try."""
    advice = (f"on this data it must be below {error.stable_below:.3g}" if error.stable_below
              else f"try a smaller {key}, e.g. {value / 10:g}")
    return (f"params.yaml: {key} = {value:g} makes the fit diverge: the loss {error.reason} at step "
            f"{error.step} (loss={error.loss:.4g}); {advice}")
