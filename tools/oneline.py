"""How a tool ends: one line on stderr for every problem a person can cause, never a traceback.

    def main(argv=None):
        return one_line("restore", lambda: _main(argv))

A ``UserError`` (project/errors.py) becomes ``error: <name>: <message>`` and exit 1, the message
kept to one line whatever it quotes (a path may hold a line break); Ctrl-C is ``error: <name>:
interrupted`` and exit 130. ``Parser`` is argparse whose complaints are a UserError too (exit 1, one
line), not its usage text and exit 2. Used by tools.sweep, tools.results and tools.restore.
"""

import argparse
import sys

from project.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse whose complaints are one UserError line (exit 1), not usage text and exit 2."""

    def error(self, message):
        raise UserError(f"{message} (see {self.prog} --help)")


def said(message):
    """``message`` as one line: line breaks and carriage returns shown as escapes."""
    return str(message).replace("\r", "\\r").replace("\n", "\\n")


def one_line(name, body):
    """``body()``'s exit status (None: 0); a UserError or Ctrl-C as one line naming ``name`` (a string, or a
    function giving it, for a name known only once the arguments are parsed)."""
    try:
        return body() or 0
    except UserError as error:
        return _fail(name, said(error), 1)
    except KeyboardInterrupt:
        return _fail(name, "interrupted", 130)


def _fail(name, message, status):
    try:
        print(f"error: {name() if callable(name) else name}: {message}", file=sys.stderr)
    except (OSError, ValueError):  # stderr closed: the exit status says it
        pass
    return status
