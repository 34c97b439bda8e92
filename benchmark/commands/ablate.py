"""`python -m benchmark ablate --drop X [--drop Y ...]`: full SUMMER vs SUMMER without X (and without Y,
...) on the same seeds."""

from __future__ import annotations

import argparse
import dataclasses

from benchmark.commands._options import add_setting_options, add_training_options, check_placement
from benchmark.commands.housekeeping import open_home
from benchmark.executors import run_sweep


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--drop",
        action="append",
        required=True,
        help="the component to drop (repeatable: each is trained and compared with the full model); "
        "the paper's rows: standard-moe, self-attention, ikd, label-smoothing; the suite's: sdmoe, "
        "hcmf, ikd, latent (= logit-only distillation); `list` shows them all",
    )
    add_setting_options(parser, tuned=False)
    add_training_options(parser)


def check_options(args: argparse.Namespace) -> None:
    from benchmark.experiment.catalog import ABLATIONS

    for name in args.drop:
        ABLATIONS.get(name)  # a typo is a did-you-mean error
    check_placement(args)


def main(args: argparse.Namespace) -> int:
    from rich.table import Table

    from benchmark.console import make_console
    from benchmark.experiment.catalog import ABLATIONS
    from benchmark.store.records import FULL_MODEL
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs

    ablations = [ABLATIONS.get(name) for name in args.drop]
    models = list(dict.fromkeys(ablation.model for ablation in ablations))
    datasets = args.dataset or DEFAULT_DATASETS
    variants = [FULL_MODEL, *(ablation.name for ablation in ablations)]
    keys = plan(models, datasets, args.profile, args.seeds, variants, args.set)
    placement = args.placement  # resolved once by check_options, before any data loads
    home = open_home(args.home)
    runs = resolve_runs(keys, home, placement.execution)
    records = {r.key: r for r in run_sweep(runs, home, placement, force=args.force)}
    console = make_console()
    for ablation in ablations:
        for dataset in datasets:
            table = Table(
                title=f"{ablation.model} vs {ablation.label} on {dataset} ({args.profile}): test weighted-F1 (%)"
            )
            for column in ("seed", "full", ablation.label, "full − ablation (points)"):
                table.add_column(column, justify="right")
            differences = []
            full_scores, ablated_scores = [], []
            for key in keys:
                if key.dataset != dataset or key.ablation != FULL_MODEL or key.model != ablation.model:
                    continue
                full = 100 * records[key].test.weighted_f1
                ablated = 100 * records[dataclasses.replace(key, ablation=ablation.name)].test.weighted_f1
                full_scores.append(full)
                ablated_scores.append(ablated)
                differences.append(full - ablated)
                table.add_row(str(key.seed), f"{full:.2f}", f"{ablated:.2f}", f"{full - ablated:+.2f}")
            table.add_row("mean ± std", *(_mean_std(v) for v in (full_scores, ablated_scores, differences)))
            console.print(table)
        console.print(f"dropped: {ablation.description}")
    return 0


def _mean_std(values: list[float]) -> str:
    from benchmark.report.tables import mean_std

    return f"{mean_std(values)} (n={len(values)})"
