"""SUMMER (docs/model.md): per-modality input encoders, an SDMoE context encoder per modality, HCMF
(teacher-guided cross-modal attention, two fusion levels, a Global MoE), a linear classifier, and IKD
from a frozen text teacher (summer/distillation.py).

Uses the modalities the dataset has (fusion over two when one is absent); needs at least one. A batch
whose teacher modality is removed at test time (`Batch.absent`) gets no teacher: no guidance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
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
from benchmark.models.layers import modality_encoders
from benchmark.models.search_space import FloatRange
from summer.config import TEMPERATURE, SummerConfig
from summer.distillation import (
    MODALITY_SEPARATOR,
    STREAM,
    FrozenTeacher,
    distillation_losses,
    teacher_request,
)
from summer.fusion import ConcatFusion, HierarchicalFusion, SelfAttentionFusion
from summer.moe import EXPERTS_SETTING, context_block, run_context_blocks


class Summer(MERCModel):
    def __init__(self, config: SummerConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        self.teacher_modalities = tuple(config.teacher_modality.split(MODALITY_SEPARATOR))
        c = config
        self.encoders = modality_encoders(meta, c.width, c.dropout)
        self.context = nn.ModuleDict({m: self._sdmoe_stack() for m in self.modalities})
        if c.fusion == "hcmf":
            global_moe = context_block(c.width, c.dropout, c, sparse=c.use_sdmoe)
            self.fusion: nn.Module = HierarchicalFusion(
                c.width, c.heads, c.dropout, self.modalities, c.teacher_guided, global_moe, c.guidance_mask
            )
        elif c.fusion == "self-attention":
            self.fusion = SelfAttentionFusion(c.width, c.heads, c.dropout, self.modalities)
        else:
            self.fusion = ConcatFusion(c.width, self.modalities)
        self.classifier = nn.Linear(c.width, meta.n_classes)
        self._teacher: FrozenTeacher | None = None

    def _sdmoe_stack(self) -> nn.ModuleList:
        c = self.config
        return nn.ModuleList(
            context_block(c.width, c.dropout, c, sparse=c.use_sdmoe) for _ in range(c.layers)
        )

    @classmethod
    def teacher_for(cls, config: SummerConfig) -> TeacherRequest | None:
        return teacher_request(config.teacher_modality) if config.use_ikd else None

    def attach_teacher(self, teacher: MERCModel) -> None:
        if not self.config.use_ikd:
            raise TypeError("this SUMMER variant has IKD off and takes no teacher")
        self._teacher = FrozenTeacher(teacher)

    def forward(self, batch: Batch) -> ModelOutput:
        c, mask = self.config, batch.mask
        if c.use_ikd and self._teacher is None:
            raise RuntimeError(
                "SUMMER with IKD needs its trained teacher: the trainer must call attach_teacher()"
            )
        teacher_present = all(batch.present(m) for m in self.teacher_modalities)
        if c.use_ikd and self.training and not teacher_present:
            raise RuntimeError(f"SUMMER trains with its teacher: a training batch needs {c.teacher_modality}")
        wanted = c.use_ikd and teacher_present and (self.training or c.teacher_guided)
        teacher = self._teacher.targets(batch) if wanted else None
        balance = []
        streams = {m: self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities}
        for layer in range(c.layers):  # the modalities' SDMoEs of one layer share one recurrent pass
            blocks = [self.context[m][layer] for m in self.modalities]
            outputs = run_context_blocks(blocks, [streams[m] for m in self.modalities], mask)
            for m, (x, aux) in zip(self.modalities, outputs, strict=True):
                streams[m] = x
                balance.append(aux)
        guidance = teacher.scores if c.teacher_guided and teacher is not None else None
        fused, fusion_balance = self.fusion(streams, mask, guidance)
        logits = self.classifier(fused)
        aux_losses: dict[str, torch.Tensor] = {}
        if c.use_sdmoe and c.lambda_moe:
            aux_losses["moe_balance"] = c.lambda_moe * torch.stack(balance + fusion_balance).mean()
        if teacher is not None and self.training:
            latent = streams[c.teacher_modality] if c.latent_target == STREAM else fused
            aux_losses |= distillation_losses(
                c,
                c.temperature,
                logits[mask],
                latent[mask],
                batch.labels[mask],
                teacher,
                self._teacher.head,
                batch.class_weights,
            )
        return ModelOutput(logits, fused, aux_losses, label_smoothing=c.label_smoothing)


def _distils(config: SummerConfig) -> bool:
    return config.use_ikd


def _distils_latent(config: SummerConfig) -> bool:
    return config.use_ikd and config.use_latent_kd


_KAPPA = "κ = 1 is a [choice] no source gives; `study ikd` found 0.1 better: two decades below, one above"
# [choice] SUMMER's own settings `tune` may search (docs/model.md, "Search spaces")
SEARCH_SPACE = {
    "kappa_logit": FloatRange(0.01, 10.0, log=True, source=_KAPPA, applies=_distils),
    "kappa_latent": FloatRange(0.01, 10.0, log=True, source=_KAPPA, applies=_distils_latent),
    "kappa_head": FloatRange(0.01, 10.0, log=True, source=_KAPPA, applies=_distils_latent),
    "temperature": FloatRange(0.5, 16.0, log=True, source="SDT's T = 1 and 8, halved and doubled",
                              applies=_distils),
    "label_smoothing": FloatRange(0.0, 0.3, source="ε = 0.1 is a [choice]: none to thrice it"),
    "experts": EXPERTS_SETTING,
}  # fmt: skip


@register_model(
    "summer",
    model=Summer,
    description="SUMMER: sparse dynamic MoE + hierarchical cross-modal fusion + distillation from a text teacher",
    family="summer",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> SummerConfig:
    require_features(meta, "summer")
    defaults = dataclasses.asdict(dims) | {"temperature": TEMPERATURE[meta.family]}
    config = make_config(SummerConfig, "summer", overrides, **defaults)
    if config.latent_target == STREAM and config.teacher_modality not in meta.modalities:
        raise BenchmarkError(
            f"latent_target {STREAM!r} reads the student's {config.teacher_modality} stream, which "
            f"{meta.name} does not have: use latent_target 'fused'"
        )
    return config
