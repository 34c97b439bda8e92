"""The local executor: a sweep's runs trained (or reused) one after another in this process, with a live
display: run k of N, epoch, loss, validation F1, time left."""

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
from benchmark.store.records import RunRecord
from benchmark.training.runner import ResolvedRun, stored_or_trained


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
