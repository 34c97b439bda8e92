"""HCMF, Hierarchical Cross-Modal Fusion (docs/model.md, "HCMF"), and the fusions its ablations put in
its place.

Cross-modal attention for every ordered pair (query p, key/value q) is guided by the frozen text
teacher: where the teacher's attention score and the student's differ by more than 0.5, the teacher's
score pulls the student's, scaled by a learned factor phi:

    s' = s_st + phi * M * (s_tr - s_st),    M = 1[|s_tr - s_st| > 0.5]

Without the teacher (its modality removed at test time) there is nothing to pull towards: s' = s_st.

Level 1 fuses, per target modality, its own stream and its cross-modal streams; level 2 fuses the
modality streams; a Global MoE (an SDMoE over the fused sequence) then models the fused dialogue.
"""

from __future__ import annotations

import math
from itertools import permutations

import torch
from torch import nn

from benchmark.models.layers import Dropout
from summer.moe import ContextBlock

GUIDANCE_THRESHOLD = 0.5  # [review] teacher and student scores differing by more than 0.5
PHI_INIT = 0.5  # [choice] the dynamic factor phi is a learned scalar per attention block, init 0.5
# What the 0.5 threshold compares: "raw" pre-softmax scores (the specification's reading), or
# "standardised" ones, each row of scores standardised over its real keys first, so that the teacher's
# and the student's scores meet on one scale (a reading `study ikd` measures; the pull stays raw).
GUIDANCE_MASKS = ("raw", "standardised")


def standardised_rows(scores: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """z = (s - mean) / std per row of attention scores [..., T, T], over the real keys (`key_mask`
    broadcasts to the scores, True on real keys); padded keys come out 0."""
    count = key_mask.sum(-1, keepdim=True).clamp(min=1)
    mean = (scores * key_mask).sum(-1, keepdim=True) / count
    centred = (scores - mean) * key_mask
    return centred / ((centred.square().sum(-1, keepdim=True) / count).sqrt() + 1e-6)


def teacher_guided_scores(
    student: torch.Tensor,
    teacher: torch.Tensor,
    phi: torch.Tensor,
    threshold: float = GUIDANCE_THRESHOLD,
    key_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """s' = s_st + phi * M * (s_tr - s_st), M = 1[|s_tr - s_st| > threshold]; shapes broadcast. With
    `key_mask` (the "standardised" reading) M compares `standardised_rows` of both score matrices."""
    gap = teacher - student
    if key_mask is not None:
        differs = (
            standardised_rows(teacher, key_mask) - standardised_rows(student, key_mask)
        ).abs() > threshold
    else:
        differs = gap.abs() > threshold
    return student + phi * differs * gap


class Attention(nn.Module):
    """Multi-head attention block with a residual and a LayerNorm: queries from `x`, keys and values from
    `context` (x itself for self-attention). Returns the block's output and its pre-softmax scores
    averaged over heads ([B, T, T]), the matrix the teacher hands to the student. With `guided`, a
    teacher score matrix, when there is one, reshapes the scores by `teacher_guided_scores` (one phi per
    block), its mask on raw or standardised scores as `guidance_mask` says."""

    def __init__(
        self, width: int, heads: int, dropout: float, guided: bool = False, guidance_mask: str = "raw"
    ) -> None:
        super().__init__()
        self.standardised_guidance = guidance_mask == "standardised"
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key_value = nn.Linear(width, 2 * width)
        self.attended = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.attention_dropout = Dropout(dropout)
        self.dropout = Dropout(dropout)
        self.phi = nn.Parameter(torch.tensor(PHI_INIT)) if guided else None

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        context: torch.Tensor | None = None,
        teacher_scores: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, width = x.shape
        head_width = width // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:  # [B, T, d] -> [B, heads, T, d / heads]
            return t.view(batch, length, self.heads, head_width).transpose(1, 2)

        keys, values = self.key_value(x if context is None else context).chunk(2, dim=-1)
        scores = split(self.query(x)) @ split(keys).transpose(-1, -2) / math.sqrt(head_width)
        key_mask = mask[:, None, None, :]
        if self.phi is not None and teacher_scores is not None:
            scores = teacher_guided_scores(
                scores,
                teacher_scores[:, None],
                self.phi,
                key_mask=key_mask if self.standardised_guidance else None,
            )
        weights = self.attention_dropout(scores.masked_fill(~key_mask, float("-inf")).softmax(-1))
        attended = (weights @ split(values)).transpose(1, 2).reshape(batch, length, width)
        output = self.norm(x + self.dropout(self.attended(attended))) * mask[..., None]
        return output, scores.mean(dim=1)


class SoftmaxGate(nn.Module):
    """[choice] per-utterance softmax weights over `sources` representations, scored from their
    concatenation: the fusion step of both HCMF levels."""

    def __init__(self, width: int, sources: int) -> None:
        super().__init__()
        self.score = nn.Linear(width * sources, sources)

    def forward(self, representations: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(representations, dim=-2)  # [B, T, S, d]
        weights = self.score(stacked.flatten(-2)).softmax(dim=-1)  # [B, T, S]
        return (weights[..., None, :] @ stacked).squeeze(-2)


class HierarchicalFusion(nn.Module):
    """streams {m: [B, T, d]} -> (fused [B, T, d], balance losses of the Global MoE)."""

    def __init__(
        self,
        width: int,
        heads: int,
        dropout: float,
        modalities: tuple[str, ...],
        guided: bool,
        global_moe: ContextBlock,
        guidance_mask: str = "raw",
    ) -> None:
        super().__init__()
        self.modalities = modalities
        self.cross = nn.ModuleDict(
            {
                f"{q}->{p}": Attention(width, heads, dropout, guided, guidance_mask)
                for q, p in permutations(modalities, 2)
            }
        )
        self.level1 = nn.ModuleDict({m: SoftmaxGate(width, len(modalities)) for m in modalities})
        self.level2 = SoftmaxGate(width, len(modalities))
        self.global_moe = global_moe

    def forward(
        self, streams: dict[str, torch.Tensor], mask: torch.Tensor, teacher_scores: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        per_modality = []
        for p in self.modalities:
            crossed = [
                self.cross[f"{q}->{p}"](streams[p], mask, streams[q], teacher_scores)[0]
                for q in self.modalities
                if q != p
            ]
            per_modality.append(self.level1[p]([streams[p], *crossed]))
        fused, balance = self.global_moe(self.level2(per_modality), mask)
        return fused, [balance]


class ConcatFusion(nn.Module):
    """The suite's "w/o HCMF": the modality streams concatenated and projected linearly."""

    def __init__(self, width: int, modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.modalities = modalities
        self.project = nn.Linear(width * len(modalities), width)

    def forward(
        self, streams: dict[str, torch.Tensor], mask: torch.Tensor, teacher_scores: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.project(torch.cat([streams[m] for m in self.modalities], dim=-1)), []


class SelfAttentionFusion(nn.Module):
    """The paper's "HCMF replaced by self-attention": per-modality self-attention, concatenation, linear."""

    def __init__(self, width: int, heads: int, dropout: float, modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.attention = nn.ModuleDict({m: Attention(width, heads, dropout) for m in modalities})
        self.concat = ConcatFusion(width, modalities)

    def forward(
        self, streams: dict[str, torch.Tensor], mask: torch.Tensor, teacher_scores: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        attended = {m: block(streams[m], mask)[0] for m, block in self.attention.items()}
        return self.concat(attended, mask, None)
