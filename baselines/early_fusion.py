"""Early fusion: concatenate the modalities' features per utterance, then one dialogue transformer.
Uses whatever modalities the data has (one is enough)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import DialogueTransformer, UtteranceEncoder


class EarlyFusion(MERCModel):
    def __init__(self, config: ModelDims, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        in_dim = sum(meta.feature_dims.values())
        self.encoder = UtteranceEncoder(in_dim, config.width, meta.n_speakers, config.dropout)
        self.context = DialogueTransformer(config.width, config.heads, config.layers, config.dropout)
        self.classifier = nn.Linear(config.width, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        features = torch.cat([batch.features[m] for m in self.modalities], dim=-1)
        hidden = self.context(self.encoder(features, batch.speakers), batch.mask)
        return ModelOutput(self.classifier(hidden), hidden)


@register_model(
    "early-fusion",
    model=EarlyFusion,
    description="concatenated features per utterance -> dialogue transformer",
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> ModelDims:
    require_modalities(meta, "early-fusion", 1)
    return make_config(ModelDims, "early-fusion", overrides, **dataclasses.asdict(dims))
