"""The Ray executor: every pending (model, variant, dataset, seed) run becomes a Ray task, with what
every spreading executor shares (`benchmark/executors/workers.py`): stored runs skipped, teachers first
and once each, the driver alone writing run records, a task whose worker dies retried.

Teachers: one teacher task per teacher cache identity; the runs that share it are submitted with that
task as a dependency, so Ray starts them once the teacher is in the teacher cache. A task that raises
is not retried (`retry_exceptions=False`). Each run asks for its threads as CPUs and, on CUDA, a share
of one GPU: 1/jobs, so that `--jobs N` puts N runs on each GPU.

What the workers share with the driver is the home folder's caches: the imported data and the teacher
weights (written there with the same atomic write and lock as the local executor). On a local cluster
that is this machine's disk; on a multi-node cluster the home must be a path every node mounts, and
summer-bench must be installed at the same commit on every node.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator, Sequence

from benchmark.errors import BenchmarkError
from benchmark.executors import Placement
from benchmark.executors.workers import (
    WORKER_RETRIES,
    SweepDisplay,
    label,
    pending_runs,
    raise_failures,
    split_stored,
    store_result,
    train_record,
    train_teacher_of,
)
from benchmark.home import Home
from benchmark.store.records import RunKey, RunRecord
from benchmark.store.runs import RunStore
from benchmark.training.device_settings import Execution
from benchmark.training.runner import ResolvedRun, RunPlan


def run_on_ray(
    runs: Sequence[ResolvedRun], home: Home, placement: Placement, *, force: bool = False
) -> list[RunRecord]:
    """`placement.execution` checked at the command boundary (`Execution.checked_for_cluster`); bound
    here to the cluster's GPUs, once, and carried to the tasks in each run's plan."""
    stored, pending = split_stored(runs, home, force=force)
    if pending:
        ray = _import_ray()
        with _connected(ray, placement.address):
            stored |= _train_on_cluster(ray, pending, home, placement, force)
    return [stored[run.plan.key] for run in runs]


def _import_ray():
    try:
        import ray
    except ImportError:
        raise BenchmarkError(
            "--executor ray needs Ray, an optional extra: pip install -e '.[ray]' (or use --executor local)"
        ) from None
    return ray


@contextlib.contextmanager
def _connected(ray, address: str | None) -> Iterator[None]:
    """Join `address`, or start a local cluster of this machine's CPUs and GPUs; a connection the caller
    made already (a notebook, a test) is used as it is and left open."""
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise BenchmarkError(f"could not start or join {where}: {str(err).splitlines()[0]}") from None
    try:
        yield
    finally:
        ray.shutdown()


def bound_to_cluster(placement: Placement, cluster_gpus: float) -> tuple[Execution, float]:
    """The runs' device settings bound to the cluster (`Execution.on_cluster`), and the GPUs one task asks
    for: 1/jobs of one when the runs compute on CUDA, else none."""
    execution = placement.execution.on_cluster(cluster_gpus)
    return execution, (1 / placement.runs_per_gpu if execution.is_cuda else 0)


def _train_on_cluster(
    ray, pending: list[ResolvedRun], home: Home, placement: Placement, force: bool
) -> dict[RunKey, RunRecord]:
    from ray.util.queue import Queue

    events = Queue(actor_options={"num_cpus": 0})  # workers -> driver: task started, epoch finished
    execution, gpus = bound_to_cluster(placement, ray.cluster_resources().get("GPU", 0))
    bound = [
        dataclasses.replace(run, plan=dataclasses.replace(run.plan, execution=execution)) for run in pending
    ]
    teacher_task, run_task = ray.remote(_teacher_task), ray.remote(_run_task)
    teachers: dict[str, object] = {}  # teacher cache identity -> the task that puts it in the cache
    runs: dict[object, RunPlan] = {}
    for run in pending_runs(bound):
        digest = run.teacher
        options = {
            "num_cpus": run.threads,
            "num_gpus": gpus,
            "max_retries": WORKER_RETRIES,
            "retry_exceptions": False,
        }
        dependencies = []
        if digest is not None:
            if digest not in teachers:
                teachers[digest] = teacher_task.options(**options).remote(run.plan, str(home.root), events)
            dependencies.append(teachers[digest])
        task = run_task.options(**options).remote(run.plan, str(home.root), events, *dependencies)
        runs[task] = run.plan
    return _collect(ray, runs, events, RunStore(home), force)


def _collect(
    ray, runs: dict[object, RunPlan], events, store: RunStore, force: bool
) -> dict[RunKey, RunRecord]:
    """Store each record as its task finishes, keep the display current, report failures at the end."""
    display = SweepDisplay([plan.key for plan in runs.values()], "Ray sweep")
    finished: dict[RunKey, RunRecord] = {}
    failures: list[str] = []
    waiting = list(runs)
    with display.live():
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1, timeout=0.5)
            display.drain(events)
            for ref in ready:
                plan = runs[ref]
                key = plan.key
                try:
                    raw, weights = ray.get(ref)
                except ray.exceptions.RayError as err:
                    failures.append(f"{label(key)}: {_cause(err)}")
                    display.failed(key, _cause(err))
                    continue
                finished[key] = store_result(store, plan, raw, weights, force=force)
                display.finished(key, finished[key])
    raise_failures(failures, len(runs))
    return finished


def _cause(err: Exception) -> str:
    cause = getattr(err, "cause", None) or err
    return (str(cause).strip().splitlines() or [type(cause).__name__])[-1]


def _teacher_task(plan: RunPlan, home_root: str, events) -> None:
    train_teacher_of(plan, home_root, events)


def _run_task(plan: RunPlan, home_root: str, events, *_teacher_in_cache) -> tuple[dict, dict]:
    return train_record(plan, home_root, events)
