"""Graph fusion in the style of MMGCN (Hu et al., 2021), in plain torch.

One graph per dialogue over (utterance, modality) nodes: cross-modal edges join an utterance's
modality nodes; temporal edges join nodes of one modality within `window` utterances, weighted double
when the two utterances have the same speaker (speaker edges); padding has no edges. Deep GCN layers
with an initial residual (as MMGCN's GCNII-style stack) propagate over the symmetric-normalised
adjacency; an utterance's modality nodes are concatenated for the classifier. Uses whatever modalities
the data has."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.layers import Dropout, modality_encoders
from benchmark.modeling import MERCModel, ModelDims, ModelOutput, make_config, register_model


@dataclass(frozen=True)
class MMGCNConfig(ModelDims):
    gcn_layers: int = 4
    window: int = 10
    initial_residual: float = 0.1


def dialogue_graph(mask: torch.Tensor, speakers: torch.Tensor, modalities: int, window: int) -> torch.Tensor:
    """[B, M*T, M*T] normalised adjacency D^-1/2 (A + I) D^-1/2; nodes ordered modality-major."""
    batch, length = mask.shape
    position = torch.arange(length, device=mask.device).repeat(modalities)  # [N]
    modality = torch.arange(modalities, device=mask.device).repeat_interleave(length)
    real = mask.repeat(1, modalities)  # [B, N]
    speaker = speakers.repeat(1, modalities)
    same_modality = modality[:, None] == modality[None, :]
    near = (position[:, None] - position[None, :]).abs() <= window
    temporal = (same_modality & near).float() * (1.0 + (speaker[:, :, None] == speaker[:, None, :]).float())
    cross = ((position[:, None] == position[None, :]) & ~same_modality).float()
    adjacency = (temporal + cross) * (real[:, :, None] & real[:, None, :]).float()
    adjacency = adjacency * (1 - torch.eye(adjacency.shape[-1], device=mask.device)) + torch.eye(
        adjacency.shape[-1], device=mask.device
    )
    scale = adjacency.sum(-1).rsqrt()
    return scale[:, :, None] * adjacency * scale[:, None, :]


class GraphFusion(MERCModel):
    def __init__(self, config: MMGCNConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w = config.width
        self.encoders = modality_encoders(meta, w, config.dropout)
        self.gcn = nn.ModuleList(nn.Linear(w, w) for _ in range(config.gcn_layers))
        self.dropout = Dropout(config.dropout)
        self.readout = nn.Linear(2 * w * len(self.modalities), w)
        self.classifier = nn.Linear(w, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        length = batch.mask.shape[1]
        initial = torch.cat(
            [self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities], dim=1
        )
        graph = dialogue_graph(batch.mask, batch.speakers, len(self.modalities), self.config.window)
        alpha = self.config.initial_residual
        hidden = initial
        for layer in self.gcn:
            hidden = self.dropout(torch.relu(layer((1 - alpha) * graph @ hidden + alpha * initial)))
        nodes = torch.cat([initial, hidden], dim=-1).split(length, dim=1)  # one [B, T, 2w] per modality
        fused = torch.relu(self.readout(torch.cat(nodes, dim=-1)))
        return ModelOutput(self.classifier(fused), fused)


@register_model(
    "mmgcn", description="MMGCN-style graph over utterances x modalities, speaker and temporal edges"
)
def build(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> GraphFusion:
    require_modalities(meta, "mmgcn", 1)
    return GraphFusion(make_config(MMGCNConfig, "mmgcn", overrides, **dataclasses.asdict(dims)), meta)
