"""Shared fixtures. Tests that need the real files in ../shared/data skip when they are absent, unless
SUMMER_BENCH_REQUIRE_SHARED=1 (set by .ci/run), where their absence is a failure."""

from __future__ import annotations

import os

# [why] numpy's OpenBLAS threads spin while they wait, as torch's OpenMP threads do (benchmark/__init__.py):
# on two shared cores (load 7) the MELD probe's logistic regression in test_data_synthetic.py took 53 s on
# OpenBLAS's two threads and 0.7 s on one. Read when numpy loads OpenBLAS, so before any import below.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmark import data
from benchmark.data import releases
from benchmark.experiment.profiles import Profile
from benchmark.home import PROJECT_ROOT, Home
from tests.data_fixtures import write_feature_pickle
from tests.loopback import LoopbackServer, loopback_server
from tests.smoke_fixtures import SMALLER_SMOKE, use_smaller_smoke

SHARED_DATA = Path(os.environ.get("SUMMER_BENCH_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder ../shared/data (README.md, cosmic/iemocap.pkl, cosmic/meld.pkl)."""
    if not (SHARED_DATA / "cosmic" / "iemocap.pkl").exists():
        message = f"real data not found at {SHARED_DATA}"
        if os.environ.get("SUMMER_BENCH_REQUIRE_SHARED") == "1":
            pytest.fail(message + " (SUMMER_BENCH_REQUIRE_SHARED=1: CI must have ../shared beside the clone)")
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(autouse=True)
def two_cores(monkeypatch) -> None:
    """Every test sees the two cores CI has: how many runs a sweep starts at once when --jobs is not given
    (`default_jobs`), and so the plan line and the executor a test exercises, do not depend on the machine
    it runs on. Tests of other core counts patch `usable_cores` again."""
    from benchmark.executors import sweep

    monkeypatch.setattr(sweep, "usable_cores", lambda: 2)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh, empty home folder: tests never write into the project's results/ or reports/."""
    return Home(tmp_path / "home")


@pytest.fixture(scope="session")
def imported_home(tmp_path_factory) -> Home:
    """A home holding one good import (a small feature pickle, as iemocap), made once: the tests that need
    an import made before theirs start from a copy of it (`earlier`, tests/test_data_errors.py)."""
    folder = tmp_path_factory.mktemp("imported")
    home = Home(folder / "home")
    data.load("iemocap", home, str(write_feature_pickle(folder / "good.pkl", "mmgcn-iemocap")))
    return home


@pytest.fixture
def smaller_smoke(monkeypatch) -> Profile:
    """In this test, "smoke" is tests/smoke_fixtures.py's SMALLER_SMOKE."""
    use_smaller_smoke(monkeypatch)
    return SMALLER_SMOKE


@pytest.fixture
def server(monkeypatch) -> Iterator[LoopbackServer]:
    """A loopback HTTP server (tests/loopback.py) that named releases are fetched from in this test."""
    with loopback_server() as running:
        monkeypatch.setenv(releases.BASE_URL_ENV, running.url)
        yield running
