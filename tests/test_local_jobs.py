"""`--jobs 2` on the CPU: two runs at once in worker processes give the records the in-process executor
gives, to the last digit, even when a worker is killed mid-sweep; the teacher is trained once. More
torch threads at once than cores (the issue's hundredfold slowdown) are refused before anything trains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from benchmark.commands.cli import main
from benchmark.errors import BenchmarkError
from benchmark.executors import RUNS_PER_GPU, Placement, default_jobs
from benchmark.executors import sweep as sweep_module
from benchmark.executors.ray_cluster import bound_to_cluster
from benchmark.executors.sweep import RUNS_ON_THE_CPU, refuse_oversubscription
from benchmark.home import PROJECT_ROOT, Home
from benchmark.store.runs import RunStore
from benchmark.training.device_settings import Execution
from benchmark.training.runner import plan
from tests.sweep_fixtures import comparable, sweep

KEYS = plan(["summer", "early-fusion"], ["synthetic-iemocap"], "smoke", seeds=[0], ablations=["none"])
ONE_THREAD = Execution("cpu", threads=1)  # two runs of one thread each fit two cores


def _kill_a_worker_once_the_teacher_is_cached(home: Home, killed: list[int], stop: threading.Event) -> None:
    """SIGKILL one worker a second after the teacher is in the cache: SUMMER's run has started by then."""
    while not stop.is_set() and not list(home.teacher_cache.glob("*.pt")):
        time.sleep(0.1)
    time.sleep(1.0)
    workers = [
        child
        for child in psutil.Process().children(recursive=True)
        if "spawn_main" in " ".join(child.cmdline())
    ]
    if workers and not stop.is_set():
        os.kill(workers[0].pid, signal.SIGKILL)
        killed.append(workers[0].pid)


@pytest.mark.slow  # spawns two pools of workers importing torch: CI runs it in the slow lane
def test_two_jobs_with_a_killed_worker_store_every_record_once_equal_to_one_at_a_time(tmp_path, capsys):
    alone = sweep(KEYS, Home(tmp_path / "alone"), Placement(ONE_THREAD, jobs=1))
    home = Home(tmp_path / "two")
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_worker_once_the_teacher_is_cached, args=(home, killed, stop))
    killer.start()
    try:
        together = sweep(KEYS, home, Placement(ONE_THREAD, jobs=2))
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was seen, so none was killed"
    assert "after its worker died (attempt 2)" in capsys.readouterr().err
    assert [r.key for r in together] == KEYS
    assert len(sorted(RunStore(home).root.rglob("seed-*.json"))) == len(KEYS)
    for mine, theirs in zip(together, alone, strict=True):
        assert comparable(mine) == comparable(theirs), mine.key
    assert len(list(home.teacher_cache.glob("*.pt"))) == 1
    # a restarted sweep finds everything stored and trains nothing
    before = {key: RunStore(home).path(key).stat().st_mtime_ns for key in KEYS}
    sweep(KEYS, home, Placement(ONE_THREAD, jobs=2))
    assert {key: RunStore(home).path(key).stat().st_mtime_ns for key in KEYS} == before


ON_A_GPU = Execution("cuda:0", deterministic=False)  # resolved: is_cuda reads the name, sees no GPU


def test_the_default_jobs_give_each_run_cores_of_its_own_up_to_a_bound(monkeypatch):
    # two cores (conftest's `two_cores`): one run of two threads, or two of one
    assert default_jobs(Execution("cpu"), threads=2) == 1
    assert default_jobs(Execution("cpu"), threads=1) == 2
    assert default_jobs(ON_A_GPU, threads=1) == 2
    assert Placement(Execution("cpu")).describe_jobs(2, runs=5) == (
        "1 at a time on cpu (the default on the CPU: 2 cores, 2 torch thread(s) a run)"
    )
    assert Placement(Execution("cpu"), jobs=3).describe_jobs(2, runs=5) == "3 at a time on cpu (--jobs)"
    # never more at once than the sweep has runs: one run trains in this process
    assert Placement(Execution("cpu", threads=1)).local_jobs(1, runs=1) == 1
    assert Placement(Execution("cpu"), jobs=3).describe_jobs(2, runs=2) == "2 at a time on cpu (--jobs)"
    monkeypatch.setattr(sweep_module, "usable_cores", lambda: 64)
    assert default_jobs(Execution("cpu"), threads=1) == RUNS_ON_THE_CPU
    assert default_jobs(Execution("cpu"), threads=16) == 4
    assert default_jobs(ON_A_GPU, threads=2) == RUNS_PER_GPU
    assert default_jobs(ON_A_GPU, threads=64) == 1  # no cores left for a second run


def test_ray_tasks_ask_for_one_nth_of_a_gpu_on_cuda_and_none_on_the_cpu():
    cuda, cpu = Execution("cuda"), Execution("cpu", "fp32", True)
    assert bound_to_cluster(Placement(Execution("cuda"), executor="ray", jobs=2), cluster_gpus=0) == (
        cuda,
        0.5,
    )
    assert bound_to_cluster(Placement(Execution("auto"), executor="ray"), cluster_gpus=1) == (
        cuda,
        1 / RUNS_PER_GPU,
    )
    assert bound_to_cluster(Placement(Execution("auto"), executor="ray", jobs=3), cluster_gpus=0) == (cpu, 0)
    assert bound_to_cluster(Placement(Execution("cpu"), executor="ray", jobs=3), cluster_gpus=8) == (cpu, 0)


def test_more_threads_at_once_than_cores_are_refused_in_one_line_before_anything_trains(
    home, monkeypatch, capsys
):
    monkeypatch.setattr(sweep_module, "usable_cores", lambda: 2)
    code = main(
        ["run", "--model", "early-fusion", "--dataset", "synthetic-iemocap", "--profile", "smoke"]
        + ["--seeds", "0", "1", "--device", "cpu", "--jobs", "2", "--home", str(home.root)]
    )
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == (
        "error: --jobs 2 x 2 torch threads per run needs 4 CPU cores and this machine gives 2: the runs would "
        "fight over the cores and train many times slower than one at a time; use --jobs 1 or --jobs 2 "
        "--threads 1 (threads are part of the config: other runs)"
    )
    assert not RunStore(home).root.exists() or not list(RunStore(home).root.rglob("seed-*.json"))


@pytest.mark.parametrize(("jobs", "threads", "cores"), [(2, 1, 2), (1, 2, 2), (2, 2, 4), (3, 1, 4)])
def test_runs_at_once_that_fit_the_cores_are_let_through(jobs, threads, cores, monkeypatch):
    monkeypatch.setattr(sweep_module, "usable_cores", lambda: cores)
    refuse_oversubscription(jobs, threads)


def test_more_runs_than_cores_even_on_one_thread_are_refused(monkeypatch):
    monkeypatch.setattr(sweep_module, "usable_cores", lambda: 2)
    with pytest.raises(BenchmarkError, match=r"--jobs 3 x 1 torch threads .* use --jobs 2$"):
        refuse_oversubscription(3, 1)


def test_openmp_threads_sleep_while_waiting_in_every_process_that_imports_the_suite():
    """Set before torch loads OpenMP, so the command's process and its spawned workers (which inherit the
    environment and import the suite first) all have it; a user's explicit policy is kept."""
    probe = "import os, sys, benchmark; print('torch' in sys.modules, os.environ['OMP_WAIT_POLICY'])"
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        if given:
            environment["OMP_WAIT_POLICY"] = given
        printed = subprocess.run(
            [sys.executable, "-c", probe],
            env=environment,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert printed == ["False", expected]
