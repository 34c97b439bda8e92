"""`python -m benchmark report`: Markdown, CSV and PNG reports from stored run records."""

from __future__ import annotations

import argparse

from benchmark.home import resolve_home
from benchmark.report import write_reports
from benchmark.report.stats import DEFAULT_RESAMPLES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", action="append", help="only these datasets (repeatable)")
    parser.add_argument("--profile", action="append", help="only these profiles (repeatable)")
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples")
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )


def main(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    written = write_reports(home, args.dataset, args.profile, args.resamples)
    for path in written:
        print(f"wrote {path}")
    if len(written) == 1:
        print(f"no run records under {home.runs}: train some with `python -m benchmark run`")
    return 0
