"""Multimodal Transformer (Tsai et al., 2019): directional cross-modal attention n -> m for every
ordered modality pair, the streams into each target concatenated and passed through a self-attention
transformer, then all targets concatenated. Needs at least two modalities."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from itertools import permutations
from typing import Any

import torch
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.layers import DialogueTransformer, dense_layer, modality_encoders
from benchmark.modeling import MERCModel, ModelDims, ModelOutput, make_config, register_model


class MultimodalTransformer(MERCModel):
    def __init__(self, config: ModelDims, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w = config.width
        self.encoders = modality_encoders(meta, w, config.dropout)
        self.crossmodal = nn.ModuleDict(
            {
                f"{n}->{m}": dense_layer(w, config.heads, config.dropout)
                for n, m in permutations(self.modalities, 2)
            }
        )
        sources = len(self.modalities) - 1
        self.merge = nn.ModuleDict({m: nn.Linear(sources * w, w) for m in self.modalities})
        self.self_attention = nn.ModuleDict(
            {m: DialogueTransformer(w, config.heads, config.layers, config.dropout) for m in self.modalities}
        )
        self.project = nn.Linear(len(self.modalities) * w, w)
        self.classifier = nn.Linear(w, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        encoded = {m: self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities}
        targets = []
        for m in self.modalities:
            streams = [
                self.crossmodal[f"{n}->{m}"](encoded[m], batch.mask, encoded[n])[0]
                for n in self.modalities
                if n != m
            ]
            targets.append(self.self_attention[m](self.merge[m](torch.cat(streams, dim=-1)), batch.mask))
        fused = torch.relu(self.project(torch.cat(targets, dim=-1)))
        return ModelOutput(self.classifier(fused), fused)


@register_model(
    "mult", description="Multimodal Transformer: directional cross-modal attention between every pair"
)
def build(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> MultimodalTransformer:
    require_modalities(meta, "mult", 2)
    return MultimodalTransformer(make_config(ModelDims, "mult", overrides, **dataclasses.asdict(dims)), meta)
