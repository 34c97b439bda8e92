"""The paper's numbers, from the one versioned file that says where each comes from, and the verdict
of our runs against them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from benchmark.home import REFERENCE_DIR

PAPER_NUMBERS = REFERENCE_DIR / "paper_numbers.json"


@dataclass(frozen=True)
class PaperNumbers:
    numbers: dict
    tolerance_points: float
    status: str

    def value(self, family: str, variant: str, metric: str) -> tuple[float, str] | None:
        cell = self.numbers.get(family, {}).get(variant, {}).get(metric)
        return None if cell is None else (float(cell["value"]), cell["source"])


def read_paper_numbers() -> PaperNumbers:
    raw = json.loads(PAPER_NUMBERS.read_text())
    return PaperNumbers(raw["numbers"], float(raw["tolerance_points"]), raw["status"])


def verdict(paper: float, low: float, high: float, mean: float, tolerance: float, synthetic: bool) -> str:
    """All in percent. A synthetic run is never a reproduction, whatever its numbers."""
    if synthetic:
        return "— (synthetic data)"
    if low <= paper <= high:
        return "reproduced"
    if abs(mean - paper) <= tolerance:
        return f"within tolerance (±{tolerance:g})"
    return "not reproduced"
