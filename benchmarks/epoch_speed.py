"""Seconds per training epoch and peak memory of SUMMER at the `paper` profile's width.

Targets on the 2-core CI-class machine: under 20 s per IEMOCAP epoch, peak RSS under 4 GB on MELD.
Each dataset runs in its own process so its peak RSS is its own. An epoch here is what the trainer
does per epoch: one pass over train, then evaluation of validation and test. The teacher is attached
untrained (its forward costs the same), so the figure includes distillation.

    python benchmarks/epoch_speed.py [--epochs 2] [--dataset synthetic-iemocap --dataset synthetic-meld]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import resource
import tempfile
from pathlib import Path


def measure(dataset_name: str, epochs: int, home_root: str) -> dict:
    from benchmark import data
    from benchmark.catalog import DATASETS, MODELS
    from benchmark.config import PROFILES
    from benchmark.home import Home
    from benchmark.modeling import count_parameters
    from benchmark.seeding import seed_everything
    from benchmark.training import train_model

    profile = PROFILES.get("paper")
    dataset = data.load(dataset_name, Home(Path(home_root)))
    train = dataclasses.replace(profile.train_config(DATASETS.get(dataset_name).family, 0), epochs=epochs)
    seed_everything(train.seed, train.threads)
    model = MODELS.get("summer").build(dataset.meta, profile.dims, {})
    model.attach_teacher(MODELS.get("text-teacher").build(dataset.meta, profile.dims, {}))
    result = train_model(model, dataset, train)
    return {
        "dataset": dataset_name,
        "parameters": count_parameters(model),
        "batch_size": train.batch_size,
        "threads": train.threads,
        "seconds_per_epoch": [round(e.seconds, 2) for e in result.curves],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dataset", action="append")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as home, context.Pool(1, maxtasksperchild=1) as pool:
        for name in args.dataset or ["synthetic-iemocap", "synthetic-meld"]:
            figures = pool.apply(measure, (name, args.epochs, home))
            print(
                f"{figures['dataset']}: SUMMER paper width, {figures['parameters']:,} parameters, batch "
                f"{figures['batch_size']}, {figures['threads']} threads: seconds per epoch "
                f"{figures['seconds_per_epoch']}, peak RSS {figures['peak_rss_gb']:.2f} GB"
            )


if __name__ == "__main__":
    main()
