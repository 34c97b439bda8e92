"""Paired bootstrap over test dialogues (utterances within a dialogue are correlated, so dialogues are
the unit resampled), pooled over seeds. Each resample is a weighted sum of per-dialogue confusion
counts, so the cost is one matrix product per model, not a loop over utterances."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmark.records import Predictions

BOOTSTRAP_SEED = 0
DEFAULT_RESAMPLES = 2000


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds; a single seed has no spread (0)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def dialogue_confusions(predictions: Predictions, n_classes: int, order: Sequence[str]) -> np.ndarray:
    """[D, C*C] confusion counts per dialogue, dialogues in `order`."""
    index = {d: i for i, d in enumerate(predictions.dialogue_ids)}
    counts = np.zeros((len(order), n_classes * n_classes))
    for row, dialogue_id in enumerate(order):
        i = index[dialogue_id]
        cells = np.asarray(predictions.labels[i]) * n_classes + np.asarray(predictions.predicted[i])
        counts[row] = np.bincount(cells, minlength=n_classes * n_classes)
    return counts


def weighted_f1_from_confusions(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """[..., C*C] confusion counts -> [...] support-weighted F1 (scikit-learn's, zero_division=0)."""
    matrix = confusions.reshape(*confusions.shape[:-1], n_classes, n_classes)
    true_positive = np.diagonal(matrix, axis1=-2, axis2=-1)
    support = matrix.sum(-1)
    predicted = matrix.sum(-2)
    denominator = support + predicted
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    total = support.sum(-1)
    return np.divide((f1 * support).sum(-1), total, out=np.zeros_like(total), where=total > 0)


@dataclass(frozen=True)
class PairedDifference:
    mean_difference: float  # weighted-F1 of A minus B on the observed test set, mean over seeds
    low: float  # 95% percentile interval of the resampled differences
    high: float
    p_value: float  # one-sided, H1: A > B; the share of resampled differences <= 0
    resamples: int
    seeds: int


def _resample_weights(n_dialogues: int, resamples: int, seed: int) -> np.ndarray:
    """[R, D]: how often each dialogue is drawn in each resample (with replacement)."""
    draws = np.random.default_rng(seed).integers(0, n_dialogues, size=(resamples, n_dialogues))
    return np.stack([np.bincount(row, minlength=n_dialogues) for row in draws]).astype(float)


def _scores(weights: np.ndarray, counts: np.ndarray, n_classes: int) -> np.ndarray:
    """[R] weighted-F1 per resample, the mean over seeds; counts [S, D, C*C]."""
    return weighted_f1_from_confusions(np.einsum("rd,sdk->rsk", weights, counts), n_classes).mean(-1)


def _seed_counts(
    predictions: dict[int, Predictions], seeds: list[int], n_classes: int, order: list[str]
) -> np.ndarray:
    return np.stack([dialogue_confusions(predictions[s], n_classes, order) for s in seeds])


def bootstrap_interval(
    predictions: dict[int, Predictions],
    n_classes: int,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95% percentile interval of one model's weighted-F1 (mean over seeds) under dialogue resampling."""
    seeds = sorted(predictions)
    order = sorted(predictions[seeds[0]].dialogue_ids)
    counts = _seed_counts(predictions, seeds, n_classes, order)
    low, high = np.percentile(
        _scores(_resample_weights(len(order), resamples, seed), counts, n_classes), [2.5, 97.5]
    )
    return float(low), float(high)


def paired_bootstrap(
    a: dict[int, Predictions],
    b: dict[int, Predictions],
    n_classes: int,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> PairedDifference:
    """A vs B over the seeds both have; the same dialogue resample is applied to every seed and model."""
    seeds = sorted(a.keys() & b.keys())
    if not seeds:
        raise ValueError("no seed in common")
    order = sorted(a[seeds[0]].dialogue_ids)
    a_counts, b_counts = (_seed_counts(p, seeds, n_classes, order) for p in (a, b))
    weights = _resample_weights(len(order), resamples, seed)
    observed = np.ones((1, len(order)))
    difference = float((_scores(observed, a_counts, n_classes) - _scores(observed, b_counts, n_classes))[0])
    resampled = _scores(weights, a_counts, n_classes) - _scores(weights, b_counts, n_classes)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return PairedDifference(
        difference, float(low), float(high), float((resampled <= 0).mean()), resamples, len(seeds)
    )
