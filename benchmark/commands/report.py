"""`python -m benchmark report`: Markdown, CSV and PNG reports from stored run records."""

from __future__ import annotations

import argparse

from benchmark.commands._options import counted
from benchmark.commands.housekeeping import open_home

# [choice] The bootstrap draws every resample at once (resamples x dialogues integers, benchmark/report/
# stats.py): 1,000,000 resamples already took 1.5 GB; 100,000 (a tenth of that, 50 times the default).
MOST_RESAMPLES = 100_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", action="append", help="only these datasets (repeatable)")
    parser.add_argument("--profile", action="append", help="only these profiles (repeatable)")
    parser.add_argument(
        "--resamples",
        type=counted(1, MOST_RESAMPLES, what=": more would take gigabytes of memory"),
        help=f"bootstrap resamples, 1 to {MOST_RESAMPLES:,} (default 2000)",
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )


def main(args: argparse.Namespace) -> int:
    from benchmark.experiment.catalog import DATASETS
    from benchmark.experiment.profiles import PROFILES
    from benchmark.report import write_reports
    from benchmark.report.stats import DEFAULT_RESAMPLES

    for name in args.dataset or ():
        DATASETS.get(name)  # a typo is a did-you-mean error, before anything is rewritten
    for name in args.profile or ():
        PROFILES.get(name)
    home = open_home(args.home)
    written = write_reports(
        home, args.dataset, args.profile, DEFAULT_RESAMPLES if args.resamples is None else args.resamples
    )
    for path in written:
        print(f"wrote {path}")
    if not any(path.name == "report.md" for path in written):
        print(
            f"no run records for these datasets and profiles under {home.runs}: train some with `python -m benchmark run`"
        )
    return 0
