"""What interrupted commands leave behind, cleaned when the next command opens the home: lock files of
killed processes, cache folders a killed import was filling, and `datasets`' half-prepared cache entries.
Nothing another running process holds is touched."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmark.files import INCOMING_PREFIX, left_by_the_dead, remove_stale_locks
from benchmark.home import Home, resolve_home

PARTIAL_SUFFIX = ".incomplete"  # `datasets` prepares `<entry>.incomplete` under `<entry>_builder.lock`


def open_home(explicit: str | None = None) -> Home:
    """The command's home (`resolve_home`), tidied."""
    home = resolve_home(explicit)
    tidy(home)
    return home


def tidy(home: Home) -> list[Path]:
    """Remove what dead processes left under the home's results; returns what was removed."""
    removed = remove_stale_locks(home.runs) + remove_stale_locks(home.teacher_cache)
    cache = home.dataset_cache
    for folder in sorted(cache.glob(f"{INCOMING_PREFIX}*")) if cache.exists() else []:
        if left_by_the_dead(folder, INCOMING_PREFIX):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed + _remove_partial_entries(cache / "hf-datasets")


def _remove_partial_entries(root: Path) -> list[Path]:
    from filelock import FileLock, Timeout

    removed = []
    for partial in sorted(root.rglob(f"*{PARTIAL_SUFFIX}")) if root.exists() else []:
        entry = str(partial).removesuffix(PARTIAL_SUFFIX)
        try:
            with FileLock(f"{entry}_builder.lock", timeout=0):  # free: no import is preparing it
                shutil.rmtree(partial, ignore_errors=True)
        except Timeout:
            continue
        removed.append(partial)
    return removed
