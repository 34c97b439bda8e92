"""Canonical datasets from the Hugging Face hub (pinned revision) or a local `datasets` folder/files.

Either way the data must already be in the canonical columns (benchmark/data/schema.py); the class list
comes from the dataset family and the feature dims from the data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import datasets

from benchmark.data.schema import CLASS_NAMES, MODALITIES, SPLITS, DatasetMeta, MercDataset
from benchmark.data.validate import build_splits
from benchmark.errors import BenchmarkError

DATA_FILE_SUFFIXES = {".parquet": "parquet", ".json": "json", ".jsonl": "json"}


def load_saved_folder(folder: Path, name: str, family: str) -> MercDataset:
    """A folder written by `DatasetDict.save_to_disk` (it holds dataset_dict.json)."""
    splits = datasets.load_from_disk(str(folder))
    fingerprint = _hash_files(sorted(p for p in folder.rglob("*") if p.is_file()))
    return _canonical(splits, str(folder), "datasets-folder", name, family, fingerprint)


def load_data_files(folder: Path, name: str, family: str) -> MercDataset:
    """A folder holding train/validation/test files (parquet or json lines) in the canonical columns."""
    files = {}
    for split in SPLITS:
        found = [p for p in folder.glob(f"{split}*") if p.suffix in DATA_FILE_SUFFIXES]
        if not found:
            raise BenchmarkError(
                f"{folder}: no {split} file (expected {split}.parquet or {split}.jsonl in the canonical columns)"
            )
        files[split] = found[0]
    builder = DATA_FILE_SUFFIXES[files["train"].suffix]
    splits = datasets.load_dataset(builder, data_files={s: str(p) for s, p in files.items()})
    return _canonical(splits, str(folder), "datasets-folder", name, family, _hash_files(list(files.values())))


def load_hub(reference: str, name: str, family: str) -> MercDataset:
    """`owner/name@revision`: the revision pins what was trained on, so it is required."""
    repo_id, _, revision = reference.partition("@")
    if not revision:
        raise BenchmarkError(
            f"hub source {reference!r} has no revision: pin one as {repo_id}@<commit-or-tag> so runs are traceable"
        )
    try:
        splits = datasets.load_dataset(repo_id, revision=revision)
    except Exception as err:  # offline, unknown repo or revision: one line, and how to use local files
        raise BenchmarkError(
            f"could not load {repo_id}@{revision} from the Hugging Face hub ({type(err).__name__}); offline? "
            "download it elsewhere and pass the local folder or a .pkl file as --source"
        ) from None
    fingerprint = hashlib.sha256(f"hub:{repo_id}@{revision}".encode()).hexdigest()
    return _canonical(splits, reference, "hub", name, family, fingerprint)


def _canonical(splits, source: str, kind: str, name: str, family: str, fingerprint: str) -> MercDataset:
    """Re-validate rows coming from outside through the same checks as every other source."""
    if not isinstance(splits, datasets.DatasetDict) or any(s not in splits for s in SPLITS):
        found = list(splits) if isinstance(splits, datasets.DatasetDict) else type(splits).__name__
        raise BenchmarkError(f"{source}: expected splits {', '.join(SPLITS)}, found {found}")
    columns = {split: splits[split].with_format("numpy")[:] for split in SPLITS}
    for required in ("dialogue_id", "speakers", "labels"):
        if required not in columns["train"]:
            raise BenchmarkError(
                f"{source}: no {required!r} column: see benchmark/data/schema.py for the layout"
            )
    modalities = [m for m in MODALITIES if m in columns["train"]]
    merged = {key: {} for key in ("speakers", "labels", *modalities)}
    split_ids = {}
    for split, rows in columns.items():
        ids = [str(d) for d in rows["dialogue_id"]]
        split_ids[split] = ids
        for key in merged:
            merged[key].update(zip(ids, rows[key], strict=True))
    built, dims = build_splits(
        source,
        split_ids,
        merged["speakers"],
        merged["labels"],
        {m: merged[m] for m in modalities},
        len(CLASS_NAMES[family]),
    )
    n_speakers = int(max(int(max(s, default=0)) for s in merged["speakers"].values())) + 1
    meta = DatasetMeta(
        name=name,
        family=family,
        classes=CLASS_NAMES[family],
        feature_dims=dims,
        n_speakers=n_speakers,
        source=source,
        source_kind=kind,
        fingerprint=fingerprint,
        synthetic=False,
    )
    return MercDataset(meta, built)


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
