"""The one exception a stage turns into a line on stderr."""


class UserError(Exception):
    """A problem with the user's data or params, told in one line."""
