"""Reading run records for reports: every valid record, and a one-line reason for each skipped file."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.records import RunRecord


def load_records(runs: Path) -> tuple[list[RunRecord], list[str]]:
    records, skipped = [], []
    for path in sorted(runs.rglob("*.json")) if runs.exists() else []:
        if path.name.startswith("."):
            continue  # a write in progress (see benchmark.files.atomic_write)
        try:
            records.append(RunRecord.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError) as err:
            skipped.append(f"skipping {path}: {type(err).__name__}: {err}")
    return records, skipped
