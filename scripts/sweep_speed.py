"""Wall time of one sweep with the local executor against the Ray executor on the same machine.

The sweep is by default the regression gate's: every model and ablation on both synthetic datasets at the
`smoke` profile, for the profile's seeds, each executor in a fresh home (nothing cached, teachers and data included). Local: one process,
one run after another, `--threads 2`. Ray: a local cluster of `--cpus` CPUs, one run per CPU at a time,
`--threads 1`. Printed per executor: wall time, runs per minute, and the time spent outside training per
run ((workers x wall - the runs' own training seconds) / runs: data, teachers, model builds, and for Ray
the worker start-up, task scheduling and record transfer). The difference between the two is what Ray
costs per task; the cluster's own start-up is timed apart.

    python scripts/sweep_speed.py [--cpus 2] [--profile smoke] [--model NAME ...] [--dataset NAME ...]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path


def timed_sweep(keys, home, placement) -> tuple[float, list]:
    from benchmark.executors import run_sweep
    from benchmark.training.runner import resolve_runs

    started = time.perf_counter()
    records = run_sweep(resolve_runs(keys, home, placement.execution), home, placement)
    return time.perf_counter() - started, records


def report(name: str, wall: float, records: list, workers: int) -> None:
    training = sum(r.train_seconds for r in records)
    outside = (workers * wall - training) / len(records)
    print(
        f"{name:<28} wall {wall:7.1f} s   {60 * len(records) / wall:5.1f} runs/min   "
        f"training {training:6.1f} s   outside training {outside:5.2f} s/run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--model", action="append", help="default: every model (with SUMMER's ablations)")
    parser.add_argument("--dataset", action="append", help="default: both synthetic datasets")
    args = parser.parse_args()

    import ray

    from benchmark.executors import Placement
    from benchmark.experiment.catalog import MODELS
    from benchmark.home import Home
    from benchmark.training.device_settings import Execution
    from benchmark.training.runner import DEFAULT_DATASETS, plan

    models, datasets = args.model or MODELS.names(), args.dataset or DEFAULT_DATASETS
    keys = plan(models, datasets, args.profile)
    print(f"{len(keys)} runs: {', '.join(models)} on {', '.join(datasets)}, profile {args.profile}")
    with tempfile.TemporaryDirectory() as local_home, tempfile.TemporaryDirectory() as ray_home:
        wall, records = timed_sweep(
            keys, Home(Path(local_home)), Placement(Execution("cpu", threads=args.cpus))
        )
        report(f"local, 1 process x {args.cpus} threads", wall, records, workers=1)

        started = time.perf_counter()
        ray.init(
            num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
        )
        print(f"{'Ray local cluster start':<28} {time.perf_counter() - started:7.1f} s")
        try:
            placement = Placement(Execution("cpu", threads=1), executor="ray")
            wall, records = timed_sweep(keys, Home(Path(ray_home)), placement)
            report(f"Ray, {args.cpus} workers x 1 thread", wall, records, workers=args.cpus)
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()
