"""Options shared by the commands that train."""

from __future__ import annotations

import argparse


def counted(minimum: int):
    """An argparse type: an integer of at least `minimum`, else argparse's one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value

    return parse


def add_setting_options(parser: argparse.ArgumentParser, *, tuned: bool = True) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the model's search space, e.g. lr=0.001 (repeatable; `list` names them): "
        "part of the config hash, stored beside the default run",
    )
    if tuned:
        parser.add_argument(
            "--tuned", action="store_true", help="each variant with the settings `tune` chose for it"
        )


def add_training_options(parser: argparse.ArgumentParser, default_profile: str = "fast") -> None:
    parser.add_argument(
        "--dataset", action="append", help="dataset name (repeatable); default: both synthetic ones"
    )
    parser.add_argument(
        "--profile",
        default=default_profile,
        help="smoke, fast, converged (fast trained until validation stops improving) or paper "
        f"(default {default_profile})",
    )
    parser.add_argument("--seeds", type=counted(0), nargs="+", help="seeds to run (default: the profile's)")
    parser.add_argument(
        "--force", action="store_true", help="retrain runs whose record exists (replaced atomically)"
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )
    placement = parser.add_argument_group("where runs compute")
    placement.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA when torch sees a GPU), cpu, cuda or cuda:N (default auto)",
    )
    placement.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="bf16: autocast matrix products to bfloat16, CUDA only (default fp32)",
    )
    placement.add_argument(
        "--deterministic",
        action="store_true",
        help="on CUDA, deterministic kernels for bit-identical reruns (slower); the CPU always is",
    )
    placement.add_argument(
        "--threads",
        type=counted(1),
        help="torch threads per run instead of the profile's 2 (part of the config)",
    )
    placement.add_argument(
        "--executor",
        default="local",
        choices=("local", "ray"),
        help="local: runs on this machine (default); ray: runs as Ray tasks",
    )
    placement.add_argument(
        "--jobs",
        type=int,
        help="runs at once: local, in worker processes on the one device; ray, runs per GPU "
        "(default: 1 on the CPU, a few on a GPU; the plan line says how many)",
    )
    placement.add_argument(
        "--address",
        help="with --executor ray: the cluster to join (e.g. ray://head:10001); default: a local one",
    )
