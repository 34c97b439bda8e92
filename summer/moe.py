"""SDMoE: a sparse, token-wise mixture of experts with dynamic (threshold) routing.

Design "Context + SDMoE": a linear router gives softmax scores per utterance; keep the smallest set of
experts whose cumulative probability reaches the threshold, capped at k_max (so top-k_max when the
threshold is out of reach); renormalise the kept weights; run each expert only on the utterances routed
to it. Balance loss, Switch-Transformer style: E * sum_e f_e * P_e over real utterances, where f_e is the
share of routing assignments that went to e and P_e the mean router probability; 1 when uniform.
"""

from __future__ import annotations

import torch
from torch import nn

from summer.layers import FeedForward


def dynamic_routing(probabilities: torch.Tensor, threshold: float, k_max: int) -> torch.Tensor:
    """[N, E] probabilities -> [N, E] bool: the experts kept for each token."""
    sorted_probabilities, order = probabilities.sort(dim=-1, descending=True)
    mass_before = sorted_probabilities.cumsum(dim=-1) - sorted_probabilities
    rank = torch.arange(probabilities.shape[-1], device=probabilities.device)
    keep_sorted = (mass_before < threshold) & (rank < k_max)
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def balance_loss(probabilities: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    experts = probabilities.shape[-1]
    assignment_share = kept.float().sum(0) / kept.float().sum()
    mean_probability = probabilities.mean(0)
    return experts * (assignment_share * mean_probability).sum()


class SparseDynamicMoE(nn.Module):
    """Drop-in for `FeedForward` inside `ContextLayer`: packed utterances [N, d] -> (y, balance loss)."""

    def __init__(
        self, width: int, hidden: int, experts: int, k_max: int, threshold: float, dropout: float
    ) -> None:
        super().__init__()
        self.router = nn.Linear(width, experts)
        self.experts = nn.ModuleList(FeedForward(width, hidden, dropout).net for _ in range(experts))
        self.k_max = k_max
        self.threshold = threshold

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probabilities = self.router(tokens).softmax(dim=-1)
        kept = dynamic_routing(probabilities, self.threshold, self.k_max)
        weights = probabilities * kept
        weights = weights / weights.sum(dim=-1, keepdim=True)
        mixed = torch.zeros_like(tokens)
        for index, expert in enumerate(self.experts):
            routed = kept[:, index].nonzero().squeeze(1)
            if routed.numel():
                mixed.index_add_(0, routed, weights[routed, index, None] * expert(tokens[routed]))
        return mixed, balance_loss(probabilities, kept)
