"""The console every command prints through: rich, untouched on a terminal, never wrapping elsewhere.

Its own module (rich only), so that commands that train nothing print without importing torch and the
models: `data` answers an offline machine in the time the data pipeline takes to import."""

from __future__ import annotations

from rich.console import Console

# Width of a console that is not a terminal (a pipe, a file): wide enough that no name is ever cut.
UNBOUNDED_WIDTH = 10_000


def make_console(*, stderr: bool = False) -> Console:
    """A terminal's console as it is; elsewhere one that neither wraps lines nor shortens table cells."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=UNBOUNDED_WIDTH, soft_wrap=True)
