"""Low-rank Multimodal Fusion (Liu et al., 2018): the TFN tensor product computed through rank-R
modality-specific factors, sum over r of the elementwise product over modalities of [h_m; 1] W_m^(r).
Uses whatever modalities the data has."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from baselines.common import ModalityContexts, require_modalities
from baselines.tfn import with_one
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.search_space import IntRange


@dataclass(frozen=True)
class LMFConfig(ModelDims):
    rank: int = 4


class LowRankFusion(MERCModel):
    def __init__(self, config: LMFConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.contexts = ModalityContexts(meta, config)
        self.factors = nn.ParameterDict(
            {
                m: nn.Parameter(
                    torch.randn(config.rank, config.width + 1, config.width) / (config.width + 1) ** 0.5
                )
                for m in meta.modalities
            }
        )
        self.rank_weights = nn.Parameter(torch.full((config.rank,), 1.0 / config.rank))
        self.bias = nn.Parameter(torch.zeros(config.width))
        self.classifier = nn.Linear(config.width, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        hidden = self.contexts(batch)
        product = None
        for m in self.contexts.modalities:
            projected = torch.einsum("btd,rdo->btro", with_one(hidden[m]), self.factors[m])
            product = projected if product is None else product * projected
        fused = torch.einsum("btro,r->bto", product, self.rank_weights) + self.bias
        return ModelOutput(self.classifier(fused), fused)


# [choice] what lmf's authors left to the user (docs/model.md, "Search spaces")
SEARCH_SPACE = {"rank": IntRange(1, 16, source="LMF's paper tries ranks 1 to 16")}


@register_model(
    "lmf",
    model=LowRankFusion,
    description="Low-rank Multimodal Fusion: modality-specific rank-R factors of the TFN tensor",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> LMFConfig:
    require_modalities(meta, "lmf", 1)
    return make_config(LMFConfig, "lmf", overrides, **dataclasses.asdict(dims))
