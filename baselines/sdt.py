"""Self-Distillation Transformer style (Ma et al., 2023): intra-modal transformers and inter-modal
(n -> m) attention per modality, hierarchical gated fusion (a sigmoid gate per modality, then softmax
weights over modalities), and self-distillation: each modality head learns from the labels and from
the fused model's softened predictions. Needs at least two modalities (inter-modal attention)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import permutations
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common import ModalityContexts, require_modalities
from benchmark.data.collate import IGNORE_LABEL, Batch
from benchmark.data.schema import DatasetMeta
from benchmark.layers import dense_layer
from benchmark.modeling import MERCModel, ModelDims, ModelOutput, make_config, register_model

# Self-distillation temperature per dataset family: SDT's published settings (Ma et al., 2023).
TEMPERATURE = {"iemocap": 1.0, "meld": 8.0}


@dataclass(frozen=True)
class SDTConfig(ModelDims):
    temperature: float
    gamma_modality_ce: float = 1.0
    gamma_self_distillation: float = 1.0


class SelfDistillationTransformer(MERCModel):
    def __init__(self, config: SDTConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w = config.width
        self.intra = ModalityContexts(meta, config)
        self.inter = nn.ModuleDict(
            {
                f"{n}->{m}": dense_layer(w, config.heads, config.dropout)
                for n, m in permutations(self.modalities, 2)
            }
        )
        self.combine = nn.ModuleDict({m: nn.Linear(len(self.modalities) * w, w) for m in self.modalities})
        self.gate = nn.ModuleDict({m: nn.Linear(w, w) for m in self.modalities})
        self.modality_score = nn.Linear(w, 1)
        self.heads = nn.ModuleDict({m: nn.Linear(w, meta.n_classes) for m in self.modalities})
        self.classifier = nn.Linear(w, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        intra = self.intra(batch)
        per_modality = {}
        for m in self.modalities:
            inter = [
                self.inter[f"{n}->{m}"](intra[m], batch.mask, intra[n])[0] for n in self.modalities if n != m
            ]
            combined = self.combine[m](torch.cat([intra[m], *inter], dim=-1))
            per_modality[m] = (
                torch.sigmoid(self.gate[m](combined)) * combined
            )  # level 1: gate within a modality
        stacked = torch.stack(list(per_modality.values()), dim=-2)  # [B, T, M, w]
        weights = self.modality_score(stacked).softmax(dim=-2)  # level 2: weights across modalities
        fused = (weights * stacked).sum(dim=-2)
        logits = self.classifier(fused)
        return ModelOutput(logits, fused, self._self_distillation(batch, logits, per_modality))

    def _self_distillation(
        self, batch: Batch, logits: torch.Tensor, per_modality: dict
    ) -> dict[str, torch.Tensor]:
        c, mask, t = self.config, batch.mask, self.config.temperature
        teacher = F.softmax(logits[mask].detach() / t, dim=-1)  # the fused model teaches each modality head
        ce, kd = [], []
        for m, hidden in per_modality.items():
            head = self.heads[m](hidden)
            ce.append(
                F.cross_entropy(
                    head.flatten(0, 1),
                    batch.labels.flatten(),
                    weight=batch.class_weights,  # SDT's train.py weighs every cross-entropy term alike
                    ignore_index=IGNORE_LABEL,
                )
            )
            kl = F.kl_div(F.log_softmax(head[mask] / t, dim=-1), teacher, reduction="none").sum(-1).mean()
            kd.append(t * t * kl)
        return {
            "modality_ce": c.gamma_modality_ce * torch.stack(ce).mean(),
            "self_distillation": c.gamma_self_distillation * torch.stack(kd).mean(),
        }


@register_model(
    "sdt",
    description="Self-Distillation Transformer: intra/inter-modal attention, gated fusion, self-distillation",
)
def build(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> SelfDistillationTransformer:
    require_modalities(meta, "sdt", 2)
    defaults = dataclasses.asdict(dims) | {"temperature": TEMPERATURE[meta.family]}
    return SelfDistillationTransformer(make_config(SDTConfig, "sdt", overrides, **defaults), meta)
