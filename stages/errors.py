"""The one exception a stage turns into a line on stderr."""


class StageError(Exception):
    """A problem with the user's data or params, told in one line."""
