"""Files written whole or not at all, and one writer at a time, for every layer that writes: data cache,
teacher cache, run store, gate, reports."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write` fills a hidden temporary file beside `path`, which then replaces `path` in one rename:
    a reader sees the old file or the new one, and an interrupted write leaves neither half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, content: dict, *, indent: int = 1, sort_keys: bool = False) -> None:
    text = json.dumps(content, indent=indent, sort_keys=sort_keys) + "\n"
    atomic_write(path, lambda temporary: temporary.write_text(text))


@contextmanager
def exclusive(path: Path):
    """Hold the lock file beside `path`: a second process on the same key waits here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        yield
