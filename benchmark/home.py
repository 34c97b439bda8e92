"""Where results, caches and reports live: one home folder, movable as a whole."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchmark.errors import BenchmarkError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HOME_ENV = "SUMMER_BENCH_HOME"
HOME_MARKER = ".summer-bench-home"  # written into every home folder the suite makes


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
    """`--home DIR`, else $SUMMER_BENCH_HOME, else the project folder (its results/ and reports/). A
    chosen folder must be a home (see `claim_home`); the project folder always is one."""
    chosen = explicit or os.environ.get(HOME_ENV) or PROJECT_ROOT
    root = Path(chosen).expanduser().resolve()
    if root != PROJECT_ROOT:
        claim_home(root)
    return Home(root)


def claim_home(root: Path) -> None:
    """A home is a folder the suite made (it holds HOME_MARKER) or an empty or new one, which is then
    marked; anything else (`/`, a user's home, a project) is refused before results/ and reports/ land
    among files the suite did not make. [choice] A folder holding only results/ and reports/ is a home
    made before the marker existed, and is marked too."""
    if (root / HOME_MARKER).is_file():
        return
    if root.exists() and not root.is_dir():
        raise BenchmarkError(f"--home {root}: not a folder: choose a new or empty folder with --home")
    others = sorted(set(os.listdir(root)) - {"results", "reports"}) if root.exists() else []
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise BenchmarkError(
            f"--home {root}: this folder holds files summer-bench did not make ({shown}): choose a new or "
            "empty folder with --home (results/ and reports/ are made inside it)"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / HOME_MARKER).write_text("a summer-bench home: results/ and reports/ live here\n")


# Versioned, committed inputs of the harness (not user results): they always come from the project.
REFERENCE_DIR = PROJECT_ROOT / "results" / "reference"
