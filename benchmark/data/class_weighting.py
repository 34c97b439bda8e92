"""The cross-entropy's class weightings: the setting's names and the weights each gives. The profiles'
training settings and the text encoder's fine-tuning (a part of the data layer) both name one, so the
names and the weights live below both.

A setting names how classes are weighed: UNWEIGHTED (plain, as SDT on MELD) or INVERSE_FREQUENCY (a
class's weight is the inverse of its frequency). Which utterances the frequencies are counted on, and how
the weights are scaled, each loop keeps as published, and the function's name says which:

- `inverse_train_validation_frequency`, the dialogue models' trainer: w_c = N / n_c over the train and
  validation utterances (N of them, n_c of class c), SDT's `train.py` on IEMOCAP (the specification:
  "IEMOCAP class weights = inverse train+valid frequencies (SDT)").
- `balanced_inverse_train_frequency`, the text encoder's fine-tune: w_c = N / (C max(n_c, 1)) over the
  training utterances only (scikit-learn's "balanced", C classes), because validation labels only pick
  the fine-tune's epoch and never reach a gradient.

Both losses are weighted means (the sum divided by the weights of the targets), so only the ratios between
weights count; the two differ in the counts, not in kind.
"""

from __future__ import annotations

import numpy as np

from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError

UNWEIGHTED, INVERSE_FREQUENCY = "none", "inverse-frequency"
CLASS_WEIGHTINGS = (UNWEIGHTED, INVERSE_FREQUENCY)


def inverse_train_validation_frequency(dataset: MercDataset, weighting: str) -> tuple[float, ...]:
    """The trainer's class weights `weighting` gives on `dataset`, in class order; () unweighted.

    INVERSE_FREQUENCY: w_c = N / n_c, n_c the utterances of class c among the N train and validation
    utterances together, unnormalised, as SDT's train.py writes them (its IEMOCAP list is 1 / f_c of the
    train+validation shares f_c)."""
    if weighting == UNWEIGHTED:
        return ()
    assert weighting == INVERSE_FREQUENCY  # TrainConfig validates the name
    labels = [
        np.concatenate(dataset.splits[split]["labels"] or [[]]).astype(np.int64)
        for split in ("train", "validation")
    ]
    counts = np.bincount(np.concatenate(labels), minlength=dataset.meta.n_classes)
    if not counts.all():
        missing = dataset.meta.classes[int(np.flatnonzero(counts == 0)[0])]
        raise BenchmarkError(
            f"class {missing!r} has no utterance in the train and validation splits of {dataset.meta.name}: "
            "this run weights classes by inverse frequency (its dataset's protocol), undefined for a class never "
            "seen; re-import the data with utterances of every class in its training split"
        )
    return tuple(float(w) for w in counts.sum() / counts)


def balanced_inverse_train_frequency(train_labels: np.ndarray, n_classes: int, weighting: str) -> np.ndarray:
    """The fine-tune's class weights [C] `weighting` gives on the training labels; all 1 unweighted.

    INVERSE_FREQUENCY: w_c = N / (C max(n_c, 1)), n_c the training utterances of class c among N (a class
    without one gets the weight of a class with one; it never is a target, so it weighs nothing)."""
    if weighting == UNWEIGHTED:
        return np.ones(n_classes)
    assert weighting == INVERSE_FREQUENCY  # FineTuneSettings validates the name
    counts = np.bincount(train_labels, minlength=n_classes).astype(np.float64)
    return len(train_labels) / (n_classes * np.maximum(counts, 1))
