"""The one exception type users see: a single line naming the thing that is wrong and the fix."""


class BenchmarkError(Exception):
    """A user-facing error. The CLI prints `error: <message>` and exits with status 2."""
