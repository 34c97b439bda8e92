"""Where results, caches and reports live: one home folder, movable as a whole."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HOME_ENV = "SUMMER_BENCH_HOME"


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def runs(self) -> Path:
        return self.results / "runs"

    @property
    def dataset_cache(self) -> Path:
        return self.results / "cache" / "datasets"

    @property
    def download_cache(self) -> Path:
        """Files of named public releases, as fetched (benchmark/data/releases.py)."""
        return self.results / "cache" / "downloads"

    @property
    def teacher_cache(self) -> Path:
        return self.results / "cache" / "teachers"

    @property
    def reports(self) -> Path:
        return self.root / "reports"


def resolve_home(explicit: str | os.PathLike | None = None) -> Home:
    """`--home DIR`, else $SUMMER_BENCH_HOME, else the project folder (its results/ and reports/)."""
    chosen = explicit or os.environ.get(HOME_ENV) or PROJECT_ROOT
    return Home(Path(chosen).expanduser().resolve())


# Versioned, committed inputs of the harness (not user results): they always come from the project.
REFERENCE_DIR = PROJECT_ROOT / "results" / "reference"
