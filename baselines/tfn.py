"""Tensor Fusion Network (Zadeh et al., 2017): per utterance, the outer product of [h_m; 1] over the
modalities, so unimodal, bimodal and trimodal interactions are all explicit. Each modality is first
projected to `fusion_width` so the product stays small ((fusion_width + 1) ** modalities terms).
Uses whatever modalities the data has."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from baselines.common import ModalityContexts, require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import Dropout
from benchmark.models.search_space import IntRange


@dataclass(frozen=True)
class TFNConfig(ModelDims):
    fusion_width: int = 16


def with_one(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, x.new_ones(*x.shape[:-1], 1)], dim=-1)


class TensorFusion(MERCModel):
    def __init__(self, config: TFNConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.contexts = ModalityContexts(meta, config)
        self.reduce = nn.ModuleDict(
            {m: nn.Linear(config.width, config.fusion_width) for m in meta.modalities}
        )
        product = (config.fusion_width + 1) ** len(meta.modalities)
        self.post = nn.Sequential(Dropout(config.dropout), nn.Linear(product, config.width), nn.ReLU())
        self.classifier = nn.Linear(config.width, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        hidden = self.contexts(batch)
        fused = None
        for m in self.contexts.modalities:
            factor = with_one(self.reduce[m](hidden[m]))
            fused = factor if fused is None else (fused[..., :, None] * factor[..., None, :]).flatten(-2)
        fused_hidden = self.post(fused)
        return ModelOutput(self.classifier(fused_hidden), fused_hidden)


# [choice] what tfn's authors left to the user (docs/model.md, "Search spaces")
SEARCH_SPACE = {"fusion_width": IntRange(4, 24, source="our 16, a [choice]; the tensor grows as its cube")}


@register_model(
    "tfn",
    model=TensorFusion,
    description="Tensor Fusion Network: outer product of (h, 1) across modalities",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> TFNConfig:
    require_modalities(meta, "tfn", 1)
    return make_config(TFNConfig, "tfn", overrides, **dataclasses.asdict(dims))
