"""Pieces the baselines share: per-modality encoders + dialogue context, the same as SUMMER's inputs,
so that rivals differ from it only in how they fuse."""

from __future__ import annotations

import torch
from torch import nn

from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.errors import BenchmarkError
from benchmark.models.contract import ModelDims
from benchmark.models.layers import DialogueTransformer, modality_encoders


class ModalityContexts(nn.Module):
    """For each present modality: UtteranceEncoder -> DialogueTransformer, giving [B, T, width] each."""

    def __init__(self, meta: DatasetMeta, dims: ModelDims) -> None:
        super().__init__()
        self.modalities = meta.modalities
        self.encoders = modality_encoders(meta, dims.width, dims.dropout)
        self.contexts = nn.ModuleDict(
            {
                m: DialogueTransformer(dims.width, dims.heads, dims.layers, dims.dropout)
                for m in self.modalities
            }
        )

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {
            m: self.contexts[m](self.encoders[m](batch.features[m], batch.speakers), batch.mask)
            for m in self.modalities
        }


def require_modalities(meta: DatasetMeta, model: str, at_least: int) -> None:
    if len(meta.modalities) < at_least:
        raise BenchmarkError(
            f"model {model!r} fuses at least {at_least} modalities but {meta.name} has "
            f"{', '.join(meta.modalities) or 'none'}: import feature pickles with more modalities"
        )
