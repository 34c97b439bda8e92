"""Run records on disk: one JSON per run key, written whole or not at all, one writer per key; beside
it the run's validation-selected weights (`seed-N.pt`), written first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch

from benchmark.errors import BenchmarkError
from benchmark.files import atomic_write, atomic_write_json, exclusive
from benchmark.home import Home
from benchmark.store.records import (
    RECORD_SCHEMA_VERSION,
    NewerRecordError,
    RunKey,
    RunRecord,
    config_hash,
    results_checksum,
)
from benchmark.stored import ShapeError, StoredFileError, one_line, read_json, read_typed
from benchmark.variants import FULL_MODEL, STUDY_PREFIX

if TYPE_CHECKING:
    from benchmark.data.schema import DatasetMeta


class Planned(Protocol):
    """What the store needs of a run's plan (benchmark.training.runner.RunPlan) to find its record."""

    @property
    def key(self) -> RunKey: ...

    @property
    def data(self) -> DatasetMeta: ...

    @property
    def config_hash(self) -> str: ...


class RunStore:
    def __init__(self, home: Home) -> None:
        self.root = home.runs

    def path(self, key: RunKey) -> Path:
        return self.root / key.relative_path()

    def read(self, key: RunKey) -> RunRecord | None:
        """The stored record of `key`, verified (see `read_record`), or None if there is none."""
        path = self.path(key)
        return read_record(path, key) if path.exists() else None

    def reusable(self, plan: Planned) -> RunRecord | None:
        """The stored record a sweep returns instead of training `plan` again: one made from the data now
        imported under its dataset name (same fingerprint) with the same config (same hash). A record of
        other data under the same name (a new import) or of another config is stale: None, and the run is
        retrained and replaces it. Whoever trains on None checks again under `lock(plan.key)`, where no
        other process can store it meanwhile."""
        record = self.read(plan.key)
        if record is None:
            return None
        fresh = record.data.fingerprint == plan.data.fingerprint
        return record if fresh and record.config_hash == plan.config_hash else None

    def reused_or_saved(
        self,
        plan: Planned,
        produce: Callable[[], tuple[RunRecord, dict[str, torch.Tensor]]],
        force: bool = False,
    ) -> tuple[RunRecord, bool]:
        """(the run's record, whether it was stored already): under `lock(plan.key)`, the reusable record
        when there is one and `force` is off, else `produce()`'s record and weights saved. The record is
        returned as stored, so callers see the same types whether it was made now or before."""
        with self.lock(plan.key):
            existing = None if force else self.reusable(plan)
            if existing is not None:
                return existing, True
            self.save(*produce())
            return self.read(plan.key), False

    def weights_path(self, key: RunKey) -> Path:
        """The validation-selected weights (a torch state dict) beside the record."""
        return self.path(key).with_suffix(".pt")

    def save(self, record: RunRecord, weights: dict[str, torch.Tensor]) -> Path:
        """A trained run: its weights first, then its record, so a stored record always has them beside it."""
        atomic_write(self.weights_path(record.key), lambda temporary: _save_weights(weights, temporary))
        return self.write(record)

    def write(self, record: RunRecord) -> Path:
        """Stamped with the checksum of its results, which every later read verifies."""
        path = self.path(record.key)
        raw = record.to_json()
        atomic_write_json(path, raw | {"checksum": results_checksum(raw)})
        return path

    def lock(self, key: RunKey):
        return exclusive(self.path(key))


def _save_weights(weights: dict[str, torch.Tensor], path: Path) -> None:
    """Through a Python file, so that a full disk is the OSError (ENOSPC) the CLI names: torch's own
    writer turns it into a RuntimeError, and closing its archive after a failed write raises another
    RuntimeError over the OSError."""
    with path.open("wb") as handle:
        try:
            torch.save(weights, handle)
        except RuntimeError as err:
            if isinstance(err.__context__, OSError):
                raise err.__context__ from None
            raise


RECORD = "run record"
# what read_record catches from reading a record's JSON into its types: the upgraders of older versions
# index the stored JSON directly, so a malformed old record fails there, in Python's own terms
MALFORMED = (ShapeError, KeyError, TypeError, ValueError, IndexError, AttributeError)


def read_record(path: Path, key: RunKey | None = None) -> RunRecord:
    """A stored record, verified to be what was computed: its config hash recomputed from its config, and
    its checksum over its results (records written before checksums carry none: the config hash alone
    is checked), both over the file as written, before a version-1 record is upgraded. A record that
    fails is one line naming it and the command that retrains it, never silently used; one written by a
    newer version of the suite is left alone, and the fix is to upgrade."""
    retrain = (
        f"retrain it with `{retrain_command(key)}` (it is replaced), or delete it"
        if key
        else ("retrain that run with `python -m benchmark run ... --force` (it is replaced), or delete it")
    )
    raw = read_json(path, RECORD, retrain)
    try:
        record = RunRecord.from_json(raw)
    except NewerRecordError as err:
        raise BenchmarkError(
            f"{path}: written by a newer version of summer-bench (record schema {err.version}; this version "
            f"reads up to {RECORD_SCHEMA_VERSION}): upgrade summer-bench to read it; this version leaves it as it is"
        ) from None
    except MALFORMED as err:
        raise StoredFileError(path, RECORD, one_line(err), retrain) from None
    if record.config_hash != config_hash(
        raw["config"]
    ):  # as stored: a version-1 record is verified as written
        problem = f"its config does not hash to its config_hash {record.config_hash}"
    elif record.checksum is not None and record.checksum != results_checksum(raw):
        problem = "its results do not match its checksum"
    else:
        return record
    raise BenchmarkError(
        f"{path}: {problem} (edited after the run wrote it?): retrain it with "
        f"`{retrain_command(record.key)}` (it is replaced), or delete it"
    )


def key_of_path(runs: Path, path: Path) -> RunKey | None:
    """The run key a record at `path` under the store `runs` was written for, as `RunKey.relative_path`
    lays it out (dataset/profile/variant/seed-N.json); None for a run with settings (its folder holds
    only their hash) or a file outside that layout."""
    parts = path.relative_to(runs).parts
    seed = parts[-1].removeprefix("seed-").removesuffix(".json") if len(parts) == 4 else ""
    if not seed.isdigit() or not parts[-1].startswith("seed-"):
        return None
    dataset, profile, variant = parts[:3]
    if "-no-" in variant:
        model, _, ablation = variant.partition("-no-")
    elif f"-{STUDY_PREFIX}" in variant:
        model, _, rest = variant.partition(f"-{STUDY_PREFIX}")
        ablation = STUDY_PREFIX + rest
    else:
        model, ablation = variant, FULL_MODEL
    return RunKey(model, ablation, dataset, profile, int(seed))


def retrain_command(key: RunKey) -> str:
    ablation = "" if key.ablation == FULL_MODEL else f" --ablation {key.ablation}"
    settings = "".join(f" --set {setting}" for setting in key.settings.split(",") if setting)
    return (
        f"python -m benchmark run --model {key.model}{ablation} --dataset {key.dataset} "
        f"--profile {key.profile} --seeds {key.seed}{settings} --force"
    )


def tsne_path(home: Home, dataset: str, profile: str) -> Path:
    """Where the t-SNE study (benchmark/training/tsne.py) stores the embeddings of one dataset and profile."""
    return home.results / "studies" / "tsne" / f"{dataset}-{profile}.json"


@dataclass(frozen=True)
class TsneStudy:
    """The t-SNE study's file: full SUMMER's test utterances embedded in 2-D, before and after fusion."""

    key: RunKey  # the run whose weights were embedded
    classes: list[str]
    synthetic: bool
    labels: list[int]  # per test utterance, an index into classes
    input: list[list[float]]  # per test utterance, its concatenated input features embedded: [x, y]
    fused: list[list[float]]  # per test utterance, SUMMER's fused representation embedded: [x, y]


def read_tsne(home: Home, dataset: str, profile: str) -> TsneStudy | None:
    path = tsne_path(home, dataset, profile)
    if not path.exists():
        return None
    fix = "rerun `python -m benchmark study tsne`, which replaces it"
    study = read_typed(path, TsneStudy, "t-SNE study", fix)
    n = len(study.labels)
    if any(
        len(points) != n or any(len(point) != 2 for point in points) for points in (study.input, study.fused)
    ):
        raise StoredFileError(path, "t-SNE study", f"not {n} points of 2 coordinates each", fix)
    if any(not 0 <= label < len(study.classes) for label in study.labels):
        raise StoredFileError(path, "t-SNE study", "a label outside its classes", fix)
    return study


@dataclass(frozen=True)
class StoredRuns:
    """The valid records of one dataset and profile, of one import of the dataset (see `stored_runs`)."""

    records: list[RunRecord]
    fingerprint: str | None  # the import they were trained on; None when there are none
    other_imports: list[RunRecord]  # valid records of other imports under the dataset's name: left out
    unreadable: list[str]  # one line per record file that could not be used: the file and the fix

    def notes(self, dataset: str, profile: str) -> list[str]:
        """What a reader of these records should be told: each unreadable file, and the records left out."""
        lines = [f"skipping {line}" for line in self.unreadable]
        if self.other_imports:
            lines.append(
                f"{dataset} ({profile}): left out {len(self.other_imports)} record(s) of another import of "
                f"{dataset} than {self.fingerprint[:16]}: retrain them with `python -m benchmark run ...`"
            )
        return lines


def stored_groups(home: Home) -> list[tuple[str, str]]:
    """Every (dataset, profile) the store holds a folder of; an unreadable store folder is one line."""
    return sorted((profile.parent.name, profile.name) for profile in _folders(home.runs, depth=2))


def stored_runs(home: Home, dataset: str, profile: str, fingerprint: str | None = None) -> StoredRuns:
    """The valid records of `dataset` at `profile`: of the import `fingerprint` (the dataset's current
    import), or where none is given, of the import of the record written last. [why] Records of two
    imports under one name are of different data (other dialogues, other labels): pooling them is wrong."""
    runs = home.runs
    records, unreadable = [], []
    for path in _record_files(runs / dataset / profile):
        try:
            records.append(read_record(path, key_of_path(runs, path)))
        except BenchmarkError as err:
            unreadable.append(str(err))
    if fingerprint is None and records:
        newest = max(records, key=lambda r: (runs / r.key.relative_path()).stat().st_mtime_ns)
        fingerprint = newest.data.fingerprint
    chosen = [r for r in records if r.data.fingerprint == fingerprint]
    others = [r for r in records if r.data.fingerprint != fingerprint]
    return StoredRuns(chosen, fingerprint if records else None, others, unreadable)


def _record_files(folder: Path) -> list[Path]:
    """The record files under `folder`; those a write in progress left (a leading dot) are not records."""
    return sorted(
        path
        for parent in [folder, *_folders(folder, depth=None)]
        for path in _listed(parent)
        if path.suffix == ".json" and not path.name.startswith(".") and path.is_file()
    )


def _folders(root: Path, depth: int | None) -> list[Path]:
    """The folders `depth` levels below `root` (every level when None); none when root is absent."""
    found, level = [], [root] if root.is_dir() else []
    remaining = depth
    while level and remaining != 0:
        level = [child for parent in level for child in _listed(parent) if child.is_dir()]
        remaining = None if remaining is None else remaining - 1
        if remaining is None or remaining == 0:
            found += level
    return found


def _listed(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as err:
        raise BenchmarkError(
            f"{folder}: the run store's folder cannot be read ({err.strerror}): give yourself read "
            "permission on it (chmod -R u+rX) or choose another home with --home"
        ) from None
