"""Datasets: a registry of names, one loader per source kind, and a cache keyed by fingerprint.

`load(name, home, source)` is the one entry point the harness uses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from benchmark.data import cache, hub, synthetic
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


def load(name: str, home: Home, source: str | None = None) -> MercDataset:
    """The dataset `name`: generated (or cached) if synthetic; imported from `source` and remembered as the
    current import; or, without a source, the remembered import."""
    spec = DATASETS.get(name)
    if spec.synthetic:
        if source is not None:
            raise BenchmarkError(
                f"dataset {name!r} is generated, it takes no --source; use --dataset {spec.family}"
            )
        fingerprint = synthetic.generator_fingerprint(spec.family, synthetic.SYNTHETIC_SEED)
        return cache.cached(home, fingerprint, lambda: synthetic.generate(spec.family))
    if source is None:
        fingerprint = cache.current_import(home, name)
        if fingerprint is None:
            raise BenchmarkError(
                f"dataset {name!r} has not been imported: run "
                f"`python -m benchmark data --dataset {name} --source PATH_OR_HUB_ID`"
            )
        return MercDataset.load(cache.folder(home, fingerprint))
    dataset = import_source(source, name, spec.family)
    imported = cache.cached(home, dataset.meta.fingerprint, lambda: dataset)
    cache.remember_import(home, name, dataset.meta.fingerprint)
    return imported


def import_source(source: str, name: str, family: str) -> MercDataset:
    """Dispatch on what `source` is: a .pkl file, a saved datasets folder, a folder of split files, a hub id."""
    path = Path(source).expanduser()
    if path.suffix in hub.DATA_FILE_SUFFIXES and path.is_file():
        raise BenchmarkError(
            f"{source}: one data file cannot hold three splits: pass the folder holding "
            "train/validation/test files as --source"
        )
    if path.suffix == ".pkl" or path.is_file():
        return load_pickle_source(path, name, family)
    if path.is_dir():
        if (path / "dataset_dict.json").exists():
            return hub.load_saved_folder(path, name, family)
        return hub.load_data_files(path, name, family)
    if source.startswith((".", "/", "~")) or source.count("/") > 1:
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
        "lineage": meta.source_kind.partition("feature-pickle:")[2] or None,
        "synthetic": meta.synthetic,
        "fingerprint": meta.fingerprint,
        "feature_dims": meta.feature_dims,
        "absent_modalities": list(meta.absent_modalities),
        "speakers": meta.n_speakers,
        "splits": per_split,
        "notes": list(meta.notes),
    }
