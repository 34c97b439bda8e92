"""Datasets: a registry of names, one loader per source kind, and a cache keyed by fingerprint.

`load(name, home, source)` is the one entry point the harness uses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from benchmark.data import hub, synthetic
from benchmark.data.pickles import load_pickle_source
from benchmark.data.schema import SPLITS, MercDataset
from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    family: str  # "iemocap" or "meld"
    description: str
    synthetic: bool
    feature_dims: dict[str, int]  # the standard dims, for parameter counts without loading data


datasets.disable_progress_bars()  # the CLI has its own progress display

DATASETS: Registry[DatasetSpec] = Registry("dataset")
for _family in ("iemocap", "meld"):
    DATASETS.add(
        f"synthetic-{_family}",
        DatasetSpec(
            f"synthetic-{_family}",
            _family,
            f"generated with {_family.upper()}'s classes, proportions, dialogue lengths and dims (the default)",
            synthetic=True,
            feature_dims=synthetic.FEATURE_DIMS[_family],
        ),
    )
    DATASETS.add(
        _family,
        DatasetSpec(
            _family,
            _family,
            f"real {_family.upper()}: import once with `python -m benchmark data --dataset {_family} --source ...`",
            synthetic=False,
            feature_dims=synthetic.FEATURE_DIMS[_family],
        ),
    )

CURRENT_IMPORT = "current.json"  # in the dataset cache: real dataset name -> fingerprint last imported


def load(name: str, home: Home, source: str | None = None) -> MercDataset:
    spec = DATASETS.get(name)
    if spec.synthetic:
        if source is not None:
            raise BenchmarkError(
                f"dataset {name!r} is generated, it takes no --source; use --dataset {spec.family}"
            )
        fingerprint = synthetic.generator_fingerprint(spec.family, synthetic.SYNTHETIC_SEED)
        return _cached(home, fingerprint, lambda: synthetic.generate(spec.family))
    if source is None:
        fingerprint = _current_imports(home).get(name)
        if fingerprint is None or not (home.dataset_cache / fingerprint).exists():
            raise BenchmarkError(
                f"dataset {name!r} has not been imported: run "
                f"`python -m benchmark data --dataset {name} --source PATH_OR_HUB_ID`"
            )
        return MercDataset.load(home.dataset_cache / fingerprint)
    dataset = import_source(source, name, spec.family)
    cached = _cached(home, dataset.meta.fingerprint, lambda: dataset)
    _remember_import(home, name, dataset.meta.fingerprint)
    return cached


def import_source(source: str, name: str, family: str) -> MercDataset:
    """Dispatch on what `source` is: a .pkl file, a saved datasets folder, a folder of data files, a hub id."""
    path = Path(source).expanduser()
    if path.suffix == ".pkl" or path.is_file():
        return load_pickle_source(path, name, family)
    if path.is_dir():
        if (path / "dataset_dict.json").exists():
            return hub.load_saved_folder(path, name, family)
        return hub.load_data_files(path, name, family)
    if source.startswith((".", "/", "~")) or os.sep in source and source.count("/") > 1:
        raise BenchmarkError(f"{source}: no such file or folder: check the path passed as --source")
    return hub.load_hub(source, name, family)


def subsample(dataset: MercDataset, max_dialogues: dict[str, int]) -> MercDataset:
    """Keep the first `max_dialogues[split]` dialogues of a split in a fixed shuffled order that does not
    depend on the run's seed, so every seed and model of a profile sees the same subset."""
    if not max_dialogues:
        return dataset
    splits = dict(dataset.splits)
    for split, limit in max_dialogues.items():
        rows = len(splits[split])
        if rows > limit:
            order = np.random.default_rng(len(split)).permutation(rows)[:limit]
            splits[split] = splits[split].select(sorted(order.tolist()))
    note = "subsampled to " + ", ".join(f"{s} {n}" for s, n in max_dialogues.items()) + " dialogues"
    meta = dataclasses.replace(dataset.meta, notes=(*dataset.meta.notes, note))
    return MercDataset(meta, type(dataset.splits)(splits))


def summarize(dataset: MercDataset) -> dict:
    meta = dataset.meta
    per_split = {}
    for split in SPLITS:
        labels = dataset.splits[split]["labels"]
        counts = np.bincount(
            np.concatenate([np.asarray(x, dtype=int) for x in labels]), minlength=meta.n_classes
        )
        per_split[split] = {
            "dialogues": len(labels),
            "utterances": int(counts.sum()),
            "class_counts": dict(zip(meta.classes, counts.tolist(), strict=True)),
        }
    return {
        "name": meta.name,
        "source": meta.source,
        "source_kind": meta.source_kind,
        "synthetic": meta.synthetic,
        "fingerprint": meta.fingerprint,
        "feature_dims": meta.feature_dims,
        "absent_modalities": list(meta.absent_modalities),
        "speakers": meta.n_speakers,
        "splits": per_split,
        "notes": list(meta.notes),
    }


def _cached(home: Home, fingerprint: str, make: Callable[[], MercDataset]) -> MercDataset:
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


def _current_imports(home: Home) -> dict[str, str]:
    path = home.dataset_cache / CURRENT_IMPORT
    return json.loads(path.read_text()) if path.exists() else {}


def _remember_import(home: Home, name: str, fingerprint: str) -> None:
    current = _current_imports(home) | {name: fingerprint}
    path = home.dataset_cache / CURRENT_IMPORT
    with tempfile.NamedTemporaryFile("w", dir=home.dataset_cache, delete=False, suffix=".tmp") as handle:
        json.dump(current, handle, indent=2)
    os.replace(handle.name, path)
