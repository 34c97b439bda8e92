"""Train one reference and our rival on one dataset over seeds, each scored by our scorer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark import data
from benchmark.data import cache
from benchmark.data.class_weighting import INVERSE_FREQUENCY, UNWEIGHTED
from benchmark.data.schema import MercDataset
from benchmark.experiment.catalog import MODELS
from benchmark.experiment.profiles import PROFILES, TrainConfig
from benchmark.home import Home, resolve_home
from benchmark.models.contract import ModelDims, count_parameters
from benchmark.seeding import seed_everything
from benchmark.store.records import SplitMetrics
from benchmark.training.device_settings import Execution
from benchmark.training.loop import train_model
from scripts.crosscheck.reference import Reference, Settings, select_on_validation
from scripts.crosscheck.registry import REFERENCES


@dataclass(frozen=True)
class Side:
    """One side (the reference or our rival) of one (reference, dataset, seed)."""

    reference: str
    dataset: str
    synthetic: bool
    side: str  # "reference" or "ours"
    model: str  # "SDT@60af921" or "sdt"
    seed: int
    parameters: int
    untrained_parameters: int  # trainable ones whose values training never changed (built, never used)
    best_epoch: int
    test: SplitMetrics
    seconds_per_epoch: float
    settings: Settings


def default_datasets(home: Home) -> list[str]:
    """Both synthetic datasets, and each real dataset that has been imported into `home`."""
    return ["synthetic-iemocap", "synthetic-meld"] + [
        name for name in ("iemocap", "meld") if cache.current_import(home, name) is not None
    ]


def load_datasets(names: Sequence[str], home: Home) -> list[MercDataset]:
    return [data.load(name, home) for name in names]


def check_pair(
    name: str,
    clone: Path,
    dataset_name: str,
    home: str | None,
    seeds: list[int],
    width: str,
    device: str,
    threads: int,
    epochs: int | None,
    work: Path,
) -> list[Side]:
    """Both sides of reference `name` on one dataset over the seeds, from names and paths only: what a
    worker process of `--jobs` receives."""
    [dataset] = load_datasets([dataset_name], resolve_home(home))
    if width == "smoke":
        dataset = data.subsample(dataset, PROFILES.get("smoke").max_dialogues)
    return compare_reference(REFERENCES[name], clone, dataset, seeds, width, device, threads, epochs, work)


def compare_reference(
    reference: Reference,
    clone: Path,
    dataset: MercDataset,
    seeds: Sequence[int],
    width: str,
    device: str,
    threads: int,
    epochs: int | None,
    work: Path,
) -> list[Side]:
    """Both sides of `reference` on `dataset`, seed by seed; `epochs` replaces the width's epochs."""
    folder = work / f"{reference.name}-{dataset.meta.name}"
    folder.mkdir(parents=True)
    reference.write_inputs(dataset, folder)
    sides = []
    with reference.imported(clone) as modules:
        for seed in seeds:
            settings = reference.settings(dataset, width, seed, device, threads)
            if epochs is not None:
                settings = dataclasses.replace(settings, epochs=epochs)
            print(f"{reference.name} on {dataset.meta.name}, seed {seed}: {settings}")
            sides.append(_reference_side(reference, modules, dataset, folder, settings))
            sides.append(_our_side(reference, dataset, settings))
            for side in sides[-2:]:
                print(
                    f"  {side.model}: {side.parameters:,} parameters, test weighted-F1 "
                    f"{100 * side.test.weighted_f1:.2f} (epoch {side.best_epoch}), "
                    f"{side.seconds_per_epoch:.2f} s/epoch"
                )
    return sides


def _reference_side(reference, modules, dataset: MercDataset, folder: Path, settings: Settings) -> Side:
    seed_everything(settings.seed, settings.threads, deterministic=settings.device == "cpu")
    model = reference.build(modules, dataset, settings)
    initial = _trainable_values(model)
    selected = select_on_validation(dataset, reference.train(modules, model, dataset, folder, settings))
    return Side(
        reference.name,
        dataset.meta.name,
        dataset.meta.synthetic,
        "reference",
        f"{reference.repository.split('/')[1]}@{reference.commit[:7]}",
        settings.seed,
        count_parameters(model),
        _untrained(model, initial),
        selected.best_epoch,
        selected.test,
        selected.seconds_per_epoch,
        settings,
    )


def _our_side(reference: Reference, dataset: MercDataset, settings: Settings) -> Side:
    execution = Execution(settings.device, deterministic=False).resolved()
    dims = ModelDims(width=settings.width, heads=settings.heads, layers=1, dropout=settings.dropout)
    seed_everything(settings.seed, settings.threads, execution.deterministic)
    model = MODELS.get(reference.rival).build(
        dataset.meta, dims, reference.rival_overrides(dataset, settings)
    )
    train = TrainConfig(
        lr=settings.lr,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        patience=0,
        optimizer="adam",
        weight_decay=reference.rival_weight_decay(dataset, settings),
        grad_clip=settings.grad_clip,
        class_weighting=INVERSE_FREQUENCY if settings.class_weights else UNWEIGHTED,
        class_weights=settings.class_weights,
        seed=settings.seed,
        threads=settings.threads,
    )
    initial = _trainable_values(model)
    result = train_model(model, dataset, train, execution=execution)
    return Side(
        reference.name,
        dataset.meta.name,
        dataset.meta.synthetic,
        "ours",
        reference.rival,
        settings.seed,
        count_parameters(model),
        _untrained(model, initial),
        result.best_epoch,
        result.test,
        result.seconds_per_epoch,
        dataclasses.replace(settings),
    )


def _trainable_values(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}


def _untrained(model: torch.nn.Module, initial: dict[str, torch.Tensor]) -> int:
    """How many trainable parameters still hold their initial values: the optimizers skip a parameter
    that never had a gradient, so these are the ones the model builds and never uses."""
    return sum(
        p.numel()
        for n, p in model.named_parameters()
        if n in initial and torch.equal(p.detach().cpu(), initial[n])
    )
