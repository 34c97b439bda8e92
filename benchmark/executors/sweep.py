"""Where a sweep's runs compute (`Placement`: the executor, its jobs and the device settings) and
`run_sweep`, which hands the runs to the executor it names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.store.records import RunRecord
from benchmark.training.device_settings import Execution

if TYPE_CHECKING:
    from benchmark.training.runner import ResolvedRun

EXECUTORS = ("local", "ray")

# [choice] runs sharing one GPU when --jobs is not given: the profile of a paper-width SUMMER epoch
# on an H100 found the GPU busy 43% of it (launch-bound, 2.8 GB of its memory), and a fast-profile run
# leaves it idler still, so a few runs at once fill the gaps; 4 is not measured against 2 or 8 yet
# (scripts/gpu_targets.py times the sweep with it). Capped by the CPU cores the runs' threads need.
RUNS_PER_GPU = 4
# [choice] at most this many runs at once on the CPU when --jobs is not given: every worker holds the
# datasets and a model (two fast-profile workers and their parent peaked at 1.5 GB), so on a machine of
# many cores memory, not cores, sets the bound; 8 keeps a sweep under about 6 GB. Not measured beyond 2.
RUNS_ON_THE_CPU = 8


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, which a container or `taskset` narrows)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def refuse_oversubscription(jobs: int, threads: int) -> None:
    """Runs at once must not ask for more threads than there are cores. [why] torch's OpenMP threads wait
    for each other by spinning: two workers of two threads on two cores each spin on a core the other
    needs, and the issue measured smoke epochs of 29-37 s instead of 0.2-0.5 s, a sweep a hundred times
    slower than one run at a time. Threads are part of a run's config, so they are never lowered behind
    the user's back: the line says which settings fit."""
    cores = usable_cores()
    if jobs * threads <= cores:
        return
    fits = [f"--jobs {cores // threads}"] if cores >= threads else []
    if cores >= jobs:
        fits.append(f"--jobs {jobs} --threads {cores // jobs} (threads are part of the config: other runs)")
    raise BenchmarkError(
        f"--jobs {jobs} x {threads} torch threads per run needs {jobs * threads} CPU cores and this machine "
        f"gives {cores}: the runs would fight over the cores and train many times slower than one at a time; "
        f"use {' or '.join(fits or ['--jobs 1'])}"
    )


def default_jobs(execution: Execution, threads: int) -> int:
    """Runs at once on `execution`'s resolved device when --jobs is not given, for runs of `threads` torch
    threads each: as many as the usable cores hold (each run's threads on cores of their own, so none
    waits for another's), at most `RUNS_PER_GPU` on a GPU and `RUNS_ON_THE_CPU` on the CPU."""
    most = RUNS_PER_GPU if execution.is_cuda else RUNS_ON_THE_CPU
    return max(1, min(most, usable_cores() // threads))


def threads_of(runs: Sequence[ResolvedRun]) -> int:
    """The most torch threads any of `runs` trains with (its plan's: --threads, else its profile's)."""
    return max((run.plan.train.threads for run in runs), default=1)


@dataclass(frozen=True)
class Placement:
    """Where a sweep's runs compute: the command line's `--executor`, `--address` and `--jobs`, and its
    device settings (`--device`, `--precision`, `--deterministic`, `--threads`), resolved once by
    `from_args`, the command boundary, before any data loads: for the local executor on this machine
    (`Execution.resolved`); for Ray checked here and bound to the cluster once it is joined
    (`Execution.on_cluster`), since only the cluster knows its GPUs. Each run's plan carries the result
    (`benchmark.training.runner.resolve_runs`). `jobs`: 1 to `MOST_THREADS`, checked once where the command
    line gives it (`--jobs`'s argparse type); None: `default_jobs`."""

    execution: Execution
    executor: str = "local"
    address: str | None = None
    jobs: int | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise BenchmarkError(f"--executor {self.executor!r} is not one of {', '.join(EXECUTORS)}")
        if self.address and self.executor != "ray":
            raise BenchmarkError("--address names a Ray cluster: give it with --executor ray")

    @classmethod
    def from_args(cls, args) -> Placement:
        given = Execution(args.device, args.precision, args.deterministic, args.threads)
        execution = given.checked_for_cluster() if args.executor == "ray" else given.resolved()
        return cls(execution, args.executor, args.address, args.jobs)

    @property
    def runs_per_gpu(self) -> int:
        """Ray: the runs that share one of the cluster's GPUs (each task asks for 1/N of one)."""
        return self.jobs or RUNS_PER_GPU

    def local_jobs(self, threads: int, runs: int) -> int:
        """How many of a sweep's `runs` runs, of `threads` torch threads each, the local executor trains at
        once: never more than there are runs, so that one run trains here, without a pool to start."""
        return max(1, min(self.jobs or default_jobs(self.execution, threads), runs))

    def describe_jobs(self, threads: int, runs: int) -> str:
        """The plan's account of how many of its `runs` runs, of `threads` torch threads each, train at once,
        and why: on the local executor's device, or per GPU of a Ray cluster's (whose GPUs only its workers
        see)."""
        if self.executor == "ray":
            return (
                f"Ray tasks, each asking for its threads as CPUs and, on CUDA, 1/{self.runs_per_gpu} of a GPU"
            )
        jobs = self.local_jobs(threads, runs)
        if self.jobs is not None:
            why = "--jobs"
        elif self.execution.is_cuda:
            why = "the default on a GPU"
        else:
            why = f"the default on the CPU: {usable_cores()} cores, {threads} torch thread(s) a run"
        return f"{jobs} at a time on {self.execution.device} ({why})"


def run_sweep(
    runs: Sequence[ResolvedRun], home: Home, placement: Placement, *, force: bool = False
) -> list[RunRecord]:
    """`runs` resolved with `placement.execution` (`benchmark.training.runner.resolve_runs`): each
    computes where its plan says."""
    if placement.executor == "ray":
        from benchmark.executors.ray_cluster import run_on_ray

        return run_on_ray(runs, home, placement, force=force)
    from benchmark.executors.local import run_keys

    jobs = placement.local_jobs(threads_of(runs), len(runs))
    if jobs > 1:
        from benchmark.executors.processes import run_in_processes

        return run_in_processes(runs, home, jobs, force=force)
    return run_keys(runs, home, force=force)
