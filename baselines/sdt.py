"""Self-Distillation Transformer (Ma et al., 2023), as its authors' code (butterfliesss/SDT @ 60af921,
`model.py`) builds and trains it; checked against that code by `scripts/crosscheck` (same parameter
count at every width, results/reference/crosscheck.md).

- Input: per modality a bias-free projection to the width (SDT's kernel-1 convolution); one speaker
  embedding table shared by all modalities, with a padding row; sinusoidal positions.
- Intra- and inter-modal transformers, one per ordered pair (n -> m) including n = m: queries from the
  target m, keys and values from the source n, both with positions and speakers added and dropped out.
  Each layer is SDT's: attention, dropout, residual on the target; then a pre-norm GELU feed-forward of
  width d (d_ff = d) with its own residual, `x + FFN(LN(x))`; a second layer would normalise its input.
  SDT's first layer also holds that LayerNorm unused: ours has none, 2d parameters fewer per encoder
  (18,432 at width 1024 with the 9 encoders of three modalities), the one parameter difference.
- Hierarchical gated fusion. Level 1, every transformer output h: sigmoid(W h) * h (W bias-free; on MELD
  W is the identity and frozen, as SDT's code does), then per target m the three gated streams are
  concatenated and reduced, r_m = W_m [h_mm; h_nm; h_km] + b. Level 2: a = softmax over modalities of
  W r_m (per feature, W shared and bias-free), fused = sum_m a_m * r_m.
- Self-distillation: per modality a head ReLU -> dropout -> linear. Loss
  L = CE(fused) + gamma_ce * sum_m CE(head_m) + gamma_kd * sum_m KL(softmax(z_fused / T) || softmax(z_m / T)),
  the KL averaged over real utterances without a T^2 factor, and the fused teacher not detached: the
  modality heads pull the fused prediction too, as in SDT's `train.py`. The modality cross-entropies
  are the trainer's, so they carry the same class weights as the fused one.

Needs the three modalities' pairs, so at least two modalities.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import Dropout, sinusoidal_positions
from benchmark.models.search_space import FloatRange

# Self-distillation temperature per dataset family: SDT's published settings (exec_iemocap.sh, exec_meld.sh).
TEMPERATURE = {"iemocap": 1.0, "meld": 8.0}


@dataclass(frozen=True)
class SDTConfig(ModelDims):
    temperature: float
    frozen_unimodal_gates: bool  # SDT's code fixes the level-1 gates to the identity on MELD
    gamma_modality_ce: float = 1.0
    gamma_self_distillation: float = 1.0


class SDTLayer(nn.Module):
    """One layer of SDT's TransformerEncoder: queries from `target`, keys and values from `source`."""

    def __init__(self, width: int, heads: int, dropout: float, first: bool) -> None:
        super().__init__()
        self.heads = heads
        self.key, self.value, self.query = (nn.Linear(width, width) for _ in range(3))
        self.output = nn.Linear(width, width)
        # on the target of every layer but the first; SDT's first layer holds one it never uses
        self.norm = None if first else nn.LayerNorm(width, eps=1e-6)
        self.ffn_norm = nn.LayerNorm(width, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(width, width), nn.GELU(approximate="tanh"), Dropout(dropout))
        self.ffn_out = nn.Sequential(nn.Linear(width, width), Dropout(dropout))
        self.attention_dropout = Dropout(dropout)
        self.dropout = Dropout(dropout)

    def forward(self, target: torch.Tensor, source: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            target = self.norm(target)
        source = target if source is None else source  # self-attention reads the (normalised) target

        def split(x: torch.Tensor) -> torch.Tensor:  # [B, T, d] -> [B, heads, T, d / heads]
            return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

        query = split(self.query(target))
        query = query / math.sqrt(query.shape[-1])
        scores = (query @ split(self.key(source)).transpose(-1, -2)).masked_fill(
            ~mask[:, None, None, :], -1e10
        )
        weights = self.attention_dropout(scores.softmax(dim=-1))
        attended = (weights @ split(self.value(source))).transpose(1, 2).flatten(2)
        hidden = self.dropout(self.output(attended)) + target
        return hidden + self.ffn_out(self.ffn(self.ffn_norm(hidden)))


class SDTEncoder(nn.Module):
    """SDT's TransformerEncoder for one (source -> target) pair: positions and speakers added to both
    inputs, dropout, then the layers."""

    def __init__(self, width: int, heads: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(SDTLayer(width, heads, dropout, first=i == 0) for i in range(layers))
        self.dropout = Dropout(dropout)

    def forward(
        self,
        target: torch.Tensor,
        source: torch.Tensor | None,
        mask: torch.Tensor,
        position_speaker: torch.Tensor,
    ) -> torch.Tensor:
        target = self.dropout(target + position_speaker)
        source = None if source is None else self.dropout(source + position_speaker)
        for layer in self.layers:
            target = layer(target, source, mask)
        return target


class UnimodalGate(nn.Module):
    """sigmoid(W h) * h, W bias-free; the identity and frozen when `frozen`."""

    def __init__(self, width: int, frozen: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width, bias=False)
        if frozen:
            with torch.no_grad():
                self.linear.weight.copy_(torch.eye(width))
            self.linear.weight.requires_grad_(False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(hidden)) * hidden


class SelfDistillationTransformer(MERCModel):
    def __init__(self, config: SDTConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        self.n_speakers = meta.n_speakers
        w, m = config.width, meta.modalities
        self.projections = nn.ModuleDict({k: nn.Linear(meta.feature_dims[k], w, bias=False) for k in m})
        self.speaker = nn.Embedding(meta.n_speakers + 1, w, padding_idx=meta.n_speakers)
        pairs = [f"{n}->{t}" for t in m for n in (t, *(k for k in m if k != t))]  # target's own first
        self.encoders = nn.ModuleDict(
            {p: SDTEncoder(w, config.heads, config.layers, config.dropout) for p in pairs}
        )
        self.unimodal_gates = nn.ModuleDict({p: UnimodalGate(w, config.frozen_unimodal_gates) for p in pairs})
        self.reduce = nn.ModuleDict({t: nn.Linear(len(m) * w, w) for t in m})
        self.multimodal_gate = nn.Linear(w, w, bias=False)
        self.heads = nn.ModuleDict(
            {t: nn.Sequential(nn.ReLU(), Dropout(config.dropout), nn.Linear(w, meta.n_classes)) for t in m}
        )
        self.classifier = nn.Linear(w, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        mask = batch.mask
        speakers = batch.speakers.masked_fill(~mask, self.n_speakers)  # padding row: a zero vector
        position_speaker = self.speaker(speakers) + sinusoidal_positions(
            mask.shape[1], self.config.width, mask.device
        )
        projected = {k: self.projections[k](batch.features[k]) for k in self.modalities}
        reduced = {}
        for target in self.modalities:
            streams = [
                self.unimodal_gates[p](
                    self.encoders[p](
                        projected[target], None if n == target else projected[n], mask, position_speaker
                    )
                )
                for p, n in ((p, p.split("->")[0]) for p in self.encoders if p.endswith(f"->{target}"))
            ]
            reduced[target] = self.reduce[target](torch.cat(streams, dim=-1))
        stacked = torch.stack(list(reduced.values()), dim=-2)  # [B, T, M, w]
        fused = (self.multimodal_gate(stacked).softmax(dim=-2) * stacked).sum(dim=-2)
        logits = self.classifier(fused)
        head_logits = {m: self.heads[m](hidden) for m, hidden in reduced.items()}
        return ModelOutput(
            logits,
            fused,
            {"self_distillation": self._self_distillation(mask, logits, head_logits)},
            aux_logits={
                f"modality_ce_{m}": (self.config.gamma_modality_ce, head) for m, head in head_logits.items()
            },
        )

    def _self_distillation(self, mask: torch.Tensor, logits: torch.Tensor, heads: dict) -> torch.Tensor:
        t = self.config.temperature
        # not detached, as SDT's train.py; in log space, so a teacher probability that underflows to 0
        # has a finite gradient (SDT's masked kl_div has a NaN one there on torch >= 1.13)
        teacher = F.log_softmax(logits[mask] / t, dim=-1)
        kd = [
            F.kl_div(F.log_softmax(head[mask] / t, dim=-1), teacher, reduction="sum", log_target=True)
            / mask.sum()
            for head in heads.values()
        ]
        return self.config.gamma_self_distillation * torch.stack(kd).sum()


_GAMMA = "SDT's code weighs both terms 1 and its paper leaves them open: a decade each way"
# [choice] what SDT's authors left to the user (docs/model.md, "Search spaces")
SEARCH_SPACE = {
    "gamma_modality_ce": FloatRange(0.1, 10.0, log=True, source=_GAMMA),
    "gamma_self_distillation": FloatRange(0.1, 10.0, log=True, source=_GAMMA),
    "temperature": FloatRange(0.5, 16.0, log=True, source="SDT's T = 1 and 8, halved and doubled"),
}


@register_model(
    "sdt",
    model=SelfDistillationTransformer,
    description="Self-Distillation Transformer: intra/inter-modal attention, gated fusion, self-distillation",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> SDTConfig:
    require_modalities(meta, "sdt", 2)
    defaults = dataclasses.asdict(dims) | {
        "temperature": TEMPERATURE[meta.family],
        "frozen_unimodal_gates": meta.family == "meld",
    }
    return make_config(SDTConfig, "sdt", overrides, **defaults)
