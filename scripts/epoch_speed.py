"""Seconds per training epoch and peak memory of SUMMER and of the SDT-style baseline at the `paper`
profile's width, measured in the same run so that the two figures share the machine's load.

Targets on the 2-core CI-class machine: a SUMMER IEMOCAP training epoch at most 1.5x SDT's, peak RSS
under 4 GB on MELD. Each (model, dataset) runs in its own process so its peak RSS is its own. The
training pass and the evaluation of validation and test (which the trainer runs after every epoch) are
timed apart, with the trainer's own functions; the training pass's CPU time (all its threads) is printed
beside its wall clock, the steadier figure when other jobs load the machine. SUMMER's teacher is attached untrained (its forward costs
the same), so the figure includes distillation and the teacher-guided attention.

On a GPU (`--device cuda`, optionally `--precision bf16`) the same epochs run there and the peak GPU
memory is printed beside the process's RSS. `--set KEY=VALUE` changes one option of SUMMER's config
(e.g. `--set experts=2`) to time another reading beside the default.

    python scripts/epoch_speed.py [--epochs 3] [--dataset synthetic-iemocap --dataset synthetic-meld]
        [--model summer --model sdt] [--device cpu|cuda] [--precision fp32|bf16] [--set KEY=VALUE]
        [--profile paper]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path


def prepare(
    model_name: str,
    dataset_name: str,
    profile_name: str,
    home_root: str,
    device: str,
    precision: str,
    overrides: dict,
    threads: int | None = None,
):
    """What timing a model's epochs needs: (model on the device, with its teacher attached untrained, whose
    forward costs the same; its splits; train config; execution; the seeded order generator). `threads`:
    torch threads instead of the profile's, as `run --threads` gives them."""
    from benchmark import data
    from benchmark.data.collate import dialogues_from_split
    from benchmark.experiment.catalog import DATASETS, MODELS
    from benchmark.experiment.profiles import PROFILES
    from benchmark.home import Home
    from benchmark.seeding import seed_everything
    from benchmark.training.device_settings import Execution

    profile = PROFILES.get(profile_name)
    dataset = data.subsample(data.load(dataset_name, Home(Path(home_root))), profile.max_dialogues)
    train = profile.train_config(DATASETS.get(dataset_name).family, 0)
    if threads is not None:
        train = dataclasses.replace(train, threads=threads)
    execution = Execution(device, precision, deterministic=False).resolved()
    order = seed_everything(train.seed, train.threads, execution.deterministic)
    model = MODELS.get(model_name).build(dataset.meta, profile.dims, overrides).to(execution.torch_device)
    request = model.teacher_request()
    if request is not None:
        teacher = MODELS.get(request.model).build(dataset.meta, profile.dims, request.overrides)
        model.attach_teacher(teacher.to(execution.torch_device))
    splits = {s: dialogues_from_split(dataset.splits[s], dataset.meta.modalities) for s in dataset.splits}
    return model, dataset, splits, train, execution, order


def measure(
    model_name: str,
    dataset_name: str,
    epochs: int,
    home_root: str,
    device: str,
    precision: str,
    overrides: dict,
    profile: str = "paper",
) -> dict:
    import torch

    from benchmark.models.contract import count_parameters
    from benchmark.training.loop import evaluate, make_optimizer, train_epoch

    model, dataset, splits, train, execution, order = prepare(
        model_name, dataset_name, profile, home_root, device, precision, overrides
    )
    optimizer = make_optimizer(model, train)
    training, training_cpu, evaluation = [], [], []
    for _ in range(epochs):
        started, started_cpu = time.perf_counter(), time.process_time()
        train_epoch(model, splits["train"], optimizer, train, order, execution)
        if execution.is_cuda:
            torch.cuda.synchronize()
        training.append(time.perf_counter() - started)
        training_cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        for split in ("validation", "test"):
            evaluate(model, splits[split], train.batch_size, dataset.meta.classes, execution)
        evaluation.append(time.perf_counter() - started)
    return {
        "model": model_name + "".join(f" [{k}={v}]" for k, v in overrides.items()),
        "dataset": dataset_name,
        "profile": profile,
        "parameters": count_parameters(model),
        "batch_size": train.batch_size,
        "threads": train.threads,
        "device": execution.describe()["device_name"],
        "precision": execution.precision,
        "peak_gpu_gb": torch.cuda.max_memory_allocated() / 1024**3 if execution.is_cuda else None,
        "utterances": sum(len(d.labels) for d in splits["train"]),
        "training": training,
        "training_cpu": training_cpu,
        "evaluation": evaluation,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--profile", default="paper", help="whose width and batches (default paper)")
    parser.add_argument("--dataset", action="append")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--model", action="append", help="default: summer and sdt")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="an option of SUMMER's config"
    )
    args = parser.parse_args()
    summer_overrides = dict(parse_setting(setting) for setting in args.set)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as home, context.Pool(1, maxtasksperchild=1) as pool:
        for name in args.dataset or ["synthetic-iemocap", "synthetic-meld"]:
            training = {}
            for model in args.model or ["summer", "sdt"]:
                overrides = summer_overrides if model == "summer" else {}
                figures = pool.apply(
                    measure,
                    (model, name, args.epochs, home, args.device, args.precision, overrides, args.profile),
                )
                training[model] = min(figures["training"])
                report(figures)
            if {"summer", "sdt"} <= training.keys():
                print(
                    f"{name}: SUMMER / SDT fastest training epoch = {training['summer'] / training['sdt']:.2f}x"
                )


def parse_setting(setting: str) -> tuple[str, object]:
    from benchmark.errors import BenchmarkError, split_assignment

    try:
        key, value = split_assignment(setting, "--set", "KEY=VALUE, e.g. --set experts=2")
    except BenchmarkError as error:
        raise SystemExit(str(error)) from None
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def report(figures: dict) -> None:
    print(
        f"{figures['dataset']}: {figures['model']} {figures['profile']} profile, {figures['parameters']:,} parameters, "
        f"{figures['utterances']:,} training utterances, batch {figures['batch_size']}, "
        f"{figures['threads']} threads, {figures['device']}, {figures['precision']}\n"
        f"  training pass s/epoch: {', '.join(f'{s:.2f}' for s in figures['training'])}\n"
        f"  its CPU time, all threads, s/epoch: {', '.join(f'{s:.2f}' for s in figures['training_cpu'])}\n"
        f"  evaluation (validation + test) s/epoch: "
        f"{', '.join(f'{s:.2f}' for s in figures['evaluation'])}\n"
        f"  peak RSS {figures['peak_rss_gb']:.2f} GB"
        + (f", peak GPU memory {figures['peak_gpu_gb']:.2f} GB" if figures["peak_gpu_gb"] else "")
    )


if __name__ == "__main__":
    main()
