"""The Ray executor on a local 2-CPU cluster: its records equal the local executor's to the last digit,
a worker killed mid-run still yields every record once, and a restarted sweep trains nothing twice."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import psutil
import pytest
import ray

from benchmark.commands.cli import main
from benchmark.executors import Placement
from benchmark.home import Home
from benchmark.store.runs import RunStore
from benchmark.training.device_settings import Execution
from benchmark.training.runner import plan
from tests.sweep_fixtures import comparable, sweep

KEYS = plan(["summer", "early-fusion"], ["synthetic-iemocap"], "smoke", seeds=[0, 1], ablations=["none"])
LOCAL = Placement(Execution("cpu", threads=1), jobs=1)
ON_RAY = Placement(Execution("cpu", threads=1), executor="ray")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_records(tmp_path_factory):
    return sweep(KEYS, Home(tmp_path_factory.mktemp("local")), LOCAL)


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory):
    return Home(tmp_path_factory.mktemp("ray"))


def _running_run_tasks() -> set[int]:
    return {
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if (process.info["cmdline"] or [""])[0] == "ray::_run_task"  # Ray's title for a worker running it
    }


def _kill_first_run_task(killed: list[int], stop: threading.Event) -> None:
    """SIGKILL a worker that has been running a run task for a second: long enough for the task to have
    said it started, so the display can report the restart, and short of a smoke run's length."""
    while not stop.is_set():
        seen = _running_run_tasks()
        time.sleep(1.0)
        still = seen & _running_run_tasks()
        if still:
            pid = min(still)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


@pytest.mark.slow  # starts a Ray cluster and its workers: CI runs it in the slow lane
def test_a_killed_worker_still_yields_every_record_once_equal_to_the_local_executor(
    cluster, local_records, ray_home, capsys
):
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_run_task, args=(killed, stop))
    killer.start()
    try:
        records = sweep(KEYS, ray_home, ON_RAY)
    finally:
        stop.set()
        killer.join()
    assert killed, "no run task was seen running, so none was killed"
    assert "after its worker died (attempt 2)" in capsys.readouterr().err
    assert [r.key for r in records] == KEYS
    stored = sorted(RunStore(ray_home).root.rglob("seed-*.json"))
    assert len(stored) == len(KEYS)
    assert all(RunStore(ray_home).weights_path(key).exists() for key in KEYS)
    for local, distributed in zip(local_records, records, strict=True):
        assert comparable(distributed) == comparable(local), local.key
    # each seed's teacher was trained once, by its teacher task; the runs found it in the cache
    summer_runs = [r for r in records if r.key.model == "summer"]
    assert all(r.teacher.cache_hit for r in summer_runs)
    assert len(list(ray_home.teacher_cache.glob("*.pt"))) == 2


@pytest.mark.slow
def test_a_restarted_sweep_trains_only_what_is_missing(cluster, ray_home):
    store = RunStore(ray_home)
    before = {key: store.path(key).stat().st_mtime_ns for key in KEYS}
    assert [r.key for r in sweep(KEYS, ray_home, ON_RAY)] == KEYS
    assert {key: store.path(key).stat().st_mtime_ns for key in KEYS} == before

    lost = KEYS[-1]  # as if the sweep had been stopped before this run finished
    store.path(lost).unlink()
    sweep(KEYS, ray_home, ON_RAY)
    after = {key: store.path(key).stat().st_mtime_ns for key in KEYS}
    assert {k: v for k, v in after.items() if k != lost} == {k: v for k, v in before.items() if k != lost}
    assert store.read(lost) is not None


@pytest.mark.slow
def test_a_run_failing_on_its_worker_ends_the_sweep_in_one_line(cluster, tmp_path, capsys):
    code = main(
        ["run", "--model", "early-fusion", "--dataset", "synthetic-iemocap", "--profile", "smoke"]
        + ["--seeds", "0", "--executor", "ray", "--home", str(tmp_path), "--precision", "bf16"]  # CUDA only
    )
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and "--precision bf16 needs a CUDA device" in error


def test_address_without_ray_and_a_gpu_index_with_ray_are_refused(tmp_path, capsys):
    for extra, message in (
        (["--address", "ray://nowhere:10001"], "--address names a Ray cluster: give it with --executor ray"),
        (["--executor", "ray", "--device", "cuda:1"], "Ray assigns each task its GPU; use --device cuda"),
    ):
        code = main(["run", "--model", "early-fusion", "--home", str(tmp_path), *extra])
        assert code == 2
        assert message in capsys.readouterr().err
