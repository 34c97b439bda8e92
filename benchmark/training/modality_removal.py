"""Missing modalities at test time: a trained model, at its validation-selected weights, evaluated on the
test split with modalities removed.

A removed modality is absent from the batch (no feature tensor at all), which a model that fuses
whatever it is given handles. A model built around a fixed set of modalities cannot run without one
(it raises KeyError on the missing tensor): it is then evaluated with that modality's features
zero-filled, and the result says so, since zeros are an input the model never saw, not an absence.
Either way the batch names the removed modalities (`Batch.absent`), so that nothing derived from them
reaches the model: SUMMER's text teacher, whose outputs it caches from the real text, is not consulted
without text (summer/model.py).
"""

from __future__ import annotations

import dataclasses

import torch

from benchmark.data.collate import Dialogue, dialogues_from_split
from benchmark.data.schema import MercDataset
from benchmark.models.contract import MERCModel
from benchmark.store.records import ABSENT, CONDITIONS, NOT_IN_DATA, ZERO_FILLED, ModalityScore
from benchmark.training.device_settings import CPU, Execution
from benchmark.training.loop import evaluate


def without(dialogues: list[Dialogue], removed: tuple[str, ...], zero_fill: bool) -> list[Dialogue]:
    def features(dialogue: Dialogue) -> dict[str, torch.Tensor]:
        if zero_fill:
            return {m: torch.zeros_like(x) if m in removed else x for m, x in dialogue.features.items()}
        return {m: x for m, x in dialogue.features.items() if m not in removed}

    return [dataclasses.replace(d, features=features(d)) for d in dialogues]


def evaluate_without_modalities(
    model: MERCModel, dataset: MercDataset, batch_size: int, execution: Execution = CPU
) -> dict[str, ModalityScore]:
    """condition -> scores on the test split; `how` is ABSENT, ZERO_FILLED or NOT_IN_DATA (the dataset
    never had that modality: no number)."""
    test = dialogues_from_split(dataset.splits["test"], dataset.meta.modalities)
    classes = dataset.meta.classes
    results: dict[str, ModalityScore] = {}
    for condition, removed in CONDITIONS.items():
        if any(m not in dataset.meta.modalities for m in removed):
            results[condition] = ModalityScore(None, None, NOT_IN_DATA)
            continue
        absent = frozenset(removed)
        try:
            metrics, _ = evaluate(
                model, without(test, removed, zero_fill=False), batch_size, classes, execution, absent
            )
            how = ABSENT
        except KeyError:
            metrics, _ = evaluate(
                model, without(test, removed, zero_fill=True), batch_size, classes, execution, absent
            )
            how = ZERO_FILLED
        results[condition] = ModalityScore(metrics.weighted_f1, metrics.macro_f1, how)
    return results
