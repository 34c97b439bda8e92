"""One early-stopping rule (`benchmark.early_stopping`) for both training loops: the trainer's and the
text encoder's fine-tune."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rich.progress import Progress
from torch import nn

from benchmark.data import fine_tune
from benchmark.early_stopping import EarlyStopping
from benchmark.experiment.catalog import MODELS
from benchmark.experiment.profiles import TrainConfig
from benchmark.models.contract import ModelDims
from benchmark.training import loop
from tests.test_crosscheck import tiny_dataset


def test_the_best_epoch_is_the_first_strictly_better_score_and_patience_counts_from_it():
    model = nn.Linear(2, 1)
    stopping = EarlyStopping(patience=2)
    seen = []
    for epoch, score in enumerate([0.3, 0.5, 0.5, 0.4, 0.9], start=1):
        with torch.no_grad():
            model.bias.fill_(epoch)
        seen.append((stopping.improved(epoch, score, model), stopping.should_stop(epoch)))
    assert seen == [(True, False), (True, False), (False, False), (False, True), (True, False)]
    assert stopping.best_epoch == 5 and stopping.best_score == 0.9
    assert stopping.best_state["bias"].tolist() == [5.0]


def test_the_kept_weights_are_a_copy_and_patience_zero_never_stops():
    model = nn.Linear(2, 1)
    stopping = EarlyStopping(patience=0)
    stopping.improved(1, 0.5, model)
    with torch.no_grad():
        model.bias.fill_(7.0)
    assert stopping.best_state["bias"].item() != 7.0
    assert not any(stopping.improved(e, 0.1, model) or stopping.should_stop(e) for e in range(2, 50))


class _RecordingStopping(EarlyStopping):
    made: list[_RecordingStopping] = []

    def __init__(self, patience: int) -> None:
        super().__init__(patience)
        self.made.append(self)


class _LinearHead(nn.Module):
    """The fine-tune's classifier interface (pooled features, logits, class weights) without a transformer."""

    def __init__(self, width: int, n_classes: int) -> None:
        super().__init__()
        self.out = nn.Linear(width, n_classes)
        self.register_buffer("class_weights", torch.ones(n_classes))

    def pooled(self, batch) -> torch.Tensor:
        return batch.hidden.mean(1)

    def logits(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.out(pooled)


@pytest.fixture
def recording(monkeypatch) -> list[EarlyStopping]:
    _RecordingStopping.made = []
    monkeypatch.setattr(loop, "EarlyStopping", _RecordingStopping)
    monkeypatch.setattr(fine_tune, "EarlyStopping", _RecordingStopping)
    return _RecordingStopping.made


def test_the_trainer_and_the_fine_tune_stop_by_the_same_rule(recording):
    """With learning rate (near) 0 epoch 1 is never beaten: both loops keep it and stop after
    1 + patience epochs, through the one EarlyStopping."""
    dataset = tiny_dataset("iemocap")
    model = MODELS.get("text-teacher").build(dataset.meta, ModelDims(8, 2, 1, 0.0), {})
    trained = loop.train_model(model, dataset, TrainConfig(lr=0.0, epochs=10, batch_size=2, patience=2))
    assert (len(trained.curves), trained.best_epoch) == (3, 1)

    rng = np.random.default_rng(0)
    batches = {
        split: [fine_tune._Batch(np.arange(n), torch.randn(n, 3, 4), torch.ones(n, 3, dtype=torch.long))]
        for split, n in (("train", 12), ("validation", 8), ("test", 4))
    }
    settings = fine_tune.FineTuneSettings(epochs=10, patience=2, learning_rate=1e-12, weight_decay=0.0)
    with Progress(disable=True) as progress:
        tuned = fine_tune._train(
            _LinearHead(4, 3), batches, rng.integers(0, 3, 12), rng.integers(0, 3, 8), settings,
            torch.Generator().manual_seed(0), progress,
        )  # fmt: skip
    assert (len(tuned.validation_f1), tuned.best_epoch) == (3, 1)
    assert [s.patience for s in recording] == [2, 2] and [s.best_epoch for s in recording] == [1, 1]
