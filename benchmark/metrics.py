"""Per-class and weighted F1, the one definition every score of the benchmark uses (the trainer's epoch
selection and records, the fine-tune's epoch selection, the context-free references, the report's
bootstrap and claims).

Scores are computed from confusion counts, [..., C*C] with row = true class, so that one call scores a
single prediction or thousands of bootstrap resamples at once; the plain forms (`per_class_f1`,
`weighted_f1`) count one prediction's confusions and call the same code. Every class of the dataset is
always scored, present or not (scikit-learn's `labels=` the full class list):

    F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c)          (0 where the class is neither true nor predicted)
    weighted-F1 = sum_c n_c F1_c / sum_c n_c         (n_c the true utterances of class c; 0 with none)

which is scikit-learn's `f1_score(average=None | "weighted", labels=range(C), zero_division=0)`, to the
bit: both divide the same integer counts and sum the same products in the same order.
"""

from __future__ import annotations

import numpy as np


def confusion_counts(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """[C*C] confusion counts (row = true class) of class indices in [0, n_classes)."""
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    # an index outside the classes would land silently in another class's cell
    if labels.size and (
        min(labels.min(), predicted.min()) < 0 or max(labels.max(), predicted.max()) >= n_classes
    ):
        raise ValueError(f"class indices outside [0, {n_classes}): labels or predictions of another dataset")
    return np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)


def per_class_f1_from_confusions(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """[..., C*C] confusion counts (row = true class) -> [..., C] F1 per class (zero_division=0)."""
    matrix = confusions.reshape(*confusions.shape[:-1], n_classes, n_classes)
    true_positive = np.diagonal(matrix, axis1=-2, axis2=-1)
    denominator = matrix.sum(-1) + matrix.sum(-2)
    return np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)


def weighted_f1_from_confusions(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """[..., C*C] confusion counts -> [...] support-weighted F1 (scikit-learn's, zero_division=0)."""
    support = confusions.reshape(*confusions.shape[:-1], n_classes, n_classes).sum(-1)
    total = support.sum(-1)
    weighted = (per_class_f1_from_confusions(confusions, n_classes) * support).sum(-1)
    return np.divide(weighted, total, out=np.zeros_like(total), where=total > 0)


def per_class_f1(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """[C] F1 of each class of one prediction."""
    return per_class_f1_from_confusions(
        confusion_counts(labels, predicted, n_classes).astype(float), n_classes
    )


def weighted_f1(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """The support-weighted F1 of one prediction, as a fraction."""
    confusions = confusion_counts(labels, predicted, n_classes).astype(float)
    return float(weighted_f1_from_confusions(confusions, n_classes))
