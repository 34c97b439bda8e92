"""Where the main job's time goes: trains the plan of `run --all` (or part of it) one run at a time through
the local executor (`run_key`, forced), and prints per model and dataset the seconds spent in each phase:

- start-up: resolving the run, building the model, writing its record (what is left of `run_key`);
- data: loading and subsampling the dataset (`profile_dataset`);
- teacher: training or loading the teacher (`obtain_teacher`, everything inside it);
- training: the training steps (`train_epoch`, collation excluded);
- validation / test: the evaluation after every epoch (`evaluate`, collation excluded);
- missing modalities: the passes after training (`evaluate_without_modalities`, collation excluded);
- collation: `collate_dialogues` in training and evaluation;
- bookkeeping: the rest of `train_model` (copying the selected weights, the class counts).

Each phase's time is its own: a phase's clock stops while a phase it calls runs. The phases are timed by
wrapping those functions where the runner and the loop look them up, nothing else is changed: same
configs, same records (under `--home`, which is the one written), same numbers.

    python -m scripts.profile_main_job --home H [--profile fast] [--seeds 0 ...] [--model NAME ...]
        [--dataset NAME ...] [--threads N]

The interpreter's own start (imports) is printed apart, once.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import time

STARTED = time.perf_counter()

PHASES = (
    "start-up",
    "data",
    "teacher",
    "training",
    "validation",
    "test",
    "missing modalities",
    "collation",
    "bookkeeping",
)


class Ledger:
    """Seconds per phase, each phase's own (exclusive of the phases it calls); inside the teacher every
    second is the teacher's, whatever it calls."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.stack: list[str] = []
        self.mark = 0.0
        self.evaluations_due: list[str] = []  # which split the loop's next evaluations are of

    @contextlib.contextmanager
    def phase(self, name: str):
        if "teacher" in self.stack:
            yield
            return
        self._switch()
        self.stack.append(name)
        try:
            yield
        finally:
            self._switch()
            self.stack.pop()

    def _switch(self) -> None:
        now = time.perf_counter()
        if self.stack:
            self.seconds[self.stack[-1]] += now - self.mark
        self.mark = now

    def timed(self, name: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.phase(name):
                return function(*args, **kwargs)

        return wrapper

    def timed_epoch(self, function):
        """The training pass; the loop then evaluates validation, then test (`train_model`'s order)."""

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.phase("training"):
                result = function(*args, **kwargs)
            self.evaluations_due = ["validation", "test"]
            return result

        return wrapper

    def timed_evaluation(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            name = self.evaluations_due.pop(0) if self.evaluations_due else "validation"
            with self.phase(name):
                return function(*args, **kwargs)

        return wrapper

    def take(self) -> dict[str, float]:
        taken, self.seconds = self.seconds, dict.fromkeys(PHASES, 0.0)
        return taken


def instrument(ledger: Ledger) -> None:
    """Wrap the phases where the runner, the loop and the missing-modality passes look them up."""
    from benchmark.training import loop, modality_removal, runner

    runner.profile_dataset = ledger.timed("data", runner.profile_dataset)
    runner.obtain_teacher = ledger.timed("teacher", runner.obtain_teacher)
    runner.train_model = ledger.timed("bookkeeping", runner.train_model)
    runner.evaluate_without_modalities = ledger.timed(
        "missing modalities", runner.evaluate_without_modalities
    )
    loop.train_epoch = ledger.timed_epoch(loop.train_epoch)
    loop.evaluate = ledger.timed_evaluation(loop.evaluate)
    loop.collate_dialogues = ledger.timed("collation", loop.collate_dialogues)
    modality_removal.evaluate = ledger.timed("missing modalities", modality_removal.evaluate)


def table(rows: list[tuple[str, str, int, int, dict[str, float]]]) -> str:
    header = ["model", "dataset", "runs", "epochs", *PHASES, "total"]
    lines = [header]
    totals = dict.fromkeys(PHASES, 0.0)
    for model, dataset, runs, epochs, seconds in rows:
        lines.append(
            [model, dataset, str(runs), str(epochs)]
            + [f"{seconds[p]:.1f}" for p in PHASES]
            + [f"{sum(seconds.values()):.1f}"]
        )
        for p in PHASES:
            totals[p] += seconds[p]
    grand = sum(totals.values())
    lines.append(
        ["all", "", str(sum(r[2] for r in rows)), str(sum(r[3] for r in rows))]
        + [f"{totals[p]:.1f}" for p in PHASES]
        + [f"{grand:.1f}"]
    )
    lines.append(
        ["share", "", "", ""] + [f"{totals[p] / grand:.0%}" if grand else "-" for p in PHASES] + [""]
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", required=True, help="the home the runs are trained (and stored) in")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--seeds", type=int, nargs="+", help="default: the profile's")
    parser.add_argument("--model", action="append", help="default: every registered model (run --all)")
    parser.add_argument("--dataset", action="append", help="default: both synthetic ones")
    parser.add_argument("--ablation", action="append", help="default: every variant, as run --all")
    parser.add_argument("--threads", type=int, help="default: the profile's")
    args = parser.parse_args()

    from pathlib import Path

    from benchmark.executors.local import run_key
    from benchmark.experiment.catalog import MODELS
    from benchmark.home import Home
    from benchmark.training.device_settings import Execution
    from benchmark.training.runner import DEFAULT_DATASETS, plan

    imports = time.perf_counter() - STARTED
    ledger = Ledger()
    instrument(ledger)
    home = Home(Path(args.home))
    execution = Execution(device="cpu", deterministic=True, threads=args.threads)
    keys = plan(
        args.model or MODELS.names(),
        args.dataset or DEFAULT_DATASETS,
        args.profile,
        args.seeds,
        args.ablation,
    )
    print(f"interpreter start and imports: {imports:.1f} s; {len(keys)} runs", flush=True)
    rows: dict[tuple[str, str], tuple[int, int, dict[str, float]]] = {}
    for key in keys:
        with ledger.phase("start-up"):
            record = run_key(key, home, force=True, execution=execution)
        seconds = ledger.take()
        print(
            f"{key.variant:>22} {key.dataset:>18} seed {key.seed}: {sum(seconds.values()):.1f} s "
            f"({len(record.curves)} epochs; training {seconds['training']:.1f} s, evaluation "
            f"{seconds['validation'] + seconds['test'] + seconds['missing modalities']:.1f} s)",
            flush=True,
        )
        runs, epochs, total = rows.get((key.model, key.dataset), (0, 0, dict.fromkeys(PHASES, 0.0)))
        rows[key.model, key.dataset] = (
            runs + 1,
            epochs + len(record.curves),
            {p: total[p] + seconds[p] for p in PHASES},
        )
    print(f"\nseconds per phase (each phase's own), {args.profile} profile:")
    print(table([(model, dataset, *row) for (model, dataset), row in rows.items()]))


if __name__ == "__main__":
    main()
