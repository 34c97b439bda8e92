"""`python -m benchmark run`: train and store runs, then write the reports."""

from __future__ import annotations

import argparse

from benchmark.commands._options import (
    add_setting_options,
    add_training_options,
    check_models_and_ablations,
    check_placement,
)
from benchmark.commands.housekeeping import open_home
from benchmark.errors import BenchmarkError
from benchmark.executors import run_sweep
from benchmark.executors.sweep import threads_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="every registered model, with SUMMER's ablations")
    parser.add_argument(
        "--model",
        action="append",
        help="model name (repeatable); `--model summer` also trains each of SUMMER's registered ablations "
        "(the paper's rows and the suite's, one more run each per dataset and seed; `list` names them) "
        "unless --ablation narrows it",
    )
    parser.add_argument(
        "--ablation", action="append", help="for SUMMER: 'none' (full) or a component to drop (repeatable)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and its estimated training time, then stop: nothing trains, no run or report is written",
    )
    add_setting_options(parser)
    add_training_options(parser)


def check_options(args: argparse.Namespace) -> None:
    """What the options say together, before the home is opened or any data read."""
    from benchmark.experiment.catalog import MODELS

    if args.all == bool(args.model):
        raise BenchmarkError(
            "--all trains every model: drop --model, or drop --all"
            if args.all
            else "name the models with --model NAME (repeatable) or train everything with --all"
        )
    if args.tuned and args.set:
        raise BenchmarkError("--tuned takes the settings `tune` chose: drop --set, or drop --tuned")
    check_models_and_ablations(MODELS.names() if args.all else args.model, args.ablation)
    check_placement(args)


def main(args: argparse.Namespace) -> int:
    from benchmark.console import make_console
    from benchmark.executors.workers import split_stored
    from benchmark.experiment.catalog import MODELS
    from benchmark.report import write_reports
    from benchmark.training.costs import plan_cost
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs

    models = MODELS.names() if args.all else args.model
    keys = plan(models, args.dataset or DEFAULT_DATASETS, args.profile, args.seeds, args.ablation, args.set)
    placement = args.placement  # resolved once by check_options, before any data loads
    home = open_home(args.home)
    if args.tuned:
        from benchmark.executors.tuning import tuned_keys

        keys = tuned_keys(keys, home)
    console = make_console()
    runs = resolve_runs(keys, home, placement.execution)
    _, to_train = split_stored(runs, home, force=args.force)
    threads = threads_of(runs)
    console.print(
        f"{plan_summary(keys)} ({len(keys) - len(to_train)} stored, {len(to_train)} to train); "
        f"{placement.describe_jobs(threads, len(runs))}",
        highlight=False,
    )
    jobs = 1 if placement.executor == "ray" else placement.local_jobs(threads, len(runs))
    console.print(plan_cost([run.plan for run in to_train], jobs), highlight=False)
    if args.dry_run:
        return 0
    records = run_sweep(runs, home, placement, force=args.force)
    for record in records:
        console.print(
            f"{record.key.variant:>22} {record.key.dataset:>18} seed {record.key.seed}: "
            f"test weighted-F1 {100 * record.test.weighted_f1:.2f}% (epoch {record.best_epoch} by validation; "
            f"test oracle {100 * record.test_oracle_weighted_f1:.2f}%)",
            highlight=False,
        )
    console.print(f"{len(records)} run records under {home.runs}")
    # the reports of what this command ran, not every report in the home
    datasets = sorted({key.dataset for key in keys})
    for path in write_reports(home, datasets=datasets, profiles=[args.profile]):
        console.print(f"wrote {path}")
    return 0


def plan_summary(keys) -> str:
    """What will train, per model: `summer` names the ablations it brings along."""
    variants: dict[str, list[str]] = {}
    for key in keys:
        names = variants.setdefault(key.model, [])
        if key.variant not in names:
            names.append(key.variant)
    parts = []
    for model, names in variants.items():
        ablated = [n.removeprefix(f"{model}-no-") for n in names if n != model]
        full = "full" if model in names else ""
        parts.append(
            f"{model} ({', '.join(filter(None, [full, *(f'without {a}' for a in ablated)]))})"
            if ablated
            else model
        )
    runs = len(keys)
    return f"plan: {runs} run{'s' if runs != 1 else ''}: " + "; ".join(parts)
