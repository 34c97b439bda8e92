"""The rivals' cross-check against their authors' code, as the reports' rival section states it: read
from the committed `results/reference/crosscheck.csv` (written by `python -m scripts.crosscheck`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from benchmark.home import REFERENCE_DIR

CROSSCHECK_CSV = REFERENCE_DIR / "crosscheck.csv"


def crosscheck_lines(dataset: str, variants: Iterable[str], path: Path = CROSSCHECK_CSV) -> list[str]:
    """One line per rival of `variants` checked on `dataset`: its gap to the authors' code and the seeds'
    spread; or one line saying none is."""
    rows = []
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["side"] == "ours" and r["dataset"] == dataset]
    checked = [r for r in rows if r["model"] in set(variants)]
    if not checked:
        return [
            f"No rival of these runs was cross-checked against its authors' code on {dataset} "
            f"({path.name}: `python -m scripts.crosscheck`).",
            "",
        ]
    lines = [f"Cross-checked against the authors' code on {dataset} (results/reference/{path.name}):", ""]
    for row in checked:
        spread = row.get("pooled_std", "")
        verdict = (
            ""
            if spread == ""
            else (
                " (within the seeds' spread)"
                if abs(float(row["gap"])) <= float(spread)
                else " (**beyond** the seeds' spread)"
            )
        )
        lines.append(
            f"- `{row['model']}`: ours − authors' = {float(row['gap']):+.2f} weighted-F1 points over seeds "
            f"{row['seeds']} at width {row['width']}, {row['epochs']} epochs, pooled seed std "
            f"{spread or 'n/a'}{verdict}"
        )
    return [*lines, ""]
