"""The one exception type users see.

It subclasses ``click.ClickException`` so every stage and CLI command prints a
one-line ``Error: ...`` and exits non-zero without a traceback wall.
"""

import click


class AloeError(click.ClickException):
    """A problem the user can fix: bad params, bad input file, unreachable endpoint."""

    exit_code = 2
