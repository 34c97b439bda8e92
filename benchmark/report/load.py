"""Reading run records for reports: every valid, verified record, and a one-line reason (with the fix)
for each skipped file."""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.store.records import RunRecord
from benchmark.store.runs import read_record


def load_records(runs: Path) -> tuple[list[RunRecord], list[str]]:
    records, skipped = [], []
    for path in sorted(runs.rglob("*.json")) if runs.exists() else []:
        if path.name.startswith("."):
            continue  # a write in progress (see benchmark.files.atomic_write)
        try:
            records.append(read_record(path))
        except BenchmarkError as err:
            skipped.append(f"skipping {err}")
    return records, skipped
