"""The dataset cache: one `save_to_disk` folder per fingerprint under `Home.dataset_cache`, written to a
temporary folder and renamed, plus which fingerprint is the current import of each real dataset."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from benchmark.data.schema import MercDataset
from benchmark.files import INCOMING_PREFIX, atomic_write_json, owned_folder
from benchmark.home import Home

CURRENT_IMPORTS = "current.json"  # real dataset name -> fingerprint of its last import
# Part of every cache folder's name: bump it when a loader makes different rows or meta from the same
# input, so that imports cached by older code are made again instead of served stale.
LOADER_VERSION = 3


def folder(home: Home, fingerprint: str) -> Path:
    return home.dataset_cache / f"{fingerprint}.v{LOADER_VERSION}"


def cached(home: Home, fingerprint: str, make: Callable[[], MercDataset]) -> MercDataset:
    """The dataset cached under `fingerprint`, made (and cached) by `make` only when absent."""
    target = folder(home, fingerprint)
    if target.exists():
        return MercDataset.load(target)
    temporary = owned_folder(home.dataset_cache, INCOMING_PREFIX)
    try:
        make().save(temporary / "dataset")
        try:
            os.rename(temporary / "dataset", target)
        except OSError:
            if not target.exists():  # a concurrent writer that won the rename is fine; anything else is not
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return MercDataset.load(target)


def current_import(home: Home, name: str) -> str | None:
    """The fingerprint last imported for `name`, if this version's cached folder of it exists."""
    fingerprint = _current_imports(home).get(name)
    if fingerprint is None or not folder(home, fingerprint).exists():
        return None
    return fingerprint


def remember_import(home: Home, name: str, fingerprint: str) -> None:
    current = _current_imports(home) | {name: fingerprint}
    atomic_write_json(home.dataset_cache / CURRENT_IMPORTS, current, indent=2)


def _current_imports(home: Home) -> dict[str, str]:
    path = home.dataset_cache / CURRENT_IMPORTS
    return json.loads(path.read_text()) if path.exists() else {}


def restate_source(home: Home, fingerprint: str, source: str) -> MercDataset:
    """Record that the cached import `fingerprint` now comes from `source` (its content is the same)."""
    target = folder(home, fingerprint)
    meta = json.loads((target / "meta.json").read_text()) | {"source": source}
    atomic_write_json(target / "meta.json", meta, indent=2)
    return MercDataset.load(target)
