"""Run records on disk: one JSON per run key, written whole or not at all, one writer per key; beside
it the run's validation-selected weights (`seed-N.pt`), written first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch

from benchmark.errors import BenchmarkError
from benchmark.files import atomic_write, atomic_write_json, exclusive
from benchmark.home import Home
from benchmark.store.records import FULL_MODEL, RunKey, RunRecord, config_hash, results_checksum

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


def read_record(path: Path, key: RunKey | None = None) -> RunRecord:
    """A stored record, verified to be what was computed: its config hash recomputed from its config, and
    its checksum over its results (records written before checksums carry none: the config hash alone
    is checked), both over the file as written, before a version-1 record is upgraded. A record that
    fails is one line naming it and the fix, never silently used."""
    try:
        raw = json.loads(path.read_text())
        record = RunRecord.from_json(raw)
    except (OSError, ValueError, KeyError, TypeError) as err:
        retrain = f"retrain it with `{retrain_command(key)}`" if key else "retrain that run with --force"
        raise BenchmarkError(
            f"{path}: not a readable run record ({type(err).__name__}: {err}): {retrain} (it is replaced), "
            "or delete it"
        ) from None
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


def read_tsne(home: Home, dataset: str, profile: str) -> dict | None:
    path = tsne_path(home, dataset, profile)
    return json.loads(path.read_text()) if path.exists() else None
