"""Seconds per training epoch of each model kind on this device, per dataset family and profile, written
into the cost table `run` estimates a plan from (`benchmark/training/costs.json`, package data; entries of other
devices are kept, this device's are replaced).

An epoch is the training pass plus the evaluation of validation and test that the trainer runs after
it. Rather than a whole epoch, a few batches are timed (one warm-up batch first, on a seeded random
sample of dialogues) and scaled to the split's batch count: at the paper width a SUMMER epoch on two CPU
cores lasts minutes, a few of its steps do not. Each measurement runs in its own process. Beside the
wall clock each entry keeps the CPU seconds of the process's threads: on a shared machine the wall clock
grows with the load, the CPU seconds much less.

An entry holds for a dataset family. `--home HOME --dataset iemocap` times the real import of that home
instead of the synthetic stand-in (whose split sizes are the real ones, its feature dims SDT's), e.g.
to check that a release's feature dims change little.

    python scripts/run_cost.py [--profile fast --profile paper] [--steps 3] [--device cpu|cuda] [--threads N]
        [--dataset synthetic-iemocap --dataset synthetic-meld] [--model summer ...] [--output PATH]
        [--home HOME]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import multiprocessing
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

from epoch_speed import prepare


def default_variants() -> list[str]:
    """Every registered model's full variant and every ablation's: each ablation removes a different
    part, and costing it as its full model (the estimate's fallback) put the fast sweep on two cores at
    up to 42 minutes against 38 with each ablation costed."""
    from benchmark.experiment.catalog import ABLATIONS, MODELS
    from benchmark.variants import STUDY_PREFIX, variant_name

    ablations = [
        variant_name(a.model, name) for name, a in ABLATIONS.items() if not name.startswith(STUDY_PREFIX)
    ]
    return MODELS.names() + ablations


def model_and_overrides(variant: str) -> tuple[str, dict]:
    from benchmark.experiment.catalog import ABLATIONS

    model, _, ablation = variant.partition("-no-")
    return model, (dict(ABLATIONS.get(ablation).overrides) if ablation else {})


def epoch_cost(
    variant: str,
    dataset_name: str,
    profile: str,
    steps: int,
    home_root: str,
    device: str,
    threads: int | None,
) -> dict:
    import torch

    from benchmark.experiment.catalog import DATASETS
    from benchmark.training.costs import device_kind
    from benchmark.training.loop import evaluate, make_optimizer, train_epoch

    model_name, overrides = model_and_overrides(variant)
    model, dataset, splits, train, execution, order = prepare(
        model_name, dataset_name, profile, home_root, device, "fp32", overrides, threads
    )
    optimizer = make_optimizer(model, train)
    size = train.batch_size
    sample = torch.Generator().manual_seed(0)

    def batches(split: str) -> int:
        return math.ceil(len(splits[split]) / size)

    def seconds(work) -> tuple[float, float]:
        """(wall-clock, CPU) seconds of `work`; the CPU time of all this process's threads shows how much
        of the wall clock other jobs on a shared machine took."""
        if execution.is_cuda:
            torch.cuda.synchronize()
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        if execution.is_cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - started, time.process_time() - started_cpu

    shuffled = [splits["train"][i] for i in torch.randperm(len(splits["train"]), generator=sample)]
    timed = min(steps, batches("train") - 1) if batches("train") > 1 else 1
    train_epoch(model, shuffled[:size], optimizer, train, order, execution)  # warm-up
    timed_dialogues = shuffled[size : size * (timed + 1)] or shuffled[:size]  # a one-batch split: it again
    training = seconds(lambda: train_epoch(model, timed_dialogues, optimizer, train, order, execution))
    evaluation_batches = min(steps, batches("validation"))
    evaluation = seconds(
        lambda: evaluate(
            model, splits["validation"][: size * evaluation_batches], size, dataset.meta.classes, execution
        )
    )
    evaluated = batches("validation") + batches("test")
    per_epoch, cpu_per_epoch = (
        trained / timed * batches("train") + evaluated_in / evaluation_batches * evaluated
        for trained, evaluated_in in zip(training, evaluation, strict=True)
    )
    return {
        "device": device_kind(execution, train.threads),
        "variant": variant,
        "dataset": DATASETS.get(dataset_name).family,
        "profile": profile,
        "seconds_per_epoch": round(per_epoch, 3),
        "cpu_seconds_per_epoch": round(cpu_per_epoch, 3),
        "batches_timed": timed,
        "batches_per_epoch": batches("train"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", action="append", help="default: fast and paper")
    parser.add_argument("--dataset", action="append", help="default: both synthetic ones")
    parser.add_argument(
        "--model", action="append", help="variants; default: every model's and every ablation's"
    )
    parser.add_argument("--steps", type=int, default=3, help="batches timed per split (default 3)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads per run instead of the profile's (entries for `run --threads N`, e.g. 1 for --jobs 2)",
    )
    parser.add_argument("--output", type=Path, help="default: the package's benchmark/training/costs.json")
    parser.add_argument(
        "--home", type=Path, help="the home whose imports to time (default: a temporary one, synthetic data)"
    )
    parser.add_argument(
        "--machine",
        default=f"{platform.machine()}, {os.cpu_count()} CPU cores",
        help="what the entries say it ran on (default: the CPU's architecture and cores)",
    )
    args = parser.parse_args()
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads {args.threads}: give 1 or more threads")
    from benchmark.training.costs import COSTS_PATH

    output = args.output or COSTS_PATH
    command = "python scripts/run_cost.py " + shlex.join(sys.argv[1:])
    context = multiprocessing.get_context("spawn")
    homes = contextlib.nullcontext(str(args.home)) if args.home else tempfile.TemporaryDirectory()
    with homes as home, context.Pool(1, maxtasksperchild=1) as pool:
        for profile in args.profile or ["fast", "paper"]:
            for dataset in args.dataset or ["synthetic-iemocap", "synthetic-meld"]:
                for variant in args.model or default_variants():
                    entry = pool.apply(
                        epoch_cost, (variant, dataset, profile, args.steps, home, args.device, args.threads)
                    )
                    entry |= {
                        "date": datetime.date.today().isoformat(),
                        "machine": args.machine,
                        "command": command,
                    }
                    store(entry, output)  # as each is measured: a stopped run keeps what it measured
                    print(
                        f"{entry['device']} {profile} {entry['dataset']} {variant}: "
                        f"{entry['seconds_per_epoch']:.2f} s/epoch, {entry['cpu_seconds_per_epoch']:.2f} CPU "
                        f"s/epoch ({entry['batches_timed']} of "
                        f"{entry['batches_per_epoch']} training batches timed)",
                        flush=True,
                    )
    print(f"wrote {output}")


def store(entry: dict, output: Path) -> None:
    """Add `entry` to the table at `output`, replacing the entry of the same device, variant, dataset
    and profile."""
    from benchmark.files import atomic_write_json
    from benchmark.training.costs import CostEntry, CostTable, read_costs

    measured = CostEntry(**entry)
    entries = [e for e in read_costs(output) if e.identity != measured.identity] + [measured]
    entries.sort(key=lambda e: e.identity)
    atomic_write_json(output, CostTable(entries).to_json())


if __name__ == "__main__":
    main()
