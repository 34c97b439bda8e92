"""IKD, Interactive Knowledge Distillation (docs/model.md, "IKD"), in one place: the teacher model, its
registration, the request SUMMER makes for it, the cache of its outputs and the distillation losses.

The teacher is text-only, built with SDMoE (input encoder -> SDMoE context -> a self-attention block
whose N x N scores guide the student's cross-modal attention -> linear classifier), trained on the same
split, seed and schedule as the student, then frozen. The student's loss is

    L = k1 CE_eps(z_s, y) + k2 T^2 KL(softmax(z_T / T) || softmax(z_s / T)) + k3 MSE(h_s, h_T)
        + k4 CE(Head_T(h_s), y) + lambda_moe L_balance

with z_s, z_T the student's and teacher's logits, h_s the student's fused representation, h_T the
teacher's final hidden state (same width, no projection), Head_T the teacher's frozen classifier.
[choice] k1..k4 = 1, eps = 0.1, T = 1 (IEMOCAP) / 8 (MELD) as SDT. k1 CE_eps is the trainer's
cross-entropy with the label smoothing the model asks for (`ModelOutput.label_smoothing`); the other
terms are `distillation_losses`. Both cross-entropies carry the run's class weights (SDT weighs every
cross-entropy term alike).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.errors import BenchmarkError
from benchmark.models.contract import (
    MERCModel,
    ModelDims,
    ModelOutput,
    TeacherRequest,
    make_config,
    register_model,
    require_features,
)
from benchmark.models.layers import UtteranceEncoder, dense_layer
from summer.fusion import Attention
from summer.moe import EXPERTS_SETTING, MoEOptions, context_block

TEACHER = "text-teacher"
MODALITY_SEPARATOR = "+"


@dataclass(frozen=True, kw_only=True)
class TeacherConfig(ModelDims, MoEOptions):
    # [review] text; "audio", "text+audio", ... for the teacher-modality study (features summed after
    # each modality's encoder)
    modalities: str = "text"
    use_sdmoe: bool = True  # False: a plain self-attention transformer layer as the context encoder


class Teacher(MERCModel):
    def __init__(self, config: TeacherConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = tuple(config.modalities.split(MODALITY_SEPARATOR))
        w = config.width
        self.encoders = nn.ModuleDict(
            {
                m: UtteranceEncoder(meta.feature_dims[m], w, meta.n_speakers, config.dropout)
                for m in self.modalities
            }
        )
        if config.use_sdmoe:
            self.context = nn.ModuleList(
                context_block(w, config.dropout, config) for _ in range(config.layers)
            )
        else:
            self.context = nn.ModuleList(
                dense_layer(w, config.heads, config.dropout) for _ in range(config.layers)
            )
        self.attention = Attention(w, config.heads, config.dropout)
        self.classifier = nn.Linear(w, meta.n_classes)

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """(hidden [B, T, d], attention scores [B, T, T], balance losses)."""
        x = sum(self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities)
        balance = []
        for block in self.context:
            x, aux = block(x, batch.mask)
            balance.append(aux)
        hidden, scores = self.attention(x, batch.mask)
        return hidden, scores, balance

    def forward(self, batch: Batch) -> ModelOutput:
        hidden, _, balance = self.encode(batch)
        aux = {}
        if self.config.use_sdmoe and self.config.lambda_moe:
            aux["moe_balance"] = self.config.lambda_moe * torch.stack(balance).mean()
        return ModelOutput(logits=self.classifier(hidden), hidden=hidden, aux_losses=aux)


@register_model(
    TEACHER,
    model=Teacher,
    description="SUMMER's unimodal text teacher (SDMoE context), trained on its own",
    search_space={"experts": EXPERTS_SETTING},
)
def configure_teacher(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> TeacherConfig:
    require_features(meta, TEACHER)
    config = make_config(TeacherConfig, TEACHER, overrides, **dataclasses.asdict(dims))
    missing = [m for m in config.modalities.split(MODALITY_SEPARATOR) if m not in meta.feature_dims]
    if missing:
        raise BenchmarkError(
            f"the teacher's modality {missing[0]!r} is not in {meta.name} "
            f"(present: {', '.join(meta.modalities) or 'none'}): set teacher_modality to one of them"
        )
    return config


def teacher_request(modality: str) -> TeacherRequest:
    """[choice] the teacher is trained on the student run's split, seed, dims and schedule
    (benchmark/training/teachers.py caches it by all of these)."""
    return TeacherRequest(model=TEACHER, overrides={"modalities": modality})


@dataclass(frozen=True)
class TeacherTargets:
    logits: torch.Tensor  # [N, C], real utterances packed like tensor[batch.mask]
    hidden: torch.Tensor  # [N, d]
    scores: torch.Tensor  # [B, T, T] padded with zeros


class FrozenTeacher:
    """The attached teacher and its outputs per dialogue id: frozen, so each dialogue costs one teacher
    forward per run, not one per epoch. Not an nn.Module: it is neither trained nor saved."""

    def __init__(self, teacher: MERCModel) -> None:
        if not isinstance(teacher, Teacher):
            raise TypeError(f"SUMMER distils from a {TEACHER!r}, not a {type(teacher).__name__}")
        self.model = teacher.eval().requires_grad_(False)
        self._outputs: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    @property
    def head(self) -> nn.Linear:
        return self.model.classifier

    def targets(self, batch: Batch) -> TeacherTargets:
        lengths = batch.lengths.tolist()
        unseen = [i for i, d in enumerate(batch.dialogue_ids) if d not in self._outputs]
        if unseen:
            with torch.no_grad():
                hidden, scores, _ = self.model.encode(batch.select(unseen))
                logits = self.model.classifier(hidden)
            for row, i in enumerate(unseen):
                n = lengths[i]
                self._outputs[batch.dialogue_ids[i]] = (logits[row, :n], hidden[row, :n], scores[row, :n, :n])
        outputs = [self._outputs[d] for d in batch.dialogue_ids]
        length = batch.mask.shape[1]
        scores = batch.mask.new_zeros(len(outputs), length, length, dtype=torch.float32)
        for row, (_, _, matrix) in enumerate(outputs):  # one copy per dialogue, not per utterance
            scores[row, : len(matrix), : len(matrix)] = matrix
        return TeacherTargets(torch.cat([o[0] for o in outputs]), torch.cat([o[1] for o in outputs]), scores)


# Which student tensor h_s the MSE and teacher-head terms read: FUSED, the representation the student's
# classifier reads (the specification's h_s^fused), or STREAM, the student's own stream of the teacher's
# modality after its SDMoE, upstream of the fusion (a reading `study ikd` measures).
FUSED, STREAM = "fused", "stream"
LATENT_TARGETS = (FUSED, STREAM)


@dataclass(frozen=True, kw_only=True)
class DistillationOptions:
    use_ikd: bool = True
    # False: logit-only distillation (the suite's "latent" row): no MSE, no teacher head, no guided mask
    use_latent_kd: bool = True
    label_smoothing: float = 0.1  # [review] label smoothing; [choice] eps = 0.1
    kappa_logit: float = 1.0  # [choice] k2
    kappa_latent: float = 1.0  # [choice] k3
    kappa_head: float = 1.0  # [choice] k4
    teacher_modality: str = "text"  # [review] a text teacher
    latent_target: str = FUSED  # [choice] h_s, one of LATENT_TARGETS

    def __post_init__(self) -> None:
        if self.latent_target not in LATENT_TARGETS:
            raise BenchmarkError(
                f"unknown latent_target {self.latent_target!r}; valid: {', '.join(LATENT_TARGETS)}"
            )


def distillation_losses(
    options: DistillationOptions,
    temperature: float,
    logits: torch.Tensor,
    latent: torch.Tensor,
    labels: torch.Tensor,
    teacher: TeacherTargets,
    head: nn.Linear,
    class_weights: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The k2..k4 terms of the module docstring's loss over real utterances: logits [N, C], the student's
    h_s (`options.latent_target`) [N, d], labels [N]; `class_weights` weigh the teacher-head
    cross-entropy as the trainer's. The teacher's targets carry no gradient; its frozen head passes
    gradient to `latent` only."""
    t = temperature
    kl = F.kl_div(
        F.log_softmax(logits / t, dim=-1), F.softmax(teacher.logits / t, dim=-1), reduction="batchmean"
    )
    terms = {"kd_logit": options.kappa_logit * t * t * kl}
    if options.use_latent_kd:
        terms["kd_latent"] = options.kappa_latent * F.mse_loss(latent, teacher.hidden)
        terms["kd_head"] = options.kappa_head * F.cross_entropy(head(latent), labels, weight=class_weights)
    return terms
