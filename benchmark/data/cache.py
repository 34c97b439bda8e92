"""The dataset cache: one `save_to_disk` folder per fingerprint under `Home.dataset_cache`, written to a
temporary folder and renamed, plus which fingerprint is the current import of each real dataset.

Generated datasets are also kept once per machine (`machine_cache_root`, $SUMMER_BENCH_CACHE), since
what the generator makes depends only on its code, version, seed and sizes: a home's copy is hard links
to the machine's entry (`generated`), so a new home (every test's) costs links, not a generation.
[choice] Hard links, not a symbolic link or a path into the machine cache: the home holds its files
whatever becomes of the machine cache (cleared, regenerated), and files the `datasets` library later
writes beside them stay in the home's folder. Nothing writes into a cached file in place: the arrow
files are only read, and meta.json is replaced by rename (`restate_source`), which unlinks the shared
copy first. Every entry carries a manifest of its files' sizes and SHA-256, checked on the home's links
before they are used: a truncated or corrupted entry is made again, never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow

from benchmark.data.schema import MercDataset
from benchmark.files import INCOMING_PREFIX, atomic_write_json, exclusive, left_by_the_dead, owned_folder
from benchmark.home import Home
from benchmark.stored import ShapeError, StoredFileError, one_line, read_typed, rebuilding

CURRENT_IMPORTS = "current.json"  # real dataset name -> fingerprint of its last import
# Part of every cache folder's name: bump it when a loader makes different rows or meta from the same
# input, so that imports cached by older code are made again instead of served stale.
LOADER_VERSION = 3


def folder(home: Home, fingerprint: str) -> Path:
    return home.dataset_cache / f"{fingerprint}.v{LOADER_VERSION}"


def cached(home: Home, fingerprint: str, make: Callable[[], MercDataset]) -> MercDataset:
    """The dataset cached under `fingerprint`, made (and cached) by `make` when absent, and made again,
    said in one line, when the cached copy cannot be read (a file cut short, a meta.json of another
    shape)."""
    target = folder(home, fingerprint)
    if target.exists():
        try:
            return load(target, "it is made again from its source")
        except StoredFileError as err:
            rebuilding(err)
            _discard(home.dataset_cache, target)
    _fill(home.dataset_cache, target, lambda incoming: _save_with_manifest(make, incoming))
    return load(target, "delete it and import the dataset again")


def load(target: Path, fix: str) -> MercDataset:
    """The dataset cached in `target`, its files first checked against the sizes its manifest holds (an
    Arrow file cut short between two record batches would otherwise read as fewer rows). [why] Not
    meta.json, which `restate_source` rewrites and whose reader checks it whole."""
    try:
        manifest = target / MANIFEST
        if manifest.exists():
            for name, (size, _) in json.loads(manifest.read_text()).items():
                if name != "meta.json" and (target / name).stat().st_size != size:
                    raise ValueError(f"{name} holds {(target / name).stat().st_size} bytes, not {size}")
        return MercDataset.load(target)
    except (OSError, ValueError, TypeError, KeyError, ShapeError, pyarrow.ArrowException) as err:
        # the datasets library, pyarrow and meta.json's reader each raise their own on a damaged copy
        raise StoredFileError(target, "cached dataset", one_line(err), fix) from None


def generated(home: Home, fingerprint: str, identity: str, make: Callable[[], MercDataset]) -> MercDataset:
    """A generated dataset in the home, hard-linked from the machine cache's entry for `identity` (which
    must name everything the generated files depend on: generator code, fingerprint, library versions),
    the entry made by `make` on first use. Without a usable machine cache, the home's own `cached`."""
    target = folder(home, fingerprint)
    root = machine_cache_root()
    if target.exists() or root is None:
        return cached(home, fingerprint, make)
    entry = root / f"{fingerprint}.{identity}"
    if not _fill(home.dataset_cache, target, lambda incoming: _link_verified(entry, incoming)):
        with exclusive(entry):  # one process makes the entry; the others wait here, then link it
            if not _fill(home.dataset_cache, target, lambda incoming: _link_verified(entry, incoming)):
                _make_entry(root, entry, make)
                if not _fill(home.dataset_cache, target, lambda incoming: _link_verified(entry, incoming)):
                    return cached(home, fingerprint, make)  # changed under us: the home's own copy
    return load(target, "delete it and run again")


MACHINE_CACHE_ENV = "SUMMER_BENCH_CACHE"
MANIFEST = "manifest.json"  # relative path -> [size, sha256] of every file of a machine cache entry


def machine_cache_root() -> Path | None:
    """$SUMMER_BENCH_CACHE, else $XDG_CACHE_HOME/summer-bench, else ~/.cache/summer-bench: where generated
    datasets are kept for every home on this machine; None where it cannot be written (each home then
    generates its own)."""
    chosen = os.environ.get(MACHINE_CACHE_ENV)
    if not chosen:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        chosen = Path(base) / "summer-bench"
    root = Path(chosen).expanduser() / "generated"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return root if os.access(root, os.W_OK | os.X_OK) else None


def _fill(parent: Path, target: Path, write: Callable[[Path], bool | None]) -> bool:
    """`write` fills a new folder in `parent`, renamed to `target` unless it returns False."""
    temporary = owned_folder(parent, INCOMING_PREFIX)
    try:
        if write(temporary / "dataset") is False:
            return False
        try:
            os.rename(temporary / "dataset", target)
        except OSError:
            if not target.exists():  # a concurrent writer that won the rename is fine; anything else is not
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return True


def _make_entry(root: Path, entry: Path, make: Callable[[], MercDataset]) -> None:
    """(Re)make `entry` with `make`, its manifest written last, under the caller's lock on it."""
    for left in root.glob(f"{INCOMING_PREFIX}*"):
        if left_by_the_dead(left, INCOMING_PREFIX):
            shutil.rmtree(left, ignore_errors=True)
    if entry.exists():  # unreadable, truncated or corrupted: moved aside first, so no reader links it
        _discard(root, entry)
    _fill(root, entry, lambda incoming: _save_with_manifest(make, incoming))


def _discard(parent: Path, target: Path) -> None:
    """Remove a damaged cache folder: renamed aside first, so that no reader finds it half removed."""
    aside = owned_folder(parent, INCOMING_PREFIX)
    os.rename(target, aside / "discarded")
    shutil.rmtree(aside, ignore_errors=True)


def _save_with_manifest(make: Callable[[], MercDataset], incoming: Path) -> None:
    """`make`'s dataset saved in `incoming`, with the manifest of its files written last."""
    make().save(incoming)
    files = sorted(p for p in incoming.rglob("*") if p.is_file())
    manifest = {str(p.relative_to(incoming)): [p.stat().st_size, _sha256(p)] for p in files}
    atomic_write_json(incoming / MANIFEST, manifest, indent=1, sort_keys=True)


def _link_verified(entry: Path, incoming: Path) -> bool:
    """Hard-link (or, across file systems, copy) the files of `entry`'s manifest, and the manifest (which
    `load` checks the home's copy against), into `incoming`; False when the entry is missing, or when
    what was linked does not match the manifest."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
        incoming.mkdir()
        for name, (size, digest) in manifest.items():
            copy = _link(entry / name, incoming / name)
            if copy.stat().st_size != size or _sha256(copy) != digest:
                return False
        _link(entry / MANIFEST, incoming / MANIFEST)
    except (OSError, ValueError, TypeError):  # no entry yet, or a manifest cut short or edited
        return False
    return True


def _link(source: Path, copy: Path) -> Path:
    copy.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, copy)
    except OSError as err:
        if isinstance(err, FileNotFoundError):
            raise
        shutil.copy2(source, copy)
    return copy


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def current_import(home: Home, name: str) -> str | None:
    """The fingerprint last imported for `name`, if this version's cached folder of it exists."""
    fix = (
        f"import {name} again with `python -m benchmark data --dataset {name} --source PATH_OR_HUB_ID`, "
        "which rewrites it"
    )
    fingerprint = _current_imports(home, fix).get(name)
    if fingerprint is None or not folder(home, fingerprint).exists():
        return None
    return fingerprint


def remember_import(home: Home, name: str, fingerprint: str) -> None:
    """`fingerprint` is now `name`'s current import. A list of current imports that cannot be read is
    replaced, and said in one line: the datasets it named are imported again to be current."""
    fix = f"it is rewritten naming {name}'s import alone: import any other real dataset again with `data`"
    try:
        current = _current_imports(home, fix)
    except StoredFileError as err:
        rebuilding(err)
        current = {}
    atomic_write_json(home.dataset_cache / CURRENT_IMPORTS, current | {name: fingerprint}, indent=2)


def _current_imports(home: Home, fix: str) -> dict[str, str]:
    path = home.dataset_cache / CURRENT_IMPORTS
    return read_typed(path, dict[str, str], "list of current imports", fix) if path.exists() else {}


def restate_source(home: Home, fingerprint: str, source: str) -> MercDataset:
    """Record that the cached import `fingerprint` now comes from `source` (its content is the same)."""
    target = folder(home, fingerprint)
    meta = json.loads((target / "meta.json").read_text()) | {"source": source}
    atomic_write_json(target / "meta.json", meta, indent=2)
    return MercDataset.load(target)
