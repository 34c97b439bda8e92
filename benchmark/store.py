"""Run records on disk: one JSON per run key, written whole or not at all, one writer per key."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from benchmark.home import Home
from benchmark.records import RunKey, RunRecord


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


def atomic_write_json(path: Path, content: dict) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(json.dumps(content, indent=1) + "\n"))


@contextmanager
def exclusive(path: Path):
    """Hold the lock file beside `path`: a second process on the same key waits here."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        yield


class RunStore:
    def __init__(self, home: Home) -> None:
        self.root = home.runs

    def path(self, key: RunKey) -> Path:
        return self.root / key.relative_path()

    def read(self, key: RunKey) -> RunRecord | None:
        path = self.path(key)
        return RunRecord.from_json(json.loads(path.read_text())) if path.exists() else None

    def write(self, record: RunRecord) -> Path:
        path = self.path(record.key)
        atomic_write_json(path, record.to_json())
        return path

    def lock(self, key: RunKey):
        return exclusive(self.path(key))
