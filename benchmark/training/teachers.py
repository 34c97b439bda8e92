"""Trained IKD teachers, cached by everything that determines them and reused by every run that asks.

[choice, docs/model.md "IKD"] the teacher is trained with the student run's own
seed, data, dims and training config: `teacher_key` is the one place that says so.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from benchmark.data.schema import MercDataset
from benchmark.experiment.profiles import TrainConfig
from benchmark.files import atomic_write, atomic_write_json, exclusive
from benchmark.home import Home
from benchmark.models.contract import MODELS, MERCModel, ModelDims, TeacherRequest
from benchmark.seeding import seed_everything
from benchmark.store.records import TeacherSummary, config_hash
from benchmark.stored import ShapeError, StoredFileError, one_line, read_json, rebuilding, typed
from benchmark.training.device_settings import CPU, Execution
from benchmark.training.loop import EpochCallback, train_model


def teacher_key(
    request: TeacherRequest,
    dataset: MercDataset,
    dims: ModelDims,
    train: TrainConfig,
    teacher: MERCModel,
    precision: str,
) -> dict:
    """Everything the trained weights depend on; the device is not among them (the same seed trains
    the same teacher, up to the device's arithmetic), the precision is."""
    return {
        "model": request.model,
        # the parameter layout: weights cached by code that built the teacher otherwise are not reused
        "parameter_layout": config_hash({name: list(p.shape) for name, p in teacher.state_dict().items()}),
        "overrides": dict(request.overrides),
        "data_fingerprint": dataset.meta.fingerprint,
        "data_notes": list(dataset.meta.notes),  # a subsample is other data than the whole
        "dims": dataclasses.asdict(dims),
        "train": dataclasses.asdict(train),
        "precision": precision,
    }


@dataclasses.dataclass(frozen=True)
class TeacherPlan:
    """The teacher a run asks for, resolved with the run's plan (`plan_teacher`): what trains it (the
    run's own dims and training config) and its cache identity, worked out once, so that the workers'
    scheduling and `obtain_teacher` read it rather than derive it again."""

    request: TeacherRequest
    dims: ModelDims
    train: TrainConfig
    key: dict  # `teacher_key`: everything the trained weights depend on
    digest: str  # the cache identity: `config_hash(key)`

    @property
    def model(self) -> str:
        return self.request.model


def plan_teacher(
    request: TeacherRequest, dataset: MercDataset, dims: ModelDims, train: TrainConfig, precision: str
) -> TeacherPlan:
    """The teacher `obtain_teacher` will return, without training or memory: it is built on the meta
    device, where only shapes exist, which is all its key reads of it."""
    with torch.device("meta"):
        teacher = MODELS.get(request.model).build(dataset.meta, dims, request.overrides)
    key = teacher_key(request, dataset, dims, train, teacher, precision)
    return TeacherPlan(request, dims, train, key, config_hash(key))


def obtain_teacher(
    plan: TeacherPlan,
    dataset: MercDataset,
    home: Home,
    on_epoch: EpochCallback | None = None,
    execution: Execution = CPU,
) -> tuple[MERCModel, TeacherSummary]:
    """The frozen trained teacher of `plan`, on the execution's device, and its summary for the run record
    (key, hash, cache hit, metrics). One process trains a given teacher; the others wait and load it."""
    request, train, key, digest = plan.request, plan.train, plan.key, plan.digest
    # the teacher's initial weights depend on its seed alone
    seed_everything(train.seed, train.threads, execution.deterministic)
    teacher = MODELS.get(request.model).build(dataset.meta, plan.dims, request.overrides)
    weights = home.teacher_cache / f"{request.model}-{digest}.pt"
    summary_path = weights.with_suffix(".json")
    with exclusive(weights):
        cached = _cached_summary(summary_path, weights, digest, key)
        if cached is None:
            result = train_model(teacher, dataset, train, on_epoch, execution)
            atomic_write(weights, lambda path: torch.save(result.best_state, path))
            summary = TeacherSummary(
                key=json.loads(json.dumps(key)),  # as the cache's summary holds it: tuples as lists
                hash=digest,
                best_epoch=result.best_epoch,
                validation_weighted_f1=result.validation.weighted_f1,
                test_weighted_f1=result.test.weighted_f1,
                cache_hit=False,
            )
            cached_json = {name: value for name, value in summary.to_json().items() if name != "cache_hit"}
            atomic_write_json(summary_path, cached_json)
            state = result.best_state
        else:
            summary, state = cached
    teacher.load_state_dict(state)
    teacher.to(execution.torch_device).eval().requires_grad_(False)
    return teacher, summary


def _cached_summary(
    summary_path: Path, weights: Path, digest: str, key: dict
) -> tuple[TeacherSummary, dict[str, torch.Tensor]] | None:
    """The cached teacher's summary and weights; None when not cached, or when a file of it cannot be
    used (cut short, another teacher's), which is said in one line: the teacher is then trained again."""
    if not (weights.exists() and summary_path.exists()):
        return None
    fix = "the teacher is trained again and the cache entry replaced"
    try:
        raw = read_json(summary_path, "teacher cache summary", fix)
        if not isinstance(raw, dict) or "cache_hit" in raw:
            raise StoredFileError(summary_path, "teacher cache summary", "not a summary's shape", fix)
        try:
            summary = typed(TeacherSummary, raw | {"cache_hit": True})
        except ShapeError as err:
            raise StoredFileError(summary_path, "teacher cache summary", str(err), fix) from None
        if summary.hash != digest or summary.key != json.loads(json.dumps(key)):
            raise StoredFileError(summary_path, "teacher cache summary", "another teacher's", fix)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as err:  # torch's loader raises whatever its unpickler or zip reader meets
            raise StoredFileError(weights, "teacher cache weights", one_line(err), fix) from None
    except StoredFileError as err:
        rebuilding(err)
        return None
    return summary, state
