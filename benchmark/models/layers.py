"""Neutral building blocks shared by SUMMER, its teacher and the baselines, so rivals differ only in
fusion. Nothing here belongs to one model: editing a model never edits another through this module.
The input encoder follows docs/model.md ("Input"); the rest is generic transformer machinery.
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


class Dropout(nn.Module):
    """Inverted dropout drawn with `torch.rand`. On the CPU, torch 2.13's `bernoulli_` (behind
    `nn.Dropout`) is about 4x slower than `rand`, which made dropout a tenth of an epoch at paper width."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * torch.rand_like(x).ge_(self.p).div_(1 - self.p)


class UtteranceEncoder(nn.Module):
    """[choice, SDT-style] per-modality projection to the common width (a kernel-1 convolution is a
    linear layer), plus a learned speaker embedding and sinusoidal positions over the utterance index."""

    def __init__(self, in_dim: int, width: int, n_speakers: int, dropout: float) -> None:
        super().__init__()
        self.projection = nn.Linear(in_dim, width)
        self.speaker = nn.Embedding(max(n_speakers, 1), width)
        self.dropout = Dropout(dropout)

    def forward(self, features: torch.Tensor, speakers: torch.Tensor) -> torch.Tensor:
        hidden = self.projection(features) + self.speaker(speakers)
        hidden = hidden + sinusoidal_positions(hidden.shape[1], hidden.shape[2], hidden.device)
        return self.dropout(hidden)


class FeedForward(nn.Module):
    """The dense position-wise FFN (d -> d_ff -> d) over packed utterances [N, d]. Returns (output,
    auxiliary loss), so any mixture with a balance term can take its place inside `ContextLayer`."""

    def __init__(self, width: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(), Dropout(dropout), nn.Linear(hidden, width)
        )

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(tokens), tokens.new_zeros(())


class ContextLayer(nn.Module):
    """Post-norm transformer layer over the dialogue. Queries come from `x`; keys and values from
    `context` (itself for intra-modal self-attention, another modality for cross-modal attention).
    Padding is excluded through the key-padding mask, so real utterances never see padded ones.

    `ffn` None makes an attention-only block (attention, residual, norm). `attention_dropout` is the
    dropout on the attention weights, `dropout` when not given.

    Every position-wise step (projections, FFN, norms) runs on the real utterances only, packed
    to [N, d]: a third of an IEMOCAP batch is padding. Only the attention scores need the [B, T] layout.
    Padded positions of the output are zero."""

    def __init__(
        self,
        width: int,
        heads: int,
        dropout: float,
        ffn: nn.Module | None,
        attention_dropout: float | None = None,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key_value = nn.Linear(width, 2 * width)
        self.attended = nn.Linear(width, width)
        self.ffn = ffn
        self.norm_attention = nn.LayerNorm(width)
        self.norm_ffn = nn.LayerNorm(width) if ffn is not None else None
        self.attention_dropout = Dropout(dropout if attention_dropout is None else attention_dropout)
        self.dropout = Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, width = x.shape
        real = mask.flatten().nonzero().squeeze(1)
        rows, steps = mask.nonzero(as_tuple=True)  # the same utterances, in the same order
        tokens = x.flatten(0, 1).index_select(0, real)
        source = tokens if context is None else context.flatten(0, 1).index_select(0, real)
        head_width = width // self.heads

        def split_heads(packed: torch.Tensor) -> torch.Tensor:  # [N, d] -> [B, heads, T, d / heads]
            # written straight into the head-major layout the batched matmuls want: no transposed copy
            padded = packed.new_zeros(batch, self.heads, length, head_width)
            padded.permute(0, 2, 1, 3).index_put_((rows, steps), packed.view(-1, self.heads, head_width))
            return padded

        keys, values = self.key_value(source).chunk(2, dim=-1)
        query = split_heads(self.query(tokens) / math.sqrt(head_width))
        scores = (query @ split_heads(keys).transpose(-1, -2)).masked_fill(
            ~mask[:, None, None, :], float("-inf")
        )
        weights = self.attention_dropout(scores.softmax(dim=-1))
        attended = (weights @ split_heads(values)).permute(0, 2, 1, 3)[rows, steps].flatten(1)
        tokens = self.norm_attention(tokens + self.dropout(self.attended(attended)))
        aux_loss = tokens.new_zeros(())
        if self.ffn is not None:
            transformed, aux_loss = self.ffn(tokens)
            tokens = self.norm_ffn(tokens + self.dropout(transformed))
        return x.new_zeros(batch * length, width).index_copy_(0, real, tokens).view_as(x), aux_loss


def dense_layer(width: int, heads: int, dropout: float) -> ContextLayer:
    """A `ContextLayer` with the dense FFN (d_ff = 2d): the transformer layer of the baselines."""
    return ContextLayer(width, heads, dropout, FeedForward(width, 2 * width, dropout))


class DialogueTransformer(nn.Module):
    """A stack of self-attention `dense_layer`s: the context model of the baselines and the teacher."""

    def __init__(self, width: int, heads: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(dense_layer(width, heads, dropout) for _ in range(layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x, _ = layer(x, mask)
        return x


def modality_encoders(meta: DatasetMeta, width: int, dropout: float) -> nn.ModuleDict:
    """One `UtteranceEncoder` per modality the dataset has, keyed by modality."""
    return nn.ModuleDict(
        {m: UtteranceEncoder(meta.feature_dims[m], width, meta.n_speakers, dropout) for m in meta.modalities}
    )
