"""Building blocks shared by SUMMER, its teacher and the baselines, so rivals differ only in fusion.

Design choices of ../shared/design/summer.md ("Input encoders", "Context + SDMoE") live here once.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from benchmark.data.schema import DatasetMeta


def sinusoidal_positions(length: int, width: int, device: torch.device | None = None) -> torch.Tensor:
    """[length, width] fixed sinusoidal encoding of the utterance index (Vaswani et al.)."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    frequency = torch.exp(
        torch.arange(0, width, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / width)
    )
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


class UtteranceEncoder(nn.Module):
    """[choice, SDT-style] per-modality projection to the common width (a kernel-1 convolution is a
    linear layer), plus a learned speaker embedding and sinusoidal positions over the utterance index."""

    def __init__(self, in_dim: int, width: int, n_speakers: int, dropout: float) -> None:
        super().__init__()
        self.projection = nn.Linear(in_dim, width)
        self.speaker = nn.Embedding(max(n_speakers, 1), width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, features: torch.Tensor, speakers: torch.Tensor) -> torch.Tensor:
        hidden = self.projection(features) + self.speaker(speakers)
        hidden = hidden + sinusoidal_positions(hidden.shape[1], hidden.shape[2], hidden.device)
        return self.dropout(hidden)


class FeedForward(nn.Module):
    """The dense position-wise FFN (d -> d_ff -> d). Returns (output, auxiliary loss) like the MoE it
    stands in for, so the two are interchangeable inside `ContextLayer`."""

    def __init__(self, width: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, width)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(x), x.new_zeros(())


class ContextLayer(nn.Module):
    """Post-norm transformer layer over the dialogue. Queries come from `x`; keys and values from
    `context` (itself for intra-modal self-attention, another modality for cross-modal attention).
    Padding is excluded through the key-padding mask, so real utterances never see padded ones."""

    def __init__(self, width: int, heads: int, dropout: float, ffn: nn.Module) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.ffn = ffn
        self.norm_attention = nn.LayerNorm(width)
        self.norm_ffn = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        source = x if context is None else context
        attended, _ = self.attention(x, source, source, key_padding_mask=~mask, need_weights=False)
        x = self.norm_attention(x + self.dropout(attended))
        transformed, aux_loss = self.ffn(x, mask)
        return self.norm_ffn(x + self.dropout(transformed)), aux_loss


class DialogueTransformer(nn.Module):
    """A stack of self-attention `ContextLayer`s with dense FFNs: the context model of the baselines."""

    def __init__(self, width: int, heads: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            ContextLayer(width, heads, dropout, FeedForward(width, 2 * width, dropout)) for _ in range(layers)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x, _ = layer(x, mask)
        return x


def modality_encoders(meta: DatasetMeta, width: int, dropout: float) -> nn.ModuleDict:
    """One `UtteranceEncoder` per modality the dataset has, keyed by modality."""
    return nn.ModuleDict(
        {m: UtteranceEncoder(meta.feature_dims[m], width, meta.n_speakers, dropout) for m in meta.modalities}
    )
