"""How a stage fails: one line on stderr and exit status 1, never a traceback.

Problems with the user's input raise ``StageError``; anything else is a bug and
keeps its traceback.
"""

import functools
import sys


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
