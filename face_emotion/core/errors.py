"""The one exception type that users see as a single line, never as a traceback."""


class UserError(Exception):
    """A problem with the user's input, data or configuration, stated in one line."""
