"""Late fusion: one dialogue model per modality, their logits averaged with learned (softmax) weights.
Uses whatever modalities the data has (one is enough)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from baselines.common import ModalityContexts, require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model


class LateFusion(MERCModel):
    def __init__(self, config: ModelDims, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.contexts = ModalityContexts(meta, config)
        self.heads = nn.ModuleDict({m: nn.Linear(config.width, meta.n_classes) for m in meta.modalities})
        self.mixing = nn.Parameter(torch.zeros(len(meta.modalities)))

    def forward(self, batch: Batch) -> ModelOutput:
        hidden = self.contexts(batch)
        logits = torch.stack([self.heads[m](hidden[m]) for m in self.contexts.modalities], dim=-1)
        weights = self.mixing.softmax(dim=0)
        fused_hidden = torch.stack(list(hidden.values()), dim=-1) @ weights
        return ModelOutput(logits @ weights, fused_hidden)


@register_model(
    "late-fusion",
    model=LateFusion,
    description="one dialogue model per modality, learned weighted average of logits",
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> ModelDims:
    require_modalities(meta, "late-fusion", 1)
    return make_config(ModelDims, "late-fusion", overrides, **dataclasses.asdict(dims))
