"""Classification metrics of MERC over real utterances only, F1 as `benchmark.metrics` defines it.

A functional core (`split_metrics`) and an accumulator over batches (`PredictionCollector`), as
torchmetrics does it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from benchmark.data.collate import Batch
from benchmark.metrics import confusion_counts, per_class_f1_from_confusions, weighted_f1_from_confusions
from benchmark.store.records import Predictions, SplitMetrics


def split_metrics(labels: np.ndarray, predicted: np.ndarray, classes: Sequence[str]) -> SplitMetrics:
    """All classes are always listed, so a class absent from a split keeps its column (F1 0; its confusion
    row is empty, so a report shows it absent). Macro-F1 averages the classes the split holds: a class
    with no utterance has no F1 to average."""
    n_classes = len(classes)
    confusions = confusion_counts(labels, predicted, n_classes)
    support = confusions.reshape(n_classes, n_classes).sum(axis=1)  # utterances per true class
    held = support > 0 if support.any() else np.ones(n_classes, dtype=bool)
    counts = confusions.astype(float)
    per_class = per_class_f1_from_confusions(counts, n_classes)
    return SplitMetrics(
        weighted_f1=float(weighted_f1_from_confusions(counts, n_classes)),
        accuracy=float(accuracy_score(labels, predicted)),
        macro_f1=float(per_class[held].mean()),
        per_class_f1={name: float(value) for name, value in zip(classes, per_class, strict=True)},
        confusion=confusions.reshape(n_classes, n_classes).tolist(),
    )


class PredictionCollector:
    """Gathers per-dialogue labels and argmax predictions batch by batch."""

    def __init__(self) -> None:
        self.dialogue_ids: list[str] = []
        self.labels: list[list[int]] = []
        self.predicted: list[list[int]] = []

    def update(self, batch: Batch, logits: torch.Tensor) -> None:
        predicted = logits.argmax(dim=-1)
        for row, dialogue_id in enumerate(batch.dialogue_ids):
            real = batch.mask[row]
            self.dialogue_ids.append(dialogue_id)
            self.labels.append(batch.labels[row][real].tolist())
            self.predicted.append(predicted[row][real].tolist())

    def compute(self, classes: Sequence[str]) -> SplitMetrics:
        return split_metrics(np.concatenate(self.labels), np.concatenate(self.predicted), classes)

    def predictions(self) -> Predictions:
        return Predictions(self.dialogue_ids, self.labels, self.predicted)
