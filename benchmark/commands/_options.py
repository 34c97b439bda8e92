"""Options shared by the commands that train."""

from __future__ import annotations

import argparse


def add_training_options(parser: argparse.ArgumentParser, default_profile: str = "fast") -> None:
    parser.add_argument(
        "--dataset", action="append", help="dataset name (repeatable); default: both synthetic ones"
    )
    parser.add_argument(
        "--profile", default=default_profile, help=f"smoke, fast or paper (default {default_profile})"
    )
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds to run (default: the profile's)")
    parser.add_argument(
        "--force", action="store_true", help="retrain runs whose record exists (replaced atomically)"
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )
