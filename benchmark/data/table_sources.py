"""Datasets read through `datasets`: the Hugging Face hub (pinned revision), a `save_to_disk` folder,
a folder of split files, one table file with a split column, or the official MELD CSV release.

What was read is either already canonical (per-dialogue rows, benchmark/data/schema.py) or a
per-utterance table (benchmark/data/utterances.py); the class list comes from the dataset family and
the feature dims from the data. Every `datasets` failure becomes one line naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass, replace
from pathlib import Path

import datasets
import numpy as np

from benchmark.data.schema import CLASS_NAMES, MAX_SPEAKERS, MODALITIES, SPLITS, MercDataset
from benchmark.data.table_files import read_or_explain, read_tables, table_builder
from benchmark.data.utterances import (
    MELD_COLUMNS,
    SPLIT_ALIASES,
    TableOptions,
    UtteranceColumns,
    from_table,
    is_utterance_table,
    meld_csv_files,
)
from benchmark.data.validate import build_splits, imported_dataset
from benchmark.errors import BenchmarkError

HUB_TIMEOUT_S = 5  # seconds one hub request may take before the hub counts as unreachable


@dataclass(frozen=True)
class Reader:
    """What every `datasets` reader here needs: where its cache goes (under the suite's home, never the
    user's global cache) and how to read per-utterance tables."""

    cache_dir: Path
    table: TableOptions


def load_saved_folder(folder: Path, name: str, family: str, reader: Reader) -> MercDataset:
    """A folder written by `save_to_disk` (a DatasetDict with dataset_dict.json, or one Dataset)."""
    _check_self_contained(folder)
    splits = read_or_explain(folder, "a save_to_disk folder", lambda: datasets.load_from_disk(str(folder)))
    if isinstance(splits, datasets.Dataset):
        splits = datasets.DatasetDict({"train": splits})
    fingerprint = _hash_files(sorted(p for p in folder.rglob("*") if p.is_file()))
    return _convert(splits, str(folder), "datasets-folder", name, family, fingerprint, reader)


def _check_self_contained(folder: Path) -> None:
    """Never read outside the source: no symbolic link inside the folder, and no file a `state.json`
    names, may lead out of it (`load_from_disk` would follow either)."""
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise BenchmarkError(
                f"{folder}: {path.relative_to(folder)} is a symbolic link to {path.resolve()}, outside the "
                "folder: an import reads only its source; copy the file into the folder instead"
            )
    for state in sorted(folder.rglob("state.json")):
        try:
            names = [item["filename"] for item in json.loads(state.read_text()).get("_data_files", [])]
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not a state.json datasets wrote: its reader names the problem
        outside = next((n for n in names if not (state.parent / str(n)).resolve().is_relative_to(root)), None)
        if outside is not None:
            raise BenchmarkError(
                f"{state}: names the data file {outside!r}, outside {folder}: an import reads only its source; "
                "save the dataset again with save_to_disk"
            )


def load_data_files(folder: Path, name: str, family: str, reader: Reader) -> MercDataset:
    """A folder of split files, named as the hub names them: `train.parquet`, `train-00000-of-00002.parquet`,
    ... (parquet, json lines or csv), directly in `folder` or in `folder/data`; or the official MELD
    release (train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv)."""
    meld = meld_csv_files(folder)
    if meld is not None:
        if reader.table.columns != UtteranceColumns():
            raise BenchmarkError(
                f"{folder}: MELD's CSV release is always read with its own columns "
                f"({', '.join(c for c in astuple(MELD_COLUMNS) if c)}): leave --columns out"
            )
        splits = read_tables(folder, {s: [Path(p)] for s, p in meld.items()}, reader.cache_dir)
        options = replace(reader.table, columns=MELD_COLUMNS)
        fingerprint = _hash_files([Path(p) for p in meld.values()])
        return from_table(splits, str(folder), "meld-csv", name, family, fingerprint, options)
    files = {split: _split_files(folder, split) for split in SPLITS}
    splits = read_tables(folder, files, reader.cache_dir)
    every_file = [p for paths in files.values() for p in paths]
    return _convert(splits, str(folder), "datasets-folder", name, family, _hash_files(every_file), reader)


def load_table_file(path: Path, name: str, family: str, reader: Reader) -> MercDataset:
    """One per-utterance table (csv, parquet, json lines) whose split column says each row's split, or an
    IEMOCAP copy in the AbstractTTS layout (sessions decide the splits)."""
    if path.name.endswith("_sent_emo.csv"):
        raise BenchmarkError(
            f"{path}: one file of the MELD release: pass the folder holding train_sent_emo.csv, "
            "dev_sent_emo.csv and test_sent_emo.csv as --source"
        )
    splits = read_tables(path, {"train": [path]}, reader.cache_dir)
    columns = splits["train"].column_names
    if not is_utterance_table(columns, reader.table) and "labels" not in columns:
        raise _no_label_column(str(path), columns, reader.table)
    if not is_utterance_table(columns, reader.table):
        raise BenchmarkError(
            f"{path}: one file of per-dialogue rows cannot hold three splits: pass the folder holding "
            "train/validation/test files, or a per-utterance table with a split column"
        )
    return from_table(splits, str(path), "utterance-table", name, family, _hash_files([path]), reader.table)


def load_hub(reference: str, name: str, family: str, reader: Reader) -> MercDataset:
    """`owner/name@revision`: the revision pins what was trained on, so it is required."""
    repo_id, _, revision = reference.partition("@")
    if not revision:
        raise BenchmarkError(
            f"hub source {reference!r} has no revision: pin one as {repo_id}@<commit-or-tag> so runs are traceable"
        )
    offline = (
        f"could not load {repo_id}@{revision} from the Hugging Face hub ({{}}); offline? download it "
        "elsewhere and pass the local folder (a save_to_disk folder or one of train/validation/test parquet "
        "or json files) or a .pkl file as --source"
    )
    _check_on_hub(repo_id, revision, offline)
    try:
        splits = datasets.load_dataset(repo_id, revision=revision, cache_dir=str(reader.cache_dir))
    except Exception as err:  # the hub failing half-way: one line, and how to use local files
        raise BenchmarkError(offline.format(type(err).__name__)) from None
    downloaded = sorted(
        {Path(f["filename"]) for split in splits.values() for f in split.cache_files}, key=str
    )
    fingerprint = _hash_files(downloaded) if downloaded else hashlib.sha256(reference.encode()).hexdigest()
    return _convert(splits, reference, "hub", name, family, fingerprint, reader)


def _check_on_hub(repo_id: str, revision: str, offline: str) -> None:
    """One request with a short timeout and no retries: `datasets` alone retries an unreachable hub with
    back-off for about a minute, a log line per try, before it fails."""
    import huggingface_hub
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        huggingface_hub.HfApi().dataset_info(repo_id, revision=revision, timeout=HUB_TIMEOUT_S)
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise BenchmarkError(
            f"{repo_id}@{revision}: no such dataset or revision on the Hugging Face hub "
            f"({type(err).__name__}): check the id and the revision"
        ) from None
    except Exception as err:
        raise BenchmarkError(offline.format(type(err).__name__)) from None


def _convert(splits, source: str, kind: str, name: str, family: str, fingerprint: str, reader: Reader):
    columns = next(iter(splits.values())).column_names if isinstance(splits, datasets.DatasetDict) else []
    if is_utterance_table(columns, reader.table):
        return from_table(splits, source, "utterance-table", name, family, fingerprint, reader.table)
    if columns and "labels" not in columns and "speakers" not in columns:  # a table without its labels
        raise _no_label_column(source, columns, reader.table)
    return _canonical(splits, source, kind, name, family, fingerprint)


def _no_label_column(source: str, columns: list[str], table: TableOptions) -> BenchmarkError:
    return BenchmarkError(
        f"{source}: no label column {table.columns.label!r} (columns: {', '.join(columns)}): name the column "
        "holding each utterance's emotion with --columns label=COLUMN"
    )


def _canonical(splits, source: str, kind: str, name: str, family: str, fingerprint: str) -> MercDataset:
    """Re-validate rows coming from outside through the same checks as every other source."""
    if not isinstance(splits, datasets.DatasetDict) or any(s not in splits for s in SPLITS):
        found = list(splits) if isinstance(splits, datasets.DatasetDict) else type(splits).__name__
        raise BenchmarkError(f"{source}: expected splits {', '.join(SPLITS)}, found {found}")
    columns = {split: _as_stored(splits[split]) for split in SPLITS}
    for split, rows in columns.items():
        for required in ("dialogue_id", "speakers", "labels"):
            if required not in rows:
                raise BenchmarkError(
                    f"{source}: the {split} split has no {required!r} column: see benchmark/data/schema.py "
                    "for the canonical columns"
                )
    for split, rows in columns.items():
        names = next(
            (
                s
                for s in rows["speakers"]
                if s is not None and len(s) and not np.issubdtype(np.asarray(s).dtype, np.integer)
            ),
            None,
        )
        if names is not None:
            raise BenchmarkError(
                f"{source}: the {split} split has speakers {list(names[:2])}, not integer ids: the canonical "
                "schema numbers speakers 0, 1, ... within the dataset; number them, or import a per-utterance "
                "table (one row per utterance, speaker names allowed)"
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
        max_speakers=MAX_SPEAKERS.get(family),
    )
    return imported_dataset(
        built,
        name=name,
        family=family,
        feature_dims=dims,
        source=source,
        source_kind=kind,
        fingerprint=fingerprint,
    )


def _as_stored(table: datasets.Dataset) -> dict:
    """A split's columns as numpy, the feature columns as the numbers they were stored as: datasets'
    numpy format casts floats to float32, which would turn a value beyond its range into inf before
    validation could name it."""
    modalities = [m for m in MODALITIES if m in table.column_names]
    rows = table.with_format("numpy", columns=[c for c in table.column_names if c not in modalities])[:]
    return rows | {m: table.with_format("arrow")[m].to_pylist() for m in modalities}


def _split_files(folder: Path, split: str) -> list[Path]:
    """The files of `split`, under its name or one of its aliases (`dev.csv` is the validation split)."""
    names = [alias for alias, ours in SPLIT_ALIASES.items() if ours == split]
    for where in (folder, folder / "data"):
        found = {name: _files_named(where, name) for name in names}
        named = [name for name, paths in found.items() if paths]
        if len(named) > 1:
            raise BenchmarkError(
                f"{where}: both {' and '.join(f'{n}.*' for n in named)} files: keep one of them as the {split} split"
            )
        if named:
            return found[named[0]]
    present = sorted(p.name for where in (folder, folder / "data") if where.is_dir() for p in where.iterdir())
    shown = ", ".join(present[:6]) + (", ..." if len(present) > 6 else "") if present else "nothing"
    aliases = f" (or {', '.join(n for n in names if n != split)})" if len(names) > 1 else ""
    raise BenchmarkError(
        f"{folder}: no {split} file (found {shown}): expected {split}{aliases}.parquet, .jsonl or .csv (or "
        f"hub-style shards {split}-00000-of-000NN.parquet, also under data/), per-utterance rows or the canonical "
        "columns of benchmark/data/schema.py"
    )


def _files_named(where: Path, split: str) -> list[Path]:
    return sorted(
        p
        for p in where.glob(f"{split}*")
        if table_builder(p) is not None and p.name.split(".")[0].split("-")[0] == split
    )


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
