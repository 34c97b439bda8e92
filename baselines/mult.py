"""Multimodal Transformer (Tsai et al., 2019) as its authors' code builds its core (yaohungt/
Multimodal-Transformer @ a670936, `src/models.py`, `modules/transformer.py`), labelling every utterance of
a dialogue; checked against that code by `scripts/crosscheck` (results/reference/crosscheck.md).

- Inputs: per modality a bias-free projection to the width d (MulT's kernel-1 convolution); text is
  dropped out before it.
- Cross-modal transformer n -> m for every ordered pair: x_m and x_n scaled by sqrt(d), plus sinusoidal
  positions, dropped out; `layers` pre-norm layers, each x + Attention(LN(x), LN(x_n)) then
  x + FFN(LN(x)) with a ReLU FFN of width 4d, one LayerNorm shared by queries, keys and values; a final
  LayerNorm.
- The two streams into each target are concatenated (2d) and pass a self-attention transformer of the
  same kind with max(layers, 3) layers; the targets are concatenated (6d for three modalities).
- Output: h + W2 dropout(ReLU(W1 h)), then a linear classifier, per utterance.

[choice] Attention ignores padded utterances (a key-padding mask); MulT's code, written for fixed-length
sequences, has none. Needs at least two modalities.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from itertools import permutations
from typing import Any

import torch
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import Dropout

MEMORY_LAYERS = 3  # src/models.py: the self-attention over the joined streams has at least 3 layers


def fairseq_positions(mask: torch.Tensor, width: int) -> torch.Tensor:
    """[B, T, width] MulT's sinusoidal embedding (fairseq's): positions 1.. over real utterances,
    [sin | cos] halves with frequencies 10000^(-i / (width/2 - 1)); padding gets zeros."""
    half = width // 2
    frequency = torch.exp(
        torch.arange(half, dtype=torch.float32, device=mask.device) * -(math.log(10000) / (half - 1))
    )
    angles = mask.cumsum(dim=1).float()[..., None] * frequency
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    if width % 2:
        table = torch.cat([table, torch.zeros_like(table[..., :1])], dim=-1)
    return table * mask[..., None]


class PreNormLayer(nn.Module):
    """x + Attention(LN(x), LN(source)); then x + FFN(LN(x)), FFN = W2 dropout(ReLU(W1 .)), width 4d."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm_attention = nn.LayerNorm(width)
        self.norm_ffn = nn.LayerNorm(width)
        self.ffn = nn.Sequential(
            nn.Linear(width, 4 * width), nn.ReLU(), Dropout(dropout), nn.Linear(4 * width, width)
        )
        self.dropout = Dropout(dropout)
        # MulT's initialisation: Xavier-uniform weights and zero biases for the feed-forward layers and
        # the attention's output projection (torch's default init for those differs)
        for linear in (self.ffn[0], self.ffn[3], self.attention.out_proj):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    def forward(
        self, x: torch.Tensor, source: tuple[torch.Tensor, torch.Tensor] | None, mask: torch.Tensor
    ) -> torch.Tensor:
        query = self.norm_attention(x)
        keys, values = (query, query) if source is None else (self.norm_attention(s) for s in source)
        attended, _ = self.attention(query, keys, values, key_padding_mask=~mask, need_weights=False)
        x = x + self.dropout(attended)
        return x + self.dropout(self.ffn(self.norm_ffn(x)))


class CrossmodalTransformer(nn.Module):
    """MulT's TransformerEncoder: self-attention when `source` is None, else cross-modal."""

    def __init__(self, width: int, heads: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.scale = math.sqrt(width)
        self.layers = nn.ModuleList(PreNormLayer(width, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor, source: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        positions = fairseq_positions(mask, x.shape[-1])
        x = self.dropout(self.scale * x + positions)
        if source is not None:  # keys and values: the same input, dropped out apart, as MulT does
            source = tuple(self.dropout(self.scale * source + positions) for _ in range(2))
        for layer in self.layers:
            x = layer(x, source, mask)
        return self.norm(x)


class MultimodalTransformer(MERCModel):
    def __init__(self, config: ModelDims, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w, sources = config.width, len(meta.modalities) - 1
        self.projections = nn.ModuleDict(
            {m: nn.Linear(meta.feature_dims[m], w, bias=False) for m in self.modalities}
        )
        self.crossmodal = nn.ModuleDict(
            {
                f"{n}->{m}": CrossmodalTransformer(w, config.heads, config.layers, config.dropout)
                for m, n in permutations(self.modalities, 2)
            }
        )
        self.memory = nn.ModuleDict(
            {
                m: CrossmodalTransformer(
                    sources * w, config.heads, max(config.layers, MEMORY_LAYERS), config.dropout
                )
                for m in self.modalities
            }
        )
        joined = len(self.modalities) * sources * w
        self.residual = nn.Sequential(
            nn.Linear(joined, joined), nn.ReLU(), Dropout(config.dropout), nn.Linear(joined, joined)
        )
        self.classifier = nn.Linear(joined, meta.n_classes)
        self.dropout = Dropout(config.dropout)

    def forward(self, batch: Batch) -> ModelOutput:
        mask = batch.mask
        projected = {
            m: self.projections[m](self.dropout(x) if m == "text" else x) for m, x in batch.features.items()
        }
        targets = []
        for m in self.modalities:
            streams = [
                self.crossmodal[f"{n}->{m}"](projected[m], projected[n], mask)
                for n in self.modalities
                if n != m
            ]
            targets.append(self.memory[m](torch.cat(streams, dim=-1), None, mask))
        joined = torch.cat(targets, dim=-1)
        fused = joined + self.residual(joined)
        return ModelOutput(self.classifier(fused), fused)


@register_model(
    "mult",
    model=MultimodalTransformer,
    description="Multimodal Transformer: directional cross-modal attention between every pair",
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> ModelDims:
    require_modalities(meta, "mult", 2)
    return make_config(ModelDims, "mult", overrides, **dataclasses.asdict(dims))
