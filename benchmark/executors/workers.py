"""What the executors that spread runs over workers share (Ray's tasks, the local executor's processes):

1. Keys whose record is stored are not handed out (unless `force`): a stopped sweep, restarted, trains
   nothing twice (`RunStore.reusable`, checked again under the run's lock when its result is stored).
2. Teachers first, once each: every pending run's plan names its teacher, and the runs are grouped by
   the teacher's cache identity (`pending_runs`); one worker trains each teacher (`train_teacher_of`)
   before the runs that share it start.
3. [choice] The parent alone writes run records: a worker returns its record and weights
   (`train_record`) and the parent stores them with the run store's atomic writes and lock
   (`store_result`). A worker that dies half-way therefore leaves nothing, its retry cannot write twice,
   and the results folder need not be reachable from the workers.
4. A run whose worker dies is retried, at most `WORKER_RETRIES` times; a run that raises (bad input, a
   bug) is not, and its error is reported once the other runs are stored (`raise_failures`).

Runs are resolved once, by the parent (`benchmark.training.runner.resolve_runs`); a worker gets the run's plan,
device settings included, reloads its data by name and checks it is the data the plan was resolved with
(`planned_dataset`).

Workers report progress as (kind, key, payload) events on a queue the parent drains into `SweepDisplay`.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.live import Live
from rich.table import Table

from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.store.records import RunKey, RunRecord
from benchmark.store.runs import RunStore
from benchmark.training.runner import ResolvedRun, RunPlan, planned_dataset, record_run
from benchmark.training.teachers import obtain_teacher

WORKER_RETRIES = 3  # attempts after a worker process dies (a node lost, the OOM killer, a kill -9)


def split_stored(
    runs: Sequence[ResolvedRun], home: Home, *, force: bool = False
) -> tuple[dict[RunKey, RunRecord], list[ResolvedRun]]:
    """(the stored records a sweep reuses, the runs it must train), in the order of `runs`."""
    stored = {}
    if not force:
        store = RunStore(home)
        stored = {run.plan.key: r for run in runs if (r := store.reusable(run.plan))}
    return stored, [run for run in runs if run.plan.key not in stored]


@dataclass(frozen=True)
class PendingRun:
    plan: RunPlan

    @property
    def teacher(self) -> str | None:
        """Its teacher's cache identity, resolved in its plan; None: it asks for no teacher."""
        return None if self.plan.teacher is None else self.plan.teacher.digest

    @property
    def key(self) -> RunKey:
        return self.plan.key

    @property
    def threads(self) -> int:
        """The torch threads it trains with: the CPUs a worker needs."""
        return self.plan.train.threads


def pending_runs(pending: Sequence[ResolvedRun]) -> list[PendingRun]:
    """Each pending run, its plan's teacher identity the key that groups runs sharing a teacher."""
    return [PendingRun(run.plan) for run in pending]


def train_teacher_of(plan: RunPlan, home_root: str, events) -> None:
    """Train (or find in the cache) the teacher `plan` asks for; the runs sharing it wait on this."""
    home = Home(Path(home_root))
    events.put(("teacher", plan.key, None))
    dataset = planned_dataset(plan, home)
    obtain_teacher(plan.teacher, dataset, home, execution=plan.execution)


def train_record(plan: RunPlan, home_root: str, events) -> tuple[dict, dict[str, torch.Tensor]]:
    """Train one run on a worker: its record (as JSON) and weights, for the parent to store."""
    home = Home(Path(home_root))
    events.put(("running", plan.key, None))

    def on_epoch(epoch: int, total: int, loss: float, validation_f1: float) -> None:
        events.put(("epoch", plan.key, (epoch, total, loss, validation_f1)))

    run = ResolvedRun(plan, planned_dataset(plan, home))
    record, weights = record_run(run, home, on_epoch)
    return record.to_json(), weights


def store_result(
    store: RunStore, plan: RunPlan, raw: dict, weights: dict[str, torch.Tensor], *, force: bool = False
) -> RunRecord:
    """A worker's record and weights stored, unless (`force` off) another process stored a reusable
    record of the run since the sweep found none: then that one is kept and returned."""
    record, _ = store.reused_or_saved(plan, lambda: (RunRecord.from_json(raw), weights), force)
    return record


def raise_failures(failures: Sequence[str], total: int) -> None:
    if failures:
        raise BenchmarkError(
            f"{len(failures)} of {total} runs failed (the others are stored; rerun to retry): {failures[0]}"
        )


def label(key: RunKey) -> str:
    return f"{key.variant} on {key.dataset} seed {key.seed}"


class SweepDisplay:
    """One row per run with its state, live on a terminal; one line per finished, failed or restarted
    run otherwise (a log file gets a line as each run ends, not everything at the end)."""

    def __init__(self, keys: list[RunKey], title: str) -> None:
        self.console = Console(stderr=True)
        self.title = title
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
                    self._log(f"restarted {label(key)} after its worker died (attempt {self.starts[key]})")
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
        self._log(f"{label(key)}: {self.states[key]}")
        self._refresh()

    def failed(self, key: RunKey, message: str) -> None:
        self.states[key] = f"failed: {message}"
        self._log(f"{label(key)}: {self.states[key]}")
        self._refresh()

    def _log(self, line: str) -> None:
        if self._live is None:
            self.console.print(line, highlight=False, soft_wrap=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _table(self) -> Table:
        done = sum(state.startswith("done") for state in self.states.values())
        table = Table(title=f"{self.title}: {done}/{len(self.states)} runs done", title_justify="left")
        table.add_column("run", no_wrap=True)
        table.add_column("state")
        for key, state in self.states.items():
            table.add_row(label(key), state)
        return table
