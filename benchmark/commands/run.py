"""`python -m benchmark run`: train and store runs, then write the reports."""

from __future__ import annotations

import argparse

from rich.console import Console

from benchmark.catalog import MODELS
from benchmark.commands._options import add_training_options
from benchmark.errors import BenchmarkError
from benchmark.executors import Placement, run_sweep
from benchmark.home import resolve_home
from benchmark.report import write_reports
from benchmark.runner import DEFAULT_DATASETS, plan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="every registered model, with SUMMER's ablations")
    parser.add_argument("--model", action="append", help="model name (repeatable)")
    parser.add_argument(
        "--ablation", action="append", help="for SUMMER: 'none' (full) or a component to drop (repeatable)"
    )
    add_training_options(parser)


def main(args: argparse.Namespace) -> int:
    if not args.all and not args.model:
        raise BenchmarkError("name the models with --model NAME (repeatable) or train everything with --all")
    models = MODELS.names() if args.all else args.model
    keys = plan(models, args.dataset or DEFAULT_DATASETS, args.profile, args.seeds, args.ablation)
    home = resolve_home(args.home)
    console = Console()
    records = run_sweep(keys, home, Placement.from_args(args), force=args.force)
    for record in records:
        console.print(
            f"{record.key.variant:>22} {record.key.dataset:>18} seed {record.key.seed}: "
            f"test weighted-F1 {record.test.weighted_f1:.4f} (epoch {record.best_epoch} by validation; "
            f"test oracle {record.test_oracle_weighted_f1:.4f})"
        )
    console.print(f"{len(records)} run records under {home.runs}")
    for path in write_reports(home):
        console.print(f"wrote {path}")
    return 0
