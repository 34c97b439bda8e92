"""`python -m benchmark tune`: the same budget of validation-scored trials for every selected model, then
each model's best settings on the profile's seeds (benchmark/executors/tuning.py)."""

from __future__ import annotations

import argparse

from benchmark.commands._options import (
    add_training_options,
    check_models_and_ablations,
    check_placement,
    counted,
    seed,
)
from benchmark.commands.housekeeping import open_home
from benchmark.errors import BenchmarkError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="model name (repeatable); `--model summer` tunes each of its ablations too unless --ablation narrows it",
    )
    parser.add_argument(
        "--ablation", action="append", help="'none' (full) or an ablation to tune (repeatable)"
    )
    parser.add_argument(
        "--trials",
        type=counted(1),
        required=True,
        help="trials per model variant and dataset, the defaults (trial 0) included; a larger number extends a study",
    )
    parser.add_argument("--sampler-seed", type=seed, default=0, help="base seed of the proposals (default 0)")
    add_training_options(parser)


def check_options(args: argparse.Namespace) -> None:
    check_models_and_ablations(args.model, args.ablation)
    check_placement(args)


def main(args: argparse.Namespace) -> int:
    from benchmark.console import make_console
    from benchmark.executors.tuning import tune
    from benchmark.experiment.profiles import PROFILES
    from benchmark.models.search_space import settings_shown
    from benchmark.report import write_reports
    from benchmark.training.runner import DEFAULT_DATASETS, plan

    profile = PROFILES.get(args.profile)
    if args.seeds:
        raise BenchmarkError(
            f"tune trains every trial on {args.profile}'s first seed ({profile.seeds[0]}) and the chosen "
            "settings on all its seeds: drop --seeds"
        )
    trial_seed = profile.seeds[0]
    keys = plan(args.model, args.dataset or DEFAULT_DATASETS, args.profile, [trial_seed], args.ablation)
    placement = args.placement  # resolved once by check_options, before any data loads
    home = open_home(args.home)
    console = make_console()
    console.print(
        f"tune: {len(keys)} stud{'ies' if len(keys) != 1 else 'y'}, {args.trials} trials each on seed "
        f"{trial_seed} (validation weighted-F1), then the best on seeds "
        f"{', '.join(map(str, profile.seeds))}",
        highlight=False,
    )
    summaries = tune(keys, home, placement, args.trials, args.sampler_seed, profile.seeds)
    for summary in summaries:
        default = summary.default
        console.print(
            f"{summary.variant:>22} {summary.dataset:>18}: {len(summary.trials)} trials; validation wF1 "
            f"default {100 * default.validation_weighted_f1:.2f}%, tuned "
            f"{100 * summary.best.validation_weighted_f1:.2f}% ({settings_shown(summary.best.settings) or 'the defaults'})",
            highlight=False,
        )
    for path in write_reports(home):
        console.print(f"wrote {path}")
    return 0
