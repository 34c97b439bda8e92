"""HCMF, design "HCMF": level 1 gates, per target modality, its intra-modal output and its cross-modal
outputs (n -> m); level 2 gates the modality-level representations into one per utterance. The ablation
"-HCMF" concatenates the modality outputs and projects linearly."""

from __future__ import annotations

import torch
from torch import nn


class SoftmaxGate(nn.Module):
    """Per-utterance softmax weights over `sources` representations, scored from their concatenation."""

    def __init__(self, width: int, sources: int) -> None:
        super().__init__()
        self.score = nn.Linear(width * sources, sources)

    def forward(self, representations: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(representations, dim=-2)  # [B, T, S, d]; flattened, the concatenation
        weights = self.score(stacked.flatten(-2)).softmax(dim=-1)  # [B, T, S]
        return (weights[..., None, :] @ stacked).squeeze(-2)  # a matmul: a broadcast product is slower


class HierarchicalFusion(nn.Module):
    def __init__(self, width: int, modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.modalities = modalities
        self.level1 = nn.ModuleDict({m: SoftmaxGate(width, len(modalities)) for m in modalities})
        self.level2 = SoftmaxGate(width, len(modalities))

    def forward(
        self, intra: dict[str, torch.Tensor], cross: dict[tuple[str, str], torch.Tensor]
    ) -> torch.Tensor:
        per_modality = [
            self.level1[m]([intra[m], *(cross[(n, m)] for n in self.modalities if n != m)])
            for m in self.modalities
        ]
        return self.level2(per_modality)


class ConcatFusion(nn.Module):
    def __init__(self, width: int, modalities: tuple[str, ...]) -> None:
        super().__init__()
        self.modalities = modalities
        self.project = nn.Linear(width * len(modalities), width)

    def forward(
        self, intra: dict[str, torch.Tensor], cross: dict[tuple[str, str], torch.Tensor]
    ) -> torch.Tensor:
        return self.project(torch.cat([intra[m] for m in self.modalities], dim=-1))
