"""The local executor: a sweep's runs trained (or reused) one after another in this process, with a live
display: run k of N, epoch, loss, validation F1, time left. The executors, not the runner, ask the store
whether a run is kept and store what the runner (`benchmark.training.runner`) trained."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from benchmark.console import make_console
from benchmark.home import Home
from benchmark.store.records import RunKey, RunRecord
from benchmark.store.runs import RunStore
from benchmark.training.device_settings import CPU, Execution
from benchmark.training.loop import EpochCallback
from benchmark.training.runner import ResolvedRun, record_run, resolve_run


def stored_or_trained(
    run: ResolvedRun, home: Home, *, force: bool = False, on_epoch: EpochCallback | None = None
) -> tuple[RunRecord, bool]:
    """(the run's record, whether the store kept it already): the stored record when one is reusable
    (`RunStore.reusable`) and `force` is off, else the run trained and its record stored. The check is
    made under the run's lock, so two processes never train the same run at once."""
    return RunStore(home).reused_or_saved(run.plan, lambda: record_run(run, home, on_epoch), force)


def run_key(
    key: RunKey,
    home: Home,
    *,
    force: bool = False,
    on_epoch: EpochCallback | None = None,
    execution: Execution = CPU,
) -> RunRecord:
    """The record of `key`'s one resolution on `execution` (resolved), trained and stored unless the
    store keeps it already (`stored_or_trained`): one run in one call, for scripts/profile_main_job.py
    and the tests, where no sweep shares data loads between runs."""
    record, _ = stored_or_trained(resolve_run(key, home, execution), home, force=force, on_epoch=on_epoch)
    return record


def run_keys(
    runs: Sequence[ResolvedRun],
    home: Home,
    *,
    force: bool = False,
    console: Console | None = None,
) -> list[RunRecord]:
    """Train (or reuse) each run, where its plan says, with a live display; away from a terminal, where a
    live display shows nothing until the end, one line per finished run instead."""
    console = console or make_console(stderr=True)
    records = []
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        counter = progress.add_task("runs", total=len(runs), status="")
        epochs = progress.add_task("epochs", total=None, status="")
        for index, run in enumerate(runs, 1):
            key = run.plan.key
            label = f"{key.variant} on {key.dataset} seed {key.seed}"
            progress.update(counter, description=f"run {index}/{len(runs)}", status=label)
            progress.reset(epochs, total=None, status="")

            def on_epoch(epoch: int, total: int, loss: float, validation_f1: float) -> None:
                progress.update(
                    epochs,
                    total=total,
                    completed=epoch,
                    status=f"loss {loss:.3f}  validation wF1 {validation_f1:.3f}",
                )

            record, stored = stored_or_trained(run, home, force=force, on_epoch=on_epoch)
            records.append(record)
            progress.advance(counter)
            if not console.is_terminal:
                console.print(
                    f"run {index}/{len(runs)} {'stored' if stored else 'done'}: {label}: "
                    f"test weighted-F1 {100 * record.test.weighted_f1:.2f}%",
                    highlight=False,
                )
    return records
