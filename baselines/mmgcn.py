"""MMGCN (Hu et al., 2021) as its authors' code (hujingwen6666/MMGCN @ 85732d9, `run.sh`: LSTM base,
graph type MMGCN, `concat_subsequently`) builds it; checked against that code by `scripts/crosscheck`
(results/reference/crosscheck.md).

- Inputs: text through a linear layer to 2d and a two-layer bidirectional LSTM of d per direction; audio
  and visual through a linear layer to 2d. A speaker embedding (2d) is added to the text nodes only.
- One graph per dialogue over (utterance, modality) nodes. Within a modality every pair of utterances
  (itself included) is joined with the angular similarity w(x, y) = 1 - arccos(0.99999 cos(x, y)) / pi;
  across modalities, an utterance's nodes are joined with the same similarity; A is normalised as
  D^-1/2 A D^-1/2 over the whole graph. The similarities are computed from the node features, with
  gradient, as in the authors' code.
- GCNII layers (Chen et al., 2020; the "variant" form): h0 = ReLU(W0 dropout(x)) of width d, and for
  l = 1..L: h = ReLU(theta_l [A h; h0] W_l + (1 - theta_l) ((1 - alpha) A h + alpha h0)) with dropout
  before each layer, theta_l = log(lambda / l + 1), lambda = 0.5, alpha = 0.1; L = 64 ([MMGCN's code]:
  `model.py` passes nlayers=64 to MM_GCN whatever `--Deep_GCN_nlayers` says).
- Readout: per modality [dropout(x); h] (3d), concatenated over modalities, dropout, ReLU, linear.

[choice] The text LSTM runs on packed sequences; the authors' runs it on the padded batch, so its
backward direction reads the padding before a dialogue's last utterance and a prediction depends on the
batch it is in. Uses whatever modalities the data has.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import Dropout
from benchmark.models.search_space import FloatRange, IntRange


@dataclass(frozen=True)
class MMGCNConfig(ModelDims):
    gcn_layers: int = 64
    lamda: float = 0.5
    alpha: float = 0.1


def angular_similarity(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1 - arccos(0.99999 cos(x, y)) / pi over the last dimension, broadcast (MMGCN's edge weight). A zero
    vector (padding) has cosine 0 instead of NaN, which would reach the gradient through `where`. Computed
    in float32: under bfloat16 autocast a cosine of 1 can round above 1/0.99999, where arccos is NaN."""
    x, y = x.float(), y.float()
    return angle_weight((x * y).sum(-1) / (x.norm(dim=-1) * y.norm(dim=-1)).clamp_min(1e-12))


def pairwise_angular_similarity(x: torch.Tensor) -> torch.Tensor:
    """`angular_similarity` of every pair of utterances of x [B, T, d] -> [B, T, T], its dot products taken
    by one batched product rather than over a broadcast [B, T, T, d] tensor. The product runs outside
    autocast: a bfloat16 product rounds a self-similarity above 1/0.99999, where arccos is NaN."""
    x = x.float()
    norm = x.norm(dim=-1)
    with torch.autocast(x.device.type, enabled=False):
        dots = x @ x.transpose(1, 2)
    return angle_weight(dots / (norm[:, :, None] * norm[:, None, :]).clamp_min(1e-12))


def angle_weight(cosine: torch.Tensor) -> torch.Tensor:
    return 1 - torch.acos(cosine * 0.99999) / math.pi


@dataclass(frozen=True)
class DialogueGraph:
    """The normalised adjacency D^-1/2 A D^-1/2 of each dialogue's graph, kept as its nonzero blocks: the
    graph's nodes are modality-major ([B, M*T]); an edge joins two utterances of one modality (`within`,
    [B, M, T, T]) or one utterance's nodes across modalities (`across`, [B, M, M, T], zero where m = n).
    A product with the dense [B, M*T, M*T] matrix would multiply its (M^2 - M) T^2 zeros of the off-diagonal
    blocks, which are diagonal: here they cost M^2 T products per feature instead."""

    within: torch.Tensor
    across: torch.Tensor

    @classmethod
    def of(cls, nodes: list[torch.Tensor], mask: torch.Tensor) -> DialogueGraph:
        """Each dialogue's graph over the modality-major `nodes` ([B, T, d] each); padding has no edge."""
        real = mask[:, :, None] & mask[:, None, :]
        within = torch.stack([torch.where(real, pairwise_angular_similarity(x), 0.0) for x in nodes], 1)
        across = torch.stack(
            [
                torch.stack(
                    [
                        torch.zeros_like(mask, dtype=within.dtype)
                        if m == n
                        else torch.where(mask, angular_similarity(x, y), 0.0)
                        for n, y in enumerate(nodes)
                    ],
                    1,
                )
                for m, x in enumerate(nodes)
            ],
            1,
        )
        degree = within.sum(-1) + across.sum(2)  # [B, M, T]
        scale = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), 0.0)
        within = scale[..., :, None] * within * scale[..., None, :]
        across = scale[:, :, None, :] * across * scale[:, None, :, :]
        return cls(within, across)

    def spread(self, hidden: torch.Tensor) -> torch.Tensor:
        """A h for modality-major `hidden` [B, M*T, d]."""
        batch, modalities, length = self.within.shape[:3]
        nodes = hidden.view(batch, modalities, length, -1)
        spread = self.within @ nodes + (self.across[..., None] * nodes[:, None]).sum(2)
        return spread.view_as(hidden)


class GCNIILayer(nn.Module):
    """h' = theta [A h; h0] W + (1 - theta) ((1 - alpha) A h + alpha h0); theta = log(lambda / l + 1).

    Computed as A h W_A + h0 W_0 with the identity mappings folded into the halves of W = [W_1; W_2]:
    W_A = theta W_1 + (1 - theta)(1 - alpha) I, W_0 = theta W_2 + (1 - theta) alpha I; the same sum,
    two products and an add where the formula takes a concatenation, a product and five scalings."""

    def __init__(self, width: int, depth: int, lamda: float, alpha: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(
            torch.empty(2 * width, width).uniform_(-1 / math.sqrt(width), 1 / math.sqrt(width))
        )
        self.theta = math.log(lamda / depth + 1)
        self.alpha = alpha

    def forward(self, hidden: torch.Tensor, graph: DialogueGraph, initial: torch.Tensor) -> torch.Tensor:
        spread = graph.spread(hidden)
        width = hidden.shape[-1]
        identity = torch.eye(width, dtype=self.weight.dtype, device=self.weight.device)
        spread_weight, initial_weight = (self.theta * self.weight).split(width)
        spread_weight = spread_weight + (1 - self.theta) * (1 - self.alpha) * identity
        initial_weight = initial_weight + (1 - self.theta) * self.alpha * identity
        return torch.addmm(
            initial.flatten(0, -2) @ initial_weight, spread.flatten(0, -2), spread_weight
        ).view_as(hidden)


class GraphFusion(MERCModel):
    def __init__(self, config: MMGCNConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w = config.width
        self.inputs = nn.ModuleDict({m: nn.Linear(meta.feature_dims[m], 2 * w) for m in self.modalities})
        self.text_context = (
            nn.LSTM(2 * w, w, num_layers=2, bidirectional=True, dropout=config.dropout, batch_first=True)
            if "text" in self.modalities
            else None
        )
        self.speaker = nn.Embedding(max(meta.n_speakers, 1), 2 * w)
        self.first = nn.Linear(2 * w, w)
        self.layers = nn.ModuleList(
            GCNIILayer(w, depth, config.lamda, config.alpha) for depth in range(1, config.gcn_layers + 1)
        )
        self.dropout = Dropout(config.dropout)
        self.classifier = nn.Linear(3 * w * len(self.modalities), meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        mask, length = batch.mask, batch.mask.shape[1]
        nodes = []
        for m in self.modalities:
            x = self.inputs[m](batch.features[m])
            if m == "text":
                packed = pack_padded_sequence(x, batch.lengths.cpu(), batch_first=True, enforce_sorted=False)
                x = pad_packed_sequence(self.text_context(packed)[0], batch_first=True, total_length=length)[
                    0
                ]
                x = x + self.speaker(batch.speakers)
            nodes.append(x * mask[:, :, None])
        graph = DialogueGraph.of(nodes, mask)
        features = self.dropout(torch.cat(nodes, dim=1))  # [B, M*T, 2w]
        initial = torch.relu(self.first(features))
        hidden = initial
        for layer in self.layers:
            hidden = torch.relu(layer(self.dropout(hidden), graph, initial))
        readout = torch.cat([features, self.dropout(hidden)], dim=-1).split(length, dim=1)
        fused = torch.relu(self.dropout(torch.cat(readout, dim=-1)))
        return ModelOutput(self.classifier(fused), fused)


# [choice] what mmgcn's authors left to the user (docs/model.md, "Search spaces")
SEARCH_SPACE = {
    "lamda": FloatRange(0.1, 0.9, source="GCNII's λ; MMGCN's code 0.5"),
    "alpha": FloatRange(0.05, 0.5, source="GCNII's α; MMGCN's code 0.1"),
    "gcn_layers": IntRange(4, 64, source="MMGCN's code 64 (its paper tries 4 to 64)"),
}


@register_model(
    "mmgcn",
    model=GraphFusion,
    description="MMGCN: angular-similarity graph over utterances x modalities, deep GCNII",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> MMGCNConfig:
    require_modalities(meta, "mmgcn", 1)
    return make_config(MMGCNConfig, "mmgcn", overrides, **dataclasses.asdict(dims))
