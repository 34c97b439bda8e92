"""Which runs to make, and making one: load data, build the model, get its teacher, train, and return the
record and weights; the executors ask the store for a reusable record and store what was trained
(`benchmark.executors.local.stored_or_trained`)."""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from benchmark import data
from benchmark.data.schema import DatasetMeta, MercDataset
from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import ABLATIONS, DATASETS, MODELS
from benchmark.experiment.profiles import PROFILES, Profile, TrainConfig
from benchmark.home import Home
from benchmark.models.contract import MERCModel, ablations_of, count_parameters
from benchmark.models.search_space import parse_settings, settings_of, settings_text, split_settings
from benchmark.seeding import seed_everything
from benchmark.store.records import (
    FULL_MODEL,
    Convergence,
    Environment,
    RunConfig,
    RunKey,
    RunRecord,
    TeacherSummary,
    config_hash,
)
from benchmark.store.runs import RunStore, retrain_command
from benchmark.training.device_settings import CPU, Execution
from benchmark.training.environment import environment
from benchmark.training.loop import EpochCallback, TrainingResult, train_model, with_class_weights
from benchmark.training.modality_removal import evaluate_without_modalities
from benchmark.training.teachers import TeacherPlan, obtain_teacher, plan_teacher

DEFAULT_DATASETS = ("synthetic-iemocap", "synthetic-meld")


def plan(
    models: Sequence[str],
    datasets: Sequence[str],
    profile: str,
    seeds: Iterable[int] | None = None,
    ablations: Sequence[str] | None = None,
    settings: Sequence[str] = (),
) -> list[RunKey]:
    """Every run key, names and `settings` (`--set KEY=VALUE`, each checked against every model's search
    space) validated before anything trains. `ablations=None`: each model's full variant plus all its
    registered ablations; otherwise exactly those (FULL_MODEL = "none" included)."""
    chosen_profile = PROFILES.get(profile)
    for name in datasets:
        DATASETS.get(name)
    keys = []
    for model in models:
        parsed = parse_settings(model, MODELS.get(model).search_space, list(settings))
        variants = [FULL_MODEL, *ablations_of(model)] if ablations is None else list(ablations)
        for variant in variants:
            if variant != FULL_MODEL and ABLATIONS.get(variant).model != model:
                continue
            check_settings_keep_ablation(variant, parsed)
            for dataset in datasets:
                for seed in chosen_profile.seeds if seeds is None else seeds:
                    keys.append(RunKey(model, variant, dataset, profile, int(seed), settings_text(parsed)))
    return keys


def check_settings_keep_ablation(ablation: str, settings: dict) -> None:
    """A setting may not undo what an ablation switches (e.g. ε of the "w/o label smoothing" row)."""
    fixed = sorted(set(settings) & set(overrides_of_ablation(ablation)))
    if fixed:
        raise BenchmarkError(
            f"--set {fixed[0]}: the ablation {ablation!r} fixes {fixed[0]}; drop the setting or the ablation"
        )


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A run key resolved once, before anything trains: what the reuse check, the teacher scheduling and
    the training all read, where it computes included (`execution`, resolved at the command boundary:
    executors and workers read it here). It names its data by meta (fingerprint, subsample notes) rather
    than carrying it, so a worker gets it as it is and reloads the data by name (`planned_dataset`)."""

    key: RunKey
    profile: Profile
    data: DatasetMeta  # of the data the run trains on, subsample included
    train: TrainConfig
    overrides: dict
    model_config: Any  # the registered model's config dataclass: the model is built from it, once
    teacher: TeacherPlan | None  # its cache identity included
    config: RunConfig
    config_hash: str
    # the device, precision and kernels the run computes with: resolved (a Ray sweep's checked, and bound
    # to the cluster before its tasks get the plan: `Execution.on_cluster`)
    execution: Execution


@dataclasses.dataclass(frozen=True)
class ResolvedRun:
    """A run's plan with the data it was resolved from."""

    plan: RunPlan
    dataset: MercDataset


def resolve_run(
    key: RunKey, home: Home, execution: Execution = CPU, dataset: MercDataset | None = None
) -> ResolvedRun:
    """The one resolution of `key`: its data loaded and subsampled (unless given, as `resolve_runs`
    shares it), its training settings, and its model's config and teacher read off the registry without
    building the model. `execution`, resolved already (`Execution.resolved`), goes into the plan as it
    is: its threads replace the profile's, its precision is part of the config."""
    profile = PROFILES.get(key.profile)
    if dataset is None:
        dataset = profile_dataset(key, home)
    train = with_class_weights(profile.train_config(DATASETS.get(key.dataset).family, key.seed), dataset)
    if execution.threads is not None:
        train = dataclasses.replace(train, threads=execution.threads)
    spec = MODELS.get(key.model)
    settings = settings_of(key.model, spec.search_space, key.settings)
    train_settings, model_settings = split_settings(settings)
    train = dataclasses.replace(train, **train_settings)
    overrides = overrides_of(key) | model_settings
    model_config = spec.configure(dataset.meta, profile.dims, overrides)
    config = run_config(key, profile, train, model_config, execution.precision, settings)
    request = spec.teacher_for(model_config)
    plan = RunPlan(
        key=key,
        profile=profile,
        data=dataset.meta,
        train=train,
        overrides=overrides,
        model_config=model_config,
        teacher=None
        if request is None
        else plan_teacher(request, dataset, profile.dims, train, execution.precision),
        config=config,
        config_hash=config_hash(config.to_json()),
        execution=execution,
    )
    return ResolvedRun(plan, dataset)


def resolve_runs(keys: Sequence[RunKey], home: Home, execution: Execution = CPU) -> list[ResolvedRun]:
    """`resolve_run` of every key, each dataset loaded and subsampled once per profile."""
    datasets: dict[tuple[str, str], MercDataset] = {}
    runs = []
    for key in keys:
        if (key.dataset, key.profile) not in datasets:
            datasets[key.dataset, key.profile] = profile_dataset(key, home)
        runs.append(resolve_run(key, home, execution, datasets[key.dataset, key.profile]))
    return runs


def profile_dataset(key: RunKey, home: Home) -> MercDataset:
    """The data `key` trains on: its dataset as imported now, subsampled as its profile says."""
    return data.subsample(data.load(key.dataset, home), PROFILES.get(key.profile).max_dialogues)


def planned_dataset(plan: RunPlan, home: Home) -> MercDataset:
    """On a worker: the data `plan` was resolved with, reloaded by name; data imported under the name
    since then is refused rather than trained on under the plan's config."""
    dataset = profile_dataset(plan.key, home)
    if dataset.meta != plan.data:
        raise BenchmarkError(
            f"{plan.key.dataset} changed while the sweep was running (fingerprint {plan.data.fingerprint} when "
            f"planned, {dataset.meta.fingerprint} now): rerun the sweep once the import is done"
        )
    return dataset


def overrides_of(key: RunKey) -> dict:
    """The model options its ablation changes (none for the full model)."""
    return overrides_of_ablation(key.ablation)


def overrides_of_ablation(ablation: str) -> dict:
    return {} if ablation == FULL_MODEL else dict(ABLATIONS.get(ablation).overrides)


@dataclasses.dataclass(frozen=True)
class TrainedRun:
    """A run's trained model (its validation-selected weights loaded) and what its record needs."""

    model: MERCModel
    result: TrainingResult
    train_seconds: float
    teacher_summary: TeacherSummary | None


def built_model(run: ResolvedRun, home: Home) -> tuple[MERCModel, TeacherSummary | None]:
    """The run's model as it starts training, on the CPU, with its teacher attached (trained first, or
    from the teacher cache), and the teacher's summary for the record (None: it takes no teacher)."""
    plan, dataset = run.plan, run.dataset
    # the model's initial weights depend on the seed alone, whatever the device it then moves to
    seed_everything(plan.train.seed, plan.train.threads, plan.execution.deterministic)
    model = MODELS.get(plan.key.model).build_from(plan.model_config, dataset.meta)
    teacher_summary = None
    if plan.teacher is not None:
        teacher, teacher_summary = obtain_teacher(plan.teacher, dataset, home, execution=plan.execution)
        model.attach_teacher(teacher)
    return model, teacher_summary


def train_run(run: ResolvedRun, home: Home, on_epoch: EpochCallback | None = None) -> TrainedRun:
    """Build the model, get its teacher and train: what a run record starts from."""
    plan, dataset = run.plan, run.dataset
    model, teacher_summary = built_model(run, home)
    started = time.perf_counter()
    result = train_model(model, dataset, plan.train, on_epoch, plan.execution)
    train_seconds = time.perf_counter() - started
    model.load_state_dict(result.best_state)
    return TrainedRun(model, result, train_seconds, teacher_summary)


def stored_model(run: ResolvedRun, home: Home) -> MERCModel:
    """The model of a stored run (`RunStore.reusable`), its validation-selected weights read from the
    store rather than trained again, on the run's device: what a study of the trained model (the t-SNE
    of fused features) reads."""
    store, key = RunStore(home), run.plan.key
    weights_path = store.weights_path(key)
    if store.reusable(run.plan) is None or not weights_path.exists():
        raise BenchmarkError(
            f"no stored weights of {key.variant} on {key.dataset} ({key.profile}, seed {key.seed}) with "
            f"this data and config: train it with `{retrain_command(key)}`"
        )
    model, _ = built_model(run, home)
    weights = torch.load(weights_path, map_location="cpu", weights_only=True)
    model.load_state_dict(weights)
    return model.to(run.plan.execution.torch_device)


def run_config(
    key: RunKey,
    profile: Profile,
    train: TrainConfig,
    model_config: Any,
    precision: str,
    settings: dict[str, Any] | None = None,
) -> RunConfig:
    """A run's settings as its record stores them; their hash is the run's config identity."""
    ablation = None if key.ablation == FULL_MODEL else ABLATIONS.get(key.ablation)
    return RunConfig(
        model=key.model,
        ablation=key.ablation,
        ablation_label="full" if ablation is None else ablation.label,
        ablation_origin=None if ablation is None else ablation.origin,
        model_config=dataclasses.asdict(model_config),
        train=dataclasses.asdict(train),
        profile=profile.name,
        max_dialogues=profile.max_dialogues,
        precision=precision,
        settings=dict(settings or {}),
    )


def record_run(
    run: ResolvedRun, home: Home, on_epoch: EpochCallback | None = None
) -> tuple[RunRecord, dict[str, torch.Tensor]]:
    """Train one run: its record and its validation-selected weights (on the CPU), unstored."""
    plan, execution = run.plan, run.plan.execution
    trained = train_run(run, home, on_epoch)
    result, train = trained.result, plan.train
    record = RunRecord(
        key=plan.key,
        config=plan.config,
        config_hash=plan.config_hash,
        data=run.dataset.meta,
        environment=Environment(**(environment(train.threads) | execution.describe())),
        parameters=count_parameters(trained.model),
        best_epoch=result.best_epoch,
        validation=result.validation,
        test=result.test,
        test_oracle_weighted_f1=result.test_oracle_weighted_f1,
        test_oracle_epoch=result.test_oracle_epoch,
        curves=result.curves,
        convergence=Convergence.of(result.best_epoch, result.curves[-1].epoch, train.epochs, train.patience),
        predictions=result.predictions,
        seconds_per_epoch=result.seconds_per_epoch,
        train_seconds=trained.train_seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        teacher=trained.teacher_summary,
        missing_modalities=evaluate_without_modalities(
            trained.model, run.dataset, train.batch_size, execution
        ),
    )
    return record, result.best_state
