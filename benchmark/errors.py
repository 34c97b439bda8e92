"""The one exception type users see: a single line naming the thing that is wrong and the fix; and the one
reader of a `KEY=VALUE` item, which every option taking such items refuses through in the same way."""

from __future__ import annotations

from collections.abc import Collection


class BenchmarkError(Exception):
    """A user-facing error. The CLI prints `error: <message>` and exits with status 2."""


def split_assignment(
    item: str, option: str, expected: str, keys: Collection[str] | None = None
) -> tuple[str, str]:
    """One `KEY=VALUE` item given to `option` -> (KEY, VALUE), each stripped of blanks, split at the first
    "=" (a value may hold more). An item without "=", with an empty KEY, or with a KEY outside `keys` when
    they are given is one line, `{option} {item!r}: expected {expected}`, `expected` being the option's
    own wording of the form and of what KEY may be. VALUE may be empty: whether an option allows that
    (`--columns audio=` drops a column) is the option's to say."""
    key, equals, value = (part.strip() for part in item.partition("="))
    if not equals or not key or (keys is not None and key not in keys):
        raise BenchmarkError(f"{option} {item!r}: expected {expected}")
    return key, value
