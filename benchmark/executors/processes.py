"""The local executor's `--jobs N`: N runs at once on this machine's device, each in a worker process of
its own, with what the spreading executors share (`benchmark/executors/workers.py`): stored runs skipped,
each teacher trained once before the runs that share it are handed out, the parent alone writing run
records, a run whose worker dies retried.

[choice] Workers are started with `spawn`: a fresh interpreter, so no CUDA state and no torch thread pool
is inherited from the parent, and a run computes exactly as it would alone (tested: the records equal
the in-process executor's to the last digit). A worker lives for the whole sweep, so torch is imported
once per worker, not once per run. The runs' torch threads must fit the cores: `--jobs N` with N x threads
above them is refused before a worker starts (`refuse_oversubscription`, issue 31: two workers of two
threads on two cores trained a hundred times slower than one run at a time).

A dying worker (the OOM killer, a kill -9) breaks the whole pool, whose other workers are stopped with
it: every run it was running counts one attempt, a new pool takes the unfinished runs, and a run started
more than `WORKER_RETRIES` + 1 times is reported as failed, as is every run once more than `WORKER_RETRIES`
pools died before training anything (workers that cannot start). Ctrl-C: the workers ignore it, the parent
stops them and lets the interrupt through; what is stored is whole, since only the parent writes.
"""

from __future__ import annotations

import io
import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import torch

from benchmark.executors.sweep import refuse_oversubscription, threads_of
from benchmark.executors.workers import (
    WORKER_RETRIES,
    PendingRun,
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
from benchmark.training.runner import ResolvedRun, RunPlan

_events = None  # in a worker: the queue its progress goes to the parent by


def run_in_processes(
    runs: Sequence[ResolvedRun], home: Home, jobs: int, *, force: bool = False
) -> list[RunRecord]:
    """Every worker computes where the run's plan says (resolved: "cpu" or "cuda:N")."""
    stored, pending = split_stored(runs, home, force=force)
    if pending:
        refuse_oversubscription(jobs, threads_of(pending))
        stored |= _ProcessSweep(pending_runs(pending), home, jobs, force).run()
    return [stored[run.plan.key] for run in runs]


def _start_worker(events) -> None:
    global _events
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    _events = events


def _teacher_job(plan: RunPlan, home_root: str) -> None:
    train_teacher_of(plan, home_root, _events)


def _run_job(plan: RunPlan, home_root: str) -> tuple[dict, bytes]:
    raw, weights = train_record(plan, home_root, _events)
    buffer = io.BytesIO()  # one byte string through the pipe, not one shared-memory handle per tensor
    torch.save(weights, buffer)
    return raw, buffer.getvalue()


def _message(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[-1]


class _ProcessSweep:
    def __init__(self, runs: list[PendingRun], home: Home, jobs: int, force: bool) -> None:
        self.runs, self.home, self.jobs, self.force = runs, home, jobs, force
        self.store = RunStore(home)
        self.display = SweepDisplay([run.key for run in runs], f"{jobs} runs at once")
        self.context = multiprocessing.get_context("spawn")
        self.teachers_ready: set[str] = set()
        self.teacher_attempts: dict[str, int] = {}
        self.finished: dict[RunKey, RunRecord] = {}
        self.failures: list[str] = []
        self.barren_pools = 0  # pools that broke before anything in them started

    def run(self) -> dict[RunKey, RunRecord]:
        remaining = self.runs
        with self.display.live():
            while remaining:
                remaining = self._one_pool(remaining)
        raise_failures(self.failures, len(self.runs))
        return self.finished

    def _fail(self, key: RunKey, message: str) -> None:
        self.failures.append(f"{label(key)}: {message}")
        self.display.failed(key, message)

    def _one_pool(self, runs: list[PendingRun]) -> list[PendingRun]:
        """Train `runs` in one pool of workers: [] when it ends, or the runs to retry when a worker died."""
        # a queue of its own: a worker killed while writing to a queue can leave it locked for the others
        events = self.context.Queue()
        pool = ProcessPoolExecutor(
            self.jobs, mp_context=self.context, initializer=_start_worker, initargs=(events,)
        )
        root = str(self.home.root)
        progress_before = self._progress()
        futures: dict[Future, tuple[str, object]] = {}
        blocked: dict[str, list[PendingRun]] = {}  # teacher identity -> the runs waiting for it
        unsubmitted: list[PendingRun] = []  # runs whose teacher finished as the pool broke

        def submit_run(run: PendingRun) -> None:
            try:
                futures[pool.submit(_run_job, run.plan, root)] = ("run", run)
            except BrokenProcessPool:
                unsubmitted.append(run)

        for run in runs:
            if run.teacher is None or run.teacher in self.teachers_ready:
                continue
            if run.teacher not in blocked:
                futures[pool.submit(_teacher_job, run.plan, root)] = ("teacher", run.teacher)
            blocked.setdefault(run.teacher, []).append(run)
        for run in runs:
            if run.teacher is None or run.teacher in self.teachers_ready:
                submit_run(run)
        broken = False
        try:
            while futures and not broken:
                done, _ = wait(futures, timeout=0.5, return_when=FIRST_COMPLETED)
                self.display.drain(events)
                for future in done:
                    kind, item = futures.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        futures[future] = (kind, item)
                        broken = True
                        continue
                    except Exception as err:  # the run's own error, raised on its worker: not retried
                        waiting = blocked.pop(item, []) if kind == "teacher" else [item]
                        prefix = "its teacher failed: " if kind == "teacher" else ""
                        for run in waiting:
                            self._fail(run.key, prefix + _message(err))
                        continue
                    if kind == "teacher":
                        self.teachers_ready.add(item)
                        for run in blocked.pop(item):
                            submit_run(run)
                    else:
                        raw, weights = result
                        weights = torch.load(io.BytesIO(weights))
                        record = store_result(self.store, item.plan, raw, weights, force=self.force)
                        self.finished[item.key] = record
                        self.display.finished(item.key, record)
        except BaseException:  # Ctrl-C, or an error of the parent's own: stop the workers, keep the stored
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
        if not broken and not unsubmitted:
            return []
        self.display.drain(events)
        if self._progress() == progress_before:  # the workers die before training anything (at start)
            self.barren_pools += 1
            if self.barren_pools > WORKER_RETRIES:
                for run in runs:
                    if run.key not in self.finished and not self.display.states[run.key].startswith("failed"):
                        self._fail(
                            run.key, f"{self.barren_pools} pools of workers died before training anything"
                        )
                return []
        return unsubmitted + self._retries(futures.values(), blocked)

    def _progress(self) -> tuple[int, int, int]:
        return sum(self.display.starts.values()), len(self.teachers_ready), len(self.finished)

    def _retries(self, unfinished, blocked: dict[str, list[PendingRun]]) -> list[PendingRun]:
        """After a worker died: the runs to hand to a new pool, those started too often failed."""
        retry = []
        for kind, item in unfinished:
            if kind == "teacher":
                self.teacher_attempts[item] = self.teacher_attempts.get(item, 0) + 1
                waiting = blocked.pop(item, [])
                if self.teacher_attempts[item] > WORKER_RETRIES:
                    for run in waiting:
                        self._fail(
                            run.key,
                            f"the worker training its teacher died {self.teacher_attempts[item]} times",
                        )
                else:
                    retry += waiting
            elif self.display.starts[item.key] > WORKER_RETRIES:
                self._fail(item.key, f"its worker died {self.display.starts[item.key]} times")
            else:
                retry.append(item)
        return retry


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes now: shutting the pool down alone would wait for the runs
    they are training. (`_processes`, pid -> process, is what Python 3.14's `terminate_workers` reads.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
