"""The Ray executor: every pending (model, variant, dataset, seed) run becomes a Ray task.

1. Keys whose record is stored are not submitted (unless `force`): a stopped sweep, restarted, trains
   nothing twice.
2. Teachers first, once each: the driver reads every pending run's teacher off its model built on the
   meta device, groups the runs by the teacher's cache identity and submits one teacher task per
   teacher; the runs that share it are submitted with that task as a dependency, so Ray starts them
   once the teacher is in the teacher cache.
3. [choice] The driver alone writes run records: a task returns its record and weights, and the driver
   stores them with the run store's atomic writes and lock. A task that dies half-way therefore leaves nothing, its retry
   cannot write twice, and the results folder need not be reachable from the workers.
4. A task whose worker dies is retried by Ray (`WORKER_RETRIES`); a task that raises (bad input, a bug)
   is not, and its error is reported once the other runs are stored.

What the workers share with the driver is the home folder's caches: the imported data and the teacher
weights (written there with the same atomic write and lock as the local executor). On a local cluster
that is this machine's disk; on a multi-node cluster the home must be a path every node mounts, and
summer-bench must be installed at the same commit on every node.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from benchmark.errors import BenchmarkError
from benchmark.execution import resolve_execution
from benchmark.executors import Placement
from benchmark.home import Home
from benchmark.records import RunKey, RunRecord
from benchmark.runner import record_run, reusable_record, run_inputs, teacher_request_of
from benchmark.store import RunStore
from benchmark.teachers import obtain_teacher, teacher_digest

WORKER_RETRIES = 3  # attempts after a worker process dies (a node lost, the OOM killer, a kill -9)


def run_on_ray(
    keys: Sequence[RunKey], home: Home, placement: Placement, *, force: bool = False
) -> list[RunRecord]:
    if placement.device.startswith("cuda:"):
        raise BenchmarkError(
            f"--device {placement.device}: with --executor ray, Ray assigns each task its GPU; use --device cuda"
        )
    resolve_execution("cpu", "fp32", False, placement.threads)  # the options themselves, checked here
    stored = {}
    if not force:
        stored = {
            k: r for k in keys if (r := reusable_record(k, home, placement.threads, placement.precision))
        }
    pending = [key for key in keys if key not in stored]
    if pending:
        ray = _import_ray()
        with _connected(ray, placement.address):
            stored |= _train_on_cluster(ray, pending, home, placement)
    return [stored[key] for key in keys]


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


def _label(key: RunKey) -> str:
    return f"{key.variant} on {key.dataset} seed {key.seed}"


def _train_on_cluster(
    ray, pending: list[RunKey], home: Home, placement: Placement
) -> dict[RunKey, RunRecord]:
    from ray.util.queue import Queue

    events = Queue(actor_options={"num_cpus": 0})  # workers -> driver: task started, epoch finished
    wants_gpu = placement.device == "cuda" or (
        placement.device == "auto" and ray.cluster_resources().get("GPU", 0) > 0
    )
    teacher_task, run_task = ray.remote(_teacher_task), ray.remote(_run_task)
    teachers: dict[str, object] = {}  # teacher cache identity -> the task that puts it in the cache
    runs: dict[object, RunKey] = {}
    for key in pending:
        inputs = run_inputs(key, home, placement.threads)
        options = {
            "num_cpus": inputs.train.threads,
            "num_gpus": 1 if wants_gpu else 0,
            "max_retries": WORKER_RETRIES,
            "retry_exceptions": False,
        }
        request = teacher_request_of(key, inputs)
        dependencies = []
        if request is not None:
            digest = teacher_digest(
                request, inputs.dataset, inputs.profile.dims, inputs.train, placement.precision
            )
            if digest not in teachers:
                teachers[digest] = teacher_task.options(**options).remote(
                    key, str(home.root), placement, events
                )
            dependencies.append(teachers[digest])
        runs[run_task.options(**options).remote(key, str(home.root), placement, events, *dependencies)] = key
    return _collect(ray, runs, events, RunStore(home))


def _collect(ray, runs: dict, events, store: RunStore) -> dict[RunKey, RunRecord]:
    """Store each record as its task finishes, keep the display current, report failures at the end."""
    display = _SweepDisplay(list(runs.values()))
    finished: dict[RunKey, RunRecord] = {}
    failures: list[str] = []
    waiting = list(runs)
    with display.live():
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1, timeout=0.5)
            display.drain(events)
            for ref in ready:
                key = runs[ref]
                try:
                    raw, weights = ray.get(ref)
                    record = RunRecord.from_json(raw)
                except ray.exceptions.RayError as err:
                    failures.append(f"{_label(key)}: {_cause(err)}")
                    display.failed(key, _cause(err))
                    continue
                with store.lock(key):
                    store.save(record, weights)
                finished[key] = record
                display.finished(key, record)
    if failures:
        raise BenchmarkError(
            f"{len(failures)} of {len(runs)} runs failed (the others are stored; rerun to retry): {failures[0]}"
        )
    return finished


def _cause(err: Exception) -> str:
    cause = getattr(err, "cause", None) or err
    return (str(cause).strip().splitlines() or [type(cause).__name__])[-1]


def _worker_home_and_execution(home_root: str, placement: Placement):
    # On a worker, "cuda" is the GPU Ray assigned (CUDA_VISIBLE_DEVICES); a task given no GPU sees none,
    # so "auto" resolves to the CPU there.
    execution = resolve_execution(
        placement.device, placement.precision, placement.deterministic, placement.threads
    )
    return Home(Path(home_root)), execution


def _teacher_task(key: RunKey, home_root: str, placement: Placement, events) -> None:
    """Train (or find in the cache) the teacher `key`'s model asks for; the runs sharing it wait on this."""
    home, execution = _worker_home_and_execution(home_root, placement)
    events.put(("teacher", key, None))
    inputs = run_inputs(key, home, execution.threads)
    request = teacher_request_of(key, inputs)
    obtain_teacher(request, inputs.dataset, inputs.profile.dims, inputs.train, home, execution=execution)


def _run_task(
    key: RunKey, home_root: str, placement: Placement, events, *_teacher_in_cache
) -> tuple[dict, dict]:
    home, execution = _worker_home_and_execution(home_root, placement)
    events.put(("running", key, None))

    def on_epoch(epoch: int, total: int, loss: float, validation_f1: float) -> None:
        events.put(("epoch", key, (epoch, total, loss, validation_f1)))

    record, weights = record_run(key, home, on_epoch, execution)
    return record.to_json(), weights


class _SweepDisplay:
    """One row per task with its state, live on a terminal; one line per finished, failed or restarted
    run otherwise (a log file gets a line as each run ends, not everything at the end)."""

    def __init__(self, keys: list[RunKey]) -> None:
        self.console = Console(stderr=True)
        self.states = {key: "queued" for key in keys}
        self.starts = dict.fromkeys(keys, 0)
        self._live: Live | None = None

    @contextlib.contextmanager
    def live(self) -> Iterator[None]:
        if not self.console.is_terminal:
            yield
            return
        with Live(self._table(), console=self.console, refresh_per_second=4) as self._live:
            yield
        self._live = None

    def drain(self, events) -> None:
        while True:
            try:
                kind, key, payload = events.get_nowait()
            except queue.Empty:
                break
            if kind == "teacher" and self.states.get(key) == "queued":
                self.states[key] = "training its teacher"
            elif kind == "running":
                self.starts[key] += 1
                if self.starts[key] > 1:
                    self._log(f"restarted {_label(key)} after its worker died (attempt {self.starts[key]})")
                self.states[key] = "running" + (
                    f" (attempt {self.starts[key]})" if self.starts[key] > 1 else ""
                )
            elif kind == "epoch":
                epoch, total, loss, validation_f1 = payload
                attempt = f" (attempt {self.starts[key]})" if self.starts[key] > 1 else ""
                self.states[key] = (
                    f"epoch {epoch}/{total}  loss {loss:.3f}  validation wF1 {100 * validation_f1:.2f}{attempt}"
                )
        self._refresh()

    def finished(self, key: RunKey, record: RunRecord) -> None:
        self.states[key] = f"done: test wF1 {100 * record.test.weighted_f1:.2f} (epoch {record.best_epoch})"
        self._log(f"{_label(key)}: {self.states[key]}")
        self._refresh()

    def failed(self, key: RunKey, message: str) -> None:
        self.states[key] = f"failed: {message}"
        self._log(f"{_label(key)}: {self.states[key]}")
        self._refresh()

    def _log(self, line: str) -> None:
        if self._live is None:
            self.console.print(line, highlight=False, soft_wrap=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _table(self) -> Table:
        done = sum(state.startswith("done") for state in self.states.values())
        table = Table(title=f"Ray sweep: {done}/{len(self.states)} runs done", title_justify="left")
        table.add_column("run", no_wrap=True)
        table.add_column("state")
        for key, state in self.states.items():
            table.add_row(_label(key), state)
        return table
