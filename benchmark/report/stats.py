"""Paired bootstrap over test dialogues (utterances within a dialogue are correlated, so dialogues are
the unit resampled), pooled over seeds. Each resample is a weighted sum of per-dialogue confusion
counts, so the cost is one matrix product per model, not a loop over utterances."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmark.metrics import confusion_counts, weighted_f1_from_confusions
from benchmark.store.records import Predictions

BOOTSTRAP_SEED = 0
DEFAULT_RESAMPLES = 2000
CONFIDENCE = 0.95  # of every interval the reports print, and of the claims' verdicts


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds; a single seed has no spread (0)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def dialogue_confusions(predictions: Predictions, n_classes: int, order: Sequence[str]) -> np.ndarray:
    """[D, C*C] confusion counts per dialogue, dialogues in `order`."""
    index = {d: i for i, d in enumerate(predictions.dialogue_ids)}
    counts = np.zeros((len(order), n_classes * n_classes))
    for row, dialogue_id in enumerate(order):
        i = index[dialogue_id]
        counts[row] = confusion_counts(predictions.labels[i], predictions.predicted[i], n_classes)
    return counts


@dataclass(frozen=True)
class PairedDifference:
    mean_difference: float  # weighted-F1 of A minus B on the observed test set, mean over seeds
    low: float  # CONFIDENCE percentile interval of the resampled differences
    high: float
    p_value: float  # one-sided, H1: A > B; the share of resampled differences <= 0
    resamples: int
    seeds: int


def _resample_weights(n_dialogues: int, resamples: int, seed: int) -> np.ndarray:
    """[R, D]: how often each dialogue is drawn in each resample (with replacement)."""
    draws = np.random.default_rng(seed).integers(0, n_dialogues, size=(resamples, n_dialogues))
    return np.stack([np.bincount(row, minlength=n_dialogues) for row in draws]).astype(float)


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
    """CONFIDENCE percentile interval of one model's weighted-F1 (mean over seeds) under dialogue resampling."""
    pooled = resample_confusions({"model": predictions}, n_classes, resamples, seed)
    return interval(weighted_f1_from_confusions(pooled.resampled[:, 0], n_classes).mean(-1))


def paired_bootstrap(
    a: dict[int, Predictions],
    b: dict[int, Predictions],
    n_classes: int,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> PairedDifference:
    """A vs B over the seeds both have; the same dialogue resample is applied to every seed and model."""
    pooled = resample_confusions({"a": a, "b": b}, n_classes, resamples, seed)
    observed, resampled = (
        weighted_f1_from_confusions(c[:, 0], n_classes).mean(-1)
        - weighted_f1_from_confusions(c[:, 1], n_classes).mean(-1)
        for c in (pooled.observed, pooled.resampled)
    )
    low, high = interval(resampled)
    return PairedDifference(
        float(observed[0]), low, high, float((resampled <= 0).mean()), resamples, len(pooled.seeds)
    )


def interval(resampled: np.ndarray) -> tuple[float, float]:
    """The CONFIDENCE percentile interval of resampled statistics."""
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class PooledConfusions:
    """Confusion counts of several models on the seeds they share, summed over test dialogues:
    `observed` [1, M, S, C*C] on the test set as it is, `resampled` [R, M, S, C*C] with the same
    dialogue resample applied to every model and seed (the pairing)."""

    models: tuple[str, ...]
    seeds: tuple[int, ...]
    observed: np.ndarray
    resampled: np.ndarray


def resample_confusions(
    predictions: dict[str, dict[int, Predictions]],
    n_classes: int,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> PooledConfusions:
    """Model name -> seed -> test predictions, to pooled confusion counts; raises ValueError when the
    models share no seed."""
    models = tuple(predictions)
    seeds = sorted(set.intersection(*(set(p) for p in predictions.values())))
    if not seeds:
        raise ValueError("no seed in common")
    order = sorted(predictions[models[0]][seeds[0]].dialogue_ids)
    counts = np.stack([_seed_counts(predictions[m], seeds, n_classes, order) for m in models])  # [M, S, D, K]
    weights = _resample_weights(len(order), resamples, seed)
    return PooledConfusions(
        models,
        tuple(seeds),
        np.einsum("msdk->msk", counts)[None],
        np.einsum("rd,msdk->rmsk", weights, counts),
    )
