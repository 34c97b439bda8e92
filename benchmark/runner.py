"""Which runs to make, and making one: load data, build the model, get its teacher, train, store."""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Iterable, Sequence

import torch

from benchmark import data
from benchmark.catalog import ABLATIONS, DATASETS, MODELS
from benchmark.config import PROFILES, Profile, TrainConfig, config_hash
from benchmark.data.schema import MercDataset
from benchmark.environment import environment
from benchmark.execution import CPU, Execution
from benchmark.home import Home
from benchmark.modality_removal import evaluate_without_modalities
from benchmark.modeling import MERCModel, TeacherRequest, ablations_of, count_parameters
from benchmark.records import FULL_MODEL, Environment, RunConfig, RunKey, RunRecord, TeacherSummary
from benchmark.seeding import seed_everything
from benchmark.store import RunStore
from benchmark.teachers import obtain_teacher
from benchmark.training import EpochCallback, TrainingResult, train_model, with_class_weights

DEFAULT_DATASETS = ("synthetic-iemocap", "synthetic-meld")


def plan(
    models: Sequence[str],
    datasets: Sequence[str],
    profile: str,
    seeds: Iterable[int] | None = None,
    ablations: Sequence[str] | None = None,
) -> list[RunKey]:
    """Every run key, names validated before anything trains. `ablations=None`: each model's full
    variant plus all its registered ablations; otherwise exactly those (FULL_MODEL = "none" included)."""
    chosen_profile = PROFILES.get(profile)
    for name in datasets:
        DATASETS.get(name)
    keys = []
    for model in models:
        MODELS.get(model)
        variants = [FULL_MODEL, *ablations_of(model)] if ablations is None else list(ablations)
        for variant in variants:
            if variant != FULL_MODEL and ABLATIONS.get(variant).model != model:
                continue
            for dataset in datasets:
                for seed in chosen_profile.seeds if seeds is None else seeds:
                    keys.append(RunKey(model, variant, dataset, profile, int(seed)))
    return keys


def run_key(
    key: RunKey,
    home: Home,
    *,
    force: bool = False,
    on_epoch: EpochCallback | None = None,
    execution: Execution = CPU,
) -> RunRecord:
    """Train one run and store its record, unless a record of the same data and config exists (then
    return it) and `force` is off. A record of other data under the same dataset name (a new import) or
    of another config is stale: it is retrained and replaced."""
    store = RunStore(home)
    with store.lock(key):
        existing = None if force else reusable_record(key, home, execution.threads, execution.precision)
        if existing is not None:
            return existing
        store.save(*record_run(key, home, on_epoch, execution))
        return store.read(key)  # as stored: callers see the same types whether it was trained now or before


def reusable_record(
    key: RunKey, home: Home, threads: int | None = None, precision: str = "fp32"
) -> RunRecord | None:
    """The stored record a sweep returns instead of training `key` again: one made from the data now
    imported under its dataset name (same fingerprint) with the same config (same hash)."""
    record = RunStore(home).read(key)
    if record is None:
        return None
    inputs = run_inputs(key, home, threads)
    with torch.device("meta"):  # the model's config, without its memory
        model = MODELS.get(key.model).build(inputs.dataset.meta, inputs.profile.dims, inputs.overrides)
    config = run_config(key, inputs.profile, inputs.train, model, precision)
    fresh = record.data.fingerprint == inputs.dataset.meta.fingerprint
    return record if fresh and record.config_hash == config_hash(config.to_json()) else None


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """What a run key resolves to before anything trains: its data, sizes and training settings."""

    profile: Profile
    dataset: MercDataset
    train: TrainConfig
    overrides: dict


def run_inputs(key: RunKey, home: Home, threads: int | None = None) -> RunInputs:
    """`threads`: torch threads instead of the profile's (`Execution.threads`)."""
    profile = PROFILES.get(key.profile)
    dataset = data.subsample(data.load(key.dataset, home), profile.max_dialogues)
    train = with_class_weights(profile.train_config(DATASETS.get(key.dataset).family, key.seed), dataset)
    if threads is not None:
        train = dataclasses.replace(train, threads=threads)
    return RunInputs(profile, dataset, train, overrides_of(key))


def overrides_of(key: RunKey) -> dict:
    """The model options its ablation changes (none for the full model)."""
    return {} if key.ablation == FULL_MODEL else dict(ABLATIONS.get(key.ablation).overrides)


def teacher_request_of(key: RunKey, inputs: RunInputs) -> TeacherRequest | None:
    """The teacher a run will ask for, read off the model built on the meta device (no memory, no
    arithmetic), so a sweep can train each teacher once before the runs that share it."""
    with torch.device("meta"):
        model = MODELS.get(key.model).build(inputs.dataset.meta, inputs.profile.dims, inputs.overrides)
    return model.teacher_request()


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A run's trained model (its validation-selected weights loaded) and what its record needs."""

    model: MERCModel
    dataset: MercDataset
    train: TrainConfig
    result: TrainingResult
    train_seconds: float
    teacher_summary: dict | None


def train_run(
    key: RunKey, home: Home, on_epoch: EpochCallback | None = None, execution: Execution = CPU
) -> TrainedRun:
    """Load the data, build the model, get its teacher (trained first, or from the teacher cache) and
    train: what a run record and a study that needs the trained model (the t-SNE of fused features)
    both start from."""
    inputs = run_inputs(key, home, execution.threads)
    profile, dataset, train = inputs.profile, inputs.dataset, inputs.train
    # the model's initial weights depend on the seed alone, whatever the device it then moves to
    seed_everything(train.seed, train.threads, execution.deterministic)
    model = MODELS.get(key.model).build(dataset.meta, profile.dims, inputs.overrides)
    teacher_summary = None
    request = model.teacher_request()
    if request is not None:
        teacher, teacher_summary = obtain_teacher(
            request, dataset, profile.dims, train, home, execution=execution
        )
        model.attach_teacher(teacher)
    started = time.perf_counter()
    result = train_model(model, dataset, train, on_epoch, execution)
    train_seconds = time.perf_counter() - started
    model.load_state_dict(result.best_state)
    return TrainedRun(model, dataset, train, result, train_seconds, teacher_summary)


def run_config(
    key: RunKey, profile: Profile, train: TrainConfig, model: MERCModel, precision: str
) -> RunConfig:
    """A run's settings as its record stores them; their hash is the run's config identity."""
    ablation = None if key.ablation == FULL_MODEL else ABLATIONS.get(key.ablation)
    return RunConfig(
        model=key.model,
        ablation=key.ablation,
        ablation_label="full" if ablation is None else ablation.label,
        ablation_origin=None if ablation is None else ablation.origin,
        model_config=dataclasses.asdict(model.config),
        train=dataclasses.asdict(train),
        profile=profile.name,
        max_dialogues=profile.max_dialogues,
        precision=precision,
    )


def record_run(
    key: RunKey, home: Home, on_epoch: EpochCallback | None = None, execution: Execution = CPU
) -> tuple[RunRecord, dict[str, torch.Tensor]]:
    """Train one run: its record and its validation-selected weights (on the CPU), unstored."""
    run = train_run(key, home, on_epoch, execution)
    result, train = run.result, run.train
    config = run_config(key, PROFILES.get(key.profile), train, run.model, execution.precision)
    record = RunRecord(
        key=key,
        config=config,
        config_hash=config_hash(config.to_json()),
        data=run.dataset.meta,
        environment=Environment(**(environment(train.threads) | execution.describe())),
        parameters=count_parameters(run.model),
        best_epoch=result.best_epoch,
        validation=result.validation,
        test=result.test,
        test_oracle_weighted_f1=result.test_oracle_weighted_f1,
        test_oracle_epoch=result.test_oracle_epoch,
        curves=result.curves,
        predictions=result.predictions,
        seconds_per_epoch=result.seconds_per_epoch,
        train_seconds=run.train_seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        teacher=TeacherSummary(**run.teacher_summary) if run.teacher_summary is not None else None,
        missing_modalities=evaluate_without_modalities(run.model, run.dataset, train.batch_size, execution),
    )
    return record, result.best_state
