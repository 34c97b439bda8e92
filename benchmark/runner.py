"""Which runs to make, and making one: load data, build the model, get its teacher, train, store."""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Iterable, Sequence

from benchmark import data
from benchmark.catalog import ABLATIONS, DATASETS, MODELS
from benchmark.config import PROFILES, TrainConfig, config_hash
from benchmark.environment import environment
from benchmark.home import Home
from benchmark.modeling import MERCModel, count_parameters
from benchmark.records import FULL_MODEL, RunKey, RunRecord
from benchmark.seeding import seed_everything
from benchmark.store import RunStore
from benchmark.teachers import obtain_teacher
from benchmark.training import EpochCallback, train_model

DEFAULT_DATASETS = ("synthetic-iemocap", "synthetic-meld")


def ablations_of(model: str) -> list[str]:
    return [name for name, ablation in ABLATIONS.items() if ablation.model == model]


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
    key: RunKey, home: Home, *, force: bool = False, on_epoch: EpochCallback | None = None
) -> RunRecord:
    """Train one run and store its record, unless a record of the same data and config exists (then
    return it) and `force` is off. A record of other data under the same dataset name (a new import) or
    of another config is stale: it is retrained and replaced."""
    store = RunStore(home)
    with store.lock(key):
        prepared = _prepare(key, home)
        existing = None if force else store.read(key)
        if existing is not None and _matches(existing, prepared):
            return existing
        store.write(_train_key(key, home, prepared, on_epoch))
        return store.read(key)  # as stored: callers see the same types whether it was trained now or before


@dataclasses.dataclass(frozen=True)
class _Prepared:
    dataset: data.MercDataset
    train: TrainConfig
    model: MERCModel
    config: dict


def _prepare(key: RunKey, home: Home) -> _Prepared:
    profile = PROFILES.get(key.profile)
    spec = DATASETS.get(key.dataset)
    dataset = data.subsample(data.load(key.dataset, home), profile.max_dialogues)
    train = profile.train_config(spec.family, key.seed)
    overrides = {} if key.ablation == FULL_MODEL else dict(ABLATIONS.get(key.ablation).overrides)
    seed_everything(train.seed, train.threads)  # the model's initial weights depend on the seed alone
    model = MODELS.get(key.model).build(dataset.meta, profile.dims, overrides)
    config = {
        "model": key.model,
        "ablation": key.ablation,
        "ablation_label": "full" if key.ablation == FULL_MODEL else ABLATIONS.get(key.ablation).label,
        "model_config": dataclasses.asdict(model.config),
        "train": dataclasses.asdict(train),
        "profile": profile.name,
        "max_dialogues": profile.max_dialogues,
    }
    return _Prepared(dataset, train, model, config)


def _matches(record: RunRecord, prepared: _Prepared) -> bool:
    return record.data.get(
        "fingerprint"
    ) == prepared.dataset.meta.fingerprint and record.config_hash == config_hash(prepared.config)


def _train_key(key: RunKey, home: Home, prepared: _Prepared, on_epoch: EpochCallback | None) -> RunRecord:
    dataset, train, model, config = prepared.dataset, prepared.train, prepared.model, prepared.config
    profile = PROFILES.get(key.profile)
    teacher_summary = None
    request = model.teacher_request()
    if request is not None:
        teacher, teacher_summary = obtain_teacher(request, dataset, profile.dims, train, home)
        model.attach_teacher(teacher)
    started = time.perf_counter()
    result = train_model(model, dataset, train, on_epoch)
    train_seconds = time.perf_counter() - started
    return RunRecord(
        key=key,
        config=config,
        config_hash=config_hash(config),
        data=dataset.meta.to_json(),
        environment=environment(train.threads),
        parameters=count_parameters(model),
        best_epoch=result.best_epoch,
        validation=result.validation,
        test=result.test,
        test_oracle_weighted_f1=result.test_oracle_weighted_f1,
        test_oracle_epoch=result.test_oracle_epoch,
        curves=result.curves,
        predictions=result.predictions,
        seconds_per_epoch=result.seconds_per_epoch,
        train_seconds=train_seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        teacher=teacher_summary,
    )
