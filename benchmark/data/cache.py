"""The dataset cache: one `save_to_disk` folder per fingerprint under `Home.dataset_cache`, written to a
temporary folder and renamed, plus which fingerprint is the current import of each real dataset."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmark.data.schema import MercDataset
from benchmark.home import Home

CURRENT_IMPORTS = "current.json"  # real dataset name -> fingerprint of its last import


def cached(home: Home, fingerprint: str, make: Callable[[], MercDataset]) -> MercDataset:
    """The dataset cached under `fingerprint`, made (and cached) by `make` only when absent."""
    folder = home.dataset_cache / fingerprint
    if folder.exists():
        return MercDataset.load(folder)
    home.dataset_cache.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=home.dataset_cache, prefix=".incoming-"))
    try:
        make().save(temporary / "dataset")
        try:
            os.rename(temporary / "dataset", folder)
        except OSError:
            if not folder.exists():  # a concurrent writer that won the rename is fine; anything else is not
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return MercDataset.load(folder)


def current_import(home: Home, name: str) -> str | None:
    """The fingerprint last imported for `name`, if its cached folder still exists."""
    fingerprint = _current_imports(home).get(name)
    if fingerprint is None or not (home.dataset_cache / fingerprint).exists():
        return None
    return fingerprint


def remember_import(home: Home, name: str, fingerprint: str) -> None:
    current = _current_imports(home) | {name: fingerprint}
    with tempfile.NamedTemporaryFile("w", dir=home.dataset_cache, delete=False, suffix=".tmp") as handle:
        json.dump(current, handle, indent=2)
    os.replace(handle.name, home.dataset_cache / CURRENT_IMPORTS)


def _current_imports(home: Home) -> dict[str, str]:
    path = home.dataset_cache / CURRENT_IMPORTS
    return json.loads(path.read_text()) if path.exists() else {}
