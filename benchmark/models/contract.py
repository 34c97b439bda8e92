"""The contract between the harness and every model: what a model receives, returns and may ask for.

Models live in `summer/` and `baselines/`, one file each, and join with one `@register_model` line on
the function that makes their config; the trainer only ever talks to `MERCModel`. A run's config and
the teacher it asks for are read off the config alone, so a run builds its model once, for training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.errors import BenchmarkError
from benchmark.models.search_space import SHARED_SPACE, SearchSpace
from benchmark.registry import Registry


@dataclass(frozen=True)
class ModelDims:
    """The sizes a profile fixes for every model, so rivals are compared at the same width."""

    width: int
    heads: int
    layers: int
    dropout: float


@dataclass
class ModelOutput:
    logits: torch.Tensor  # [B, T, n_classes]
    hidden: torch.Tensor  # [B, T, H]: the final utterance representation (fused, for multimodal models)
    # Extra loss terms, already multiplied by their weights; the trainer adds them to cross-entropy
    # and logs each by name (e.g. "moe_balance", "kd_latent", "kd_logit", "self_distillation").
    aux_losses: dict[str, torch.Tensor] = field(default_factory=dict)
    # Extra classifier heads, name -> (weight, [B, T, n_classes] logits): the trainer adds weight x the
    # head's cross-entropy with the same class weights as the main one (no smoothing), logged by name.
    aux_logits: dict[str, tuple[float, torch.Tensor]] = field(default_factory=dict)
    label_smoothing: float = 0.0  # the epsilon of the trainer's cross-entropy (0 = plain)


@dataclass(frozen=True)
class TeacherRequest:
    """A model that distils from a teacher names it; the trainer trains (or loads the cached) teacher
    on the same data, dims, training config and seed, freezes it and hands it over."""

    model: str
    overrides: Mapping[str, Any] = field(default_factory=dict)


class MERCModel(nn.Module):
    """Base class. `config` is a dataclass holding every option the model was built with (recorded in
    run records). Device placement belongs to the caller: models never call `.cuda()` themselves."""

    config: Any

    def forward(self, batch: Batch) -> ModelOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def observe_training_labels(self, labels: torch.Tensor) -> None:
        """Called by the trainer once, before the first epoch, with every label of the training split
        (padding excluded): for a loss weighted by the training class counts. Most models ignore it."""

    @classmethod
    def teacher_for(cls, config: Any) -> TeacherRequest | None:
        """The teacher a model of this config distils from (None: none), known before any model is built."""
        return None

    def teacher_request(self) -> TeacherRequest | None:
        return self.teacher_for(self.config)

    def attach_teacher(self, teacher: MERCModel) -> None:
        raise TypeError(f"{type(self).__name__} does not distil from a teacher")


# (dataset meta, dims, config overrides) -> the model's config, checked against the data; builds nothing
Configure = Callable[[DatasetMeta, ModelDims, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_type: type[MERCModel]  # constructed as model_type(config, meta)
    configure: Configure
    description: str
    family: str  # "summer" or "baseline"
    own_space: SearchSpace = field(default_factory=dict)  # the model's own [choice]s that `tune` may search

    @property
    def search_space(self) -> SearchSpace:
        """Everything `run --set` may change and `tune` may search: the shared knobs and the model's own."""
        return SHARED_SPACE | dict(self.own_space)

    def build(self, meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> MERCModel:
        return self.build_from(self.configure(meta, dims, overrides), meta)

    def build_from(self, config: Any, meta: DatasetMeta) -> MERCModel:
        return self.model_type(config, meta)

    def teacher_for(self, config: Any) -> TeacherRequest | None:
        return self.model_type.teacher_for(config)


PAPER = "paper"  # a row of the paper's ablation table (table 4)
SUITE = "suite"  # a row the suite's users asked for, not in the paper
PAPER_AND_SUITE = "paper+suite"  # the same switch in both tables
STUDY = "study"  # a variant one of the paper's studies trains (`study` command), not an ablation row


@dataclass(frozen=True)
class Ablation:
    """A config switch on a registered model, never a copy of it."""

    name: str  # what `--drop` takes: "sdmoe", "hcmf", "ikd", "latent", ...
    label: str  # as the paper's ablation table writes it, e.g. "w/o SDMoE"
    model: str
    overrides: Mapping[str, Any]
    description: str
    origin: str = "suite"  # PAPER, SUITE, PAPER_AND_SUITE or STUDY: where the row comes from


@dataclass(frozen=True)
class Subject:
    """The model the benchmark is about, as its package declares it: the reports ask it for these names
    instead of spelling them. Its ablation rows are its registered ablations, in registration order."""

    model: str  # its registered name
    label: str  # how tables print its full variant
    teacher: str  # the model it distils from, also reported as a rival of its own
    without_distillation: str  # its ablation that removes the distillation, the claims' and studies' baseline


MODELS: Registry[ModelSpec] = Registry("model")
ABLATIONS: Registry[Ablation] = Registry("ablation")


def register_model(
    name: str,
    *,
    model: type[MERCModel],
    description: str,
    family: str = "baseline",
    search_space: SearchSpace | None = None,
) -> Callable[[Configure], Configure]:
    """Decorates the function that makes `model`'s config. `search_space`: its config's fields that `tune`
    may search, with their ranges (benchmark/models/search_space.py), beyond the shared training knobs."""

    def decorate(configure: Configure) -> Configure:
        MODELS.add(name, ModelSpec(name, model, configure, description, family, dict(search_space or {})))
        return configure

    return decorate


def register_ablation(ablation: Ablation) -> Ablation:
    return ABLATIONS.add(ablation.name, ablation)


def ablations_of(model: str) -> list[str]:
    """The ablation rows of `model` (paper's and suite's) in registration order, the order reports list
    them; study variants are the `study` command's."""
    return [name for name, a in ABLATIONS.items() if a.model == model and a.origin != STUDY]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_config(config_type: type, model: str, overrides: Mapping[str, Any], **defaults: Any) -> Any:
    """A model's config dataclass from its defaults, dataset-dependent `defaults` and user `overrides`;
    an unknown override key is a one-line error naming the valid ones."""
    valid = {f.name for f in dataclasses.fields(config_type)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise BenchmarkError(
            f"model {model!r} has no option {unknown[0]!r}; valid options: {', '.join(sorted(valid))}"
        )
    return config_type(**(defaults | dict(overrides)))


def require_features(meta: DatasetMeta, model: str) -> None:
    if not meta.feature_dims:
        raise BenchmarkError(
            f"model {model!r} needs feature modalities but {meta.name} ({meta.source_kind}) has none: import a "
            "feature pickle with `python -m benchmark data --source ...`"
        )
