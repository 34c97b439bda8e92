"""docs/adding_a_rival.md, followed: a toy rival registered the way the guide says, in a copy of the model
registry that this test alone sees, is planned by `run --all`, trains at `smoke` and stands among the
rivals of the report's tables and claims."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import Batch
from benchmark.data.schema import DatasetMeta
from benchmark.errors import BenchmarkError
from benchmark.executors.local import run_key
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import modality_encoders
from benchmark.report import write_reports
from benchmark.store.records import RunKey
from benchmark.training.runner import DEFAULT_DATASETS, plan
from tests.model_fixtures import tiny_meta

TOY = "toy-mean-fusion"


@dataclass(frozen=True)
class ToyConfig:
    width: int
    heads: int
    layers: int
    dropout: float
    scale: float = 1.0  # an option of its own


class ToyMeanFusion(MERCModel):
    """Each modality encoded per utterance, the encodings averaged, a linear classifier: no context."""

    def __init__(self, config: ToyConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        self.encoders = modality_encoders(meta, config.width, config.dropout)
        self.classifier = nn.Linear(config.width, meta.n_classes)

    def forward(self, batch: Batch) -> ModelOutput:
        encoded = [self.encoders[m](batch.features[m], batch.speakers) for m in self.modalities]
        hidden = self.config.scale * torch.stack(encoded).mean(0)
        return ModelOutput(self.classifier(hidden), hidden)


def configure_toy(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> ToyConfig:
    require_modalities(meta, TOY, 2)
    return make_config(ToyConfig, TOY, overrides, **dataclasses.asdict(dims))


@pytest.fixture
def toy_registered(monkeypatch):
    """The guide's step 2, in a copy of the registry that is put back after the test."""
    monkeypatch.setattr(MODELS, "_items", dict(MODELS.items()))
    register_model(TOY, model=ToyMeanFusion, description="toy: mean of the encoded modalities")(configure_toy)
    return TOY


def test_the_toy_rival_is_planned_trained_at_smoke_and_reported(toy_registered, home, smaller_smoke):
    key = RunKey(TOY, "none", "synthetic-iemocap", "smoke", 0)
    assert key in plan(MODELS.names(), DEFAULT_DATASETS, "smoke")  # `run --all` trains it
    record = run_key(key, home)
    smoke_dims = {"width": 32, "heads": 2, "layers": 1, "dropout": 0.1}
    assert record.config.model_config == smoke_dims | {"scale": 1.0}
    assert 0 < record.test.weighted_f1 <= 1
    assert len(record.predictions.labels) == len(record.predictions.predicted)

    write_reports(home, resamples=50)
    report = (home.reports / "synthetic-iemocap-smoke" / "report.md").read_text()
    assert f"| {TOY} |" in report  # a row of the main table
    claims = (home.reports / "synthetic-iemocap-smoke" / "claims.json").read_text()
    assert f"--model {TOY}" in claims  # SUMMER has not run: its claims name the toy among the rivals to run


def test_the_toy_rival_refuses_data_with_too_few_modalities(toy_registered):
    with pytest.raises(BenchmarkError, match=f"model '{TOY}' fuses at least 2 modalities"):
        MODELS.get(TOY).build(tiny_meta({"text": 12}), ModelDims(16, 2, 1, 0.0), {})


def test_the_registry_copy_does_not_outlive_the_test():
    assert TOY not in MODELS.names()
