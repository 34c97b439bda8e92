"""Canonical datasets from the Hugging Face hub (pinned revision) or a local `datasets` folder/files.

Either way the data must already be in the canonical columns (benchmark/data/schema.py); the class list
comes from the dataset family and the feature dims from the data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import datasets

from benchmark.data.schema import CLASS_NAMES, MODALITIES, SPLITS, DatasetMeta, MercDataset
from benchmark.data.validate import build_splits, speaker_count
from benchmark.errors import BenchmarkError

DATA_FILE_SUFFIXES = {".parquet": "parquet", ".json": "json", ".jsonl": "json"}


def load_saved_folder(folder: Path, name: str, family: str) -> MercDataset:
    """A folder written by `DatasetDict.save_to_disk` (it holds dataset_dict.json)."""
    splits = datasets.load_from_disk(str(folder))
    fingerprint = _hash_files(sorted(p for p in folder.rglob("*") if p.is_file()))
    return _canonical(splits, str(folder), "datasets-folder", name, family, fingerprint)


def load_data_files(folder: Path, name: str, family: str) -> MercDataset:
    """A folder of split files in the canonical columns, named as the hub names them: `train.parquet`,
    `train-00000-of-00002.parquet`, ... (parquet or json lines), directly in `folder` or in `folder/data`."""
    files = {split: _split_files(folder, split) for split in SPLITS}
    suffixes = {p.suffix for paths in files.values() for p in paths}
    builders = {DATA_FILE_SUFFIXES[s] for s in suffixes}
    if len(builders) > 1:
        raise BenchmarkError(
            f"{folder}: split files mix formats ({', '.join(sorted(suffixes))}): keep one format, parquet or json"
        )
    splits = datasets.load_dataset(
        builders.pop(), data_files={s: [str(p) for p in paths] for s, paths in files.items()}
    )
    every_file = [p for paths in files.values() for p in paths]
    return _canonical(splits, str(folder), "datasets-folder", name, family, _hash_files(every_file))


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
            "download it elsewhere and pass the local folder (a save_to_disk folder or one of "
            "train/validation/test parquet or json files) or a .pkl file as --source"
        ) from None
    downloaded = sorted(
        {Path(f["filename"]) for split in splits.values() for f in split.cache_files}, key=str
    )
    fingerprint = _hash_files(downloaded) if downloaded else hashlib.sha256(reference.encode()).hexdigest()
    return _canonical(splits, reference, "hub", name, family, fingerprint)


def _canonical(splits, source: str, kind: str, name: str, family: str, fingerprint: str) -> MercDataset:
    """Re-validate rows coming from outside through the same checks as every other source."""
    if not isinstance(splits, datasets.DatasetDict) or any(s not in splits for s in SPLITS):
        found = list(splits) if isinstance(splits, datasets.DatasetDict) else type(splits).__name__
        raise BenchmarkError(f"{source}: expected splits {', '.join(SPLITS)}, found {found}")
    columns = {split: splits[split].with_format("numpy")[:] for split in SPLITS}
    for split, rows in columns.items():
        for required in ("dialogue_id", "speakers", "labels"):
            if required not in rows:
                raise BenchmarkError(
                    f"{source}: the {split} split has no {required!r} column: see benchmark/data/schema.py "
                    "for the canonical columns"
                )
    modalities = [m for m in MODALITIES if m in columns["train"]]
    texts = ["sentences"] if "sentences" in columns["train"] and not modalities else []
    merged = {key: {} for key in ("speakers", "labels", *modalities, *texts)}
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
        sentences=merged["sentences"] if texts else None,
    )
    meta = DatasetMeta(
        name=name,
        family=family,
        classes=CLASS_NAMES[family],
        feature_dims=dims,
        n_speakers=speaker_count(built),
        source=source,
        source_kind=kind,
        fingerprint=fingerprint,
        synthetic=False,
    )
    return MercDataset(meta, built)


def _split_files(folder: Path, split: str) -> list[Path]:
    for where in (folder, folder / "data"):
        found = sorted(
            p
            for p in where.glob(f"{split}*")
            if p.suffix in DATA_FILE_SUFFIXES and p.stem.split("-")[0] == split
        )
        if found:
            return found
    raise BenchmarkError(
        f"{folder}: no {split} file: expected {split}.parquet or {split}.jsonl (or hub-style shards "
        f"{split}-00000-of-000NN.parquet, also under data/) in the canonical columns of benchmark/data/schema.py"
    )


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
