"""Run records on disk: one JSON per run key, written whole or not at all, one writer per key; beside
it the run's validation-selected weights (`seed-N.pt`), written first."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from benchmark.files import atomic_write, atomic_write_json, exclusive
from benchmark.home import Home
from benchmark.records import RunKey, RunRecord


class RunStore:
    def __init__(self, home: Home) -> None:
        self.root = home.runs

    def path(self, key: RunKey) -> Path:
        return self.root / key.relative_path()

    def read(self, key: RunKey) -> RunRecord | None:
        path = self.path(key)
        return RunRecord.from_json(json.loads(path.read_text())) if path.exists() else None

    def weights_path(self, key: RunKey) -> Path:
        """The validation-selected weights (a torch state dict) beside the record."""
        return self.path(key).with_suffix(".pt")

    def save(self, record: RunRecord, weights: dict[str, torch.Tensor]) -> Path:
        """A trained run: its weights first, then its record, so a stored record always has them beside it."""
        atomic_write(self.weights_path(record.key), lambda temporary: torch.save(weights, temporary))
        return self.write(record)

    def write(self, record: RunRecord) -> Path:
        path = self.path(record.key)
        atomic_write_json(path, record.to_json())
        return path

    def lock(self, key: RunKey):
        return exclusive(self.path(key))
