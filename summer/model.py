"""SUMMER: per-modality encoders, intra-modal context layers whose FFN is the SDMoE, cross-modal
attention between every pair, hierarchical cross-modal fusion, a linear classifier, and distillation
from a frozen unimodal teacher.

Uses the modalities the dataset has (fusion over two when one is absent); needs at least one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from itertools import permutations
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.modeling import (
    MERCModel,
    ModelDims,
    ModelOutput,
    TeacherRequest,
    make_config,
    register_model,
    require_features,
)
from summer.config import TEMPERATURE, SummerConfig
from summer.fusion import ConcatFusion, HierarchicalFusion
from summer.layers import ContextLayer, FeedForward, modality_encoders
from summer.moe import SparseDynamicMoE


class Summer(MERCModel):
    def __init__(self, config: SummerConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        self.encoders = modality_encoders(meta, config.width, config.dropout)
        self.intra = nn.ModuleDict({m: self._stack(with_ffn=True) for m in self.modalities})
        if config.use_hcmf:
            # [choice, design "Context + SDMoE"] the SDMoE is the FFN of the L layers each modality has;
            # the inter-modal layers (query m, key/value n) are attention blocks without an FFN. An
            # SDMoE in all six directions as well would double the size (193M parameters at paper width
            # against SDT's 91M) and the compute, for a part the paper does not describe.
            self.cross = nn.ModuleDict(
                {f"{n}->{m}": self._stack(with_ffn=False) for n, m in permutations(self.modalities, 2)}
            )
            self.fusion: nn.Module = HierarchicalFusion(config.width, self.modalities)
        else:
            self.fusion = ConcatFusion(config.width, self.modalities)
        self.classifier = nn.Linear(config.width, meta.n_classes)
        if config.use_ikd and config.use_latent_kd:
            # "Interactive" [choice]: the student reaches the teacher's space through its own projection.
            self.latent_projection = nn.Linear(config.width, config.width)
        self._teacher: list[MERCModel] = []  # a list, so the teacher is no submodule: not trained, not saved
        # The frozen teacher's (logits, hidden) per dialogue id: they never change, so each dialogue
        # pays for one teacher forward per run, not one per epoch. Cleared when a teacher is attached.
        self._teacher_outputs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def _stack(self, with_ffn: bool) -> nn.ModuleList:
        c = self.config
        hidden = c.ffn_multiplier * c.width

        def ffn() -> nn.Module | None:
            if not with_ffn:
                return None
            if c.use_sdmoe:
                return SparseDynamicMoE(c.width, hidden, c.experts, c.k_max, c.route_threshold, c.dropout)
            return FeedForward(c.width, hidden, c.dropout)

        return nn.ModuleList(ContextLayer(c.width, c.heads, c.dropout, ffn()) for _ in range(c.layers))

    def teacher_request(self) -> TeacherRequest | None:
        if not self.config.use_ikd:
            return None
        return TeacherRequest(model="text-teacher", overrides={"modality": self.config.teacher_modality})

    def attach_teacher(self, teacher: MERCModel) -> None:
        if not self.config.use_ikd:
            raise TypeError("this SUMMER variant has IKD off and takes no teacher")
        teacher.eval()
        teacher.requires_grad_(False)
        self._teacher[:] = [teacher]
        self._teacher_outputs.clear()

    def forward(self, batch: Batch) -> ModelOutput:
        mask = batch.mask
        balance: list[torch.Tensor] = []

        def run(stack: nn.ModuleList, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
            for layer in stack:
                x, aux = layer(x, mask, context)
                if layer.ffn is not None:  # attention-only layers have no balance term to average in
                    balance.append(aux)
            return x

        encoded = {m: self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities}
        intra = {m: run(self.intra[m], encoded[m]) for m in self.modalities}
        cross = {}
        if self.config.use_hcmf:
            cross = {
                (n, m): run(self.cross[f"{n}->{m}"], intra[m], intra[n])
                for n, m in permutations(self.modalities, 2)
            }
        fused = self.fusion(intra, cross)
        logits = self.classifier(fused)
        aux_losses: dict[str, torch.Tensor] = {}
        if self.config.use_sdmoe:
            aux_losses["moe_balance"] = self.config.lambda_moe * torch.stack(balance).mean()
        if self.config.use_ikd and self.training:  # evaluation reads logits only: no teacher forward
            aux_losses.update(self._distillation(batch, fused, logits))
        return ModelOutput(logits=logits, hidden=fused, aux_losses=aux_losses)

    def _distillation(
        self, batch: Batch, fused: torch.Tensor, logits: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        if not self._teacher:
            raise RuntimeError(
                "SUMMER with IKD needs its trained teacher: the trainer must call attach_teacher()"
            )
        teacher_logits, teacher_hidden = self._teacher_targets(batch)
        mask = batch.mask
        c = self.config
        t = c.temperature
        kl = F.kl_div(
            F.log_softmax(logits[mask] / t, dim=-1),
            F.softmax(teacher_logits / t, dim=-1),
            reduction="none",
        ).sum(dim=-1)
        terms = {"kd_logit": c.lambda_logit * t * t * kl.mean()}
        if c.use_latent_kd:
            student = F.normalize(self.latent_projection(fused[mask]), dim=-1)
            target = F.normalize(teacher_hidden, dim=-1)
            terms["kd_latent"] = c.lambda_latent * (student - target).pow(2).sum(dim=-1).mean()
        return terms

    def _teacher_targets(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's logits and hidden states for the batch's real utterances, packed like
        `tensor[batch.mask]`; a forward only for the dialogues not seen before."""
        lengths = batch.lengths.tolist()
        unseen = [i for i, d in enumerate(batch.dialogue_ids) if d not in self._teacher_outputs]
        if unseen:
            with torch.no_grad():
                output = self._teacher[0](batch.select(unseen))
            for row, i in enumerate(unseen):
                n = lengths[i]
                self._teacher_outputs[batch.dialogue_ids[i]] = (
                    output.logits[row, :n],
                    output.hidden[row, :n],
                )
        logits, hidden = zip(*(self._teacher_outputs[d] for d in batch.dialogue_ids), strict=True)
        return torch.cat(logits), torch.cat(hidden)


@register_model(
    "summer",
    description="SUMMER: sparse dynamic MoE + hierarchical cross-modal fusion + distillation from a text teacher",
    family="summer",
)
def build(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> Summer:
    require_features(meta, "summer")
    defaults = dataclasses.asdict(dims) | {"temperature": TEMPERATURE[meta.family]}
    return Summer(make_config(SummerConfig, "summer", overrides, **defaults), meta)
