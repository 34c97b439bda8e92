"""The unimodal teacher of IKD [choice, design "Interactive Knowledge Distillation"]: one modality's
encoder, context layers of the student's width and a linear classifier, trained alone and then frozen."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.errors import BenchmarkError
from benchmark.modeling import MERCModel, ModelDims, ModelOutput, make_config, require_features
from summer.layers import DialogueTransformer, UtteranceEncoder


@dataclass(frozen=True)
class TeacherConfig(ModelDims):
    modality: str = "text"


class UnimodalTeacher(MERCModel):
    def __init__(self, config: TeacherConfig, meta: DatasetMeta) -> None:
        super().__init__()
        if config.modality not in meta.feature_dims:
            raise BenchmarkError(
                f"the teacher's modality {config.modality!r} is not in {meta.name} "
                f"(present: {', '.join(meta.modalities) or 'none'}): set teacher_modality to one of them"
            )
        self.config = config
        self.encoder = UtteranceEncoder(
            meta.feature_dims[config.modality], config.width, meta.n_speakers, config.dropout
        )
        self.context = DialogueTransformer(config.width, config.heads, config.layers, config.dropout)
        self.classifier = nn.Linear(config.width, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        hidden = self.context(self.encoder(batch.features[self.config.modality], batch.speakers), batch.mask)
        return ModelOutput(logits=self.classifier(hidden), hidden=hidden)


def build_teacher(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> UnimodalTeacher:
    require_features(meta, "text-teacher")
    config = make_config(TeacherConfig, "text-teacher", overrides, **dataclasses.asdict(dims))
    return UnimodalTeacher(config, meta)
