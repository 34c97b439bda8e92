"""F1 has one definition (`benchmark.metrics`): the vectorised form the report's bootstrap resamples with,
and the plain form the trainer, the fine-tune and the context-free references score with, both against
scikit-learn's f1_score over random label vectors, classes absent from the truth or the predictions
included."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from sklearn.metrics import f1_score

from benchmark.home import PROJECT_ROOT
from benchmark.metrics import (
    per_class_f1,
    per_class_f1_from_confusions,
    weighted_f1,
    weighted_f1_from_confusions,
)
from benchmark.training.metrics import split_metrics


def seeds(count: int) -> list:
    """Seeds 0 to count - 1: the default lane draws seed 0 for every class count, the slow lane all."""
    return [0, *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, count))]


def _random_case(rng: np.random.Generator, n_classes: int, integer_weights: bool):
    """Labels from a random class distribution (from near-uniform to a few classes holding everything),
    predictions right with a random probability, per-utterance weights (bootstrap counts or reals)."""
    n = int(rng.integers(1, 150))
    shares = rng.dirichlet(np.full(n_classes, rng.choice([0.05, 1.0, 20.0])))
    labels = rng.choice(n_classes, size=n, p=shares)
    wrong = rng.random(n) > rng.random()
    predicted = np.where(wrong, rng.integers(0, n_classes, size=n), labels)
    weights = rng.integers(0, 4, size=n).astype(float) if integer_weights else rng.random(n)
    return labels, predicted, weights


@pytest.mark.parametrize("n_classes", [2, 3, 6, 7])
@pytest.mark.parametrize("seed", seeds(6))
def test_vectorised_f1_equals_scikit_learn_over_random_grids(n_classes, seed):
    """The report's numpy F1 (per class and weighted, over a batch of confusion counts) against
    scikit-learn's f1_score with sample weights, which the trainer's metrics use, on randomised labels,
    class counts and weights."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    counts, per_class, weighted = [], [], []
    for case in range(10):
        labels, predicted, weights = _random_case(rng, n_classes, integer_weights=case % 2 == 0)
        cells = labels * n_classes + predicted
        counts.append(np.bincount(cells, weights=weights, minlength=n_classes * n_classes))
        scored = {"labels": range(n_classes), "sample_weight": weights, "zero_division": 0}
        per_class.append(f1_score(labels, predicted, average=None, **scored))
        weighted.append(f1_score(labels, predicted, average="weighted", **scored))
    batch = np.stack(counts).reshape(2, 5, n_classes * n_classes)  # any leading shape
    assert per_class_f1_from_confusions(batch, n_classes).reshape(10, n_classes) == pytest.approx(
        np.stack(per_class), abs=1e-12
    )
    assert weighted_f1_from_confusions(batch, n_classes).reshape(10) == pytest.approx(weighted, abs=1e-12)


def _labels_with_absent_classes(rng: np.random.Generator, n_classes: int):
    """Random labels and predictions where some classes never occur as truth, some never as prediction."""
    labels, predicted, _ = _random_case(rng, n_classes, integer_weights=True)
    absent_truth, absent_prediction = rng.choice(n_classes, size=2, replace=False)
    labels = np.where(labels == absent_truth, (absent_truth + 1) % n_classes, labels)
    predicted = np.where(predicted == absent_prediction, (absent_prediction + 1) % n_classes, predicted)
    return labels, predicted


@pytest.mark.parametrize("n_classes", [2, 3, 6, 7, 9])
@pytest.mark.parametrize("seed", seeds(4))
def test_plain_f1_is_scikit_learns_to_the_bit_with_every_class_listed(n_classes, seed):
    """Bit-equal, not close: the trainer selects epochs and the regression gate compares records on these
    numbers, which scikit-learn computed before."""
    rng = np.random.default_rng(seed)
    every_class = list(range(n_classes))
    for _ in range(20):
        labels, predicted = _labels_with_absent_classes(rng, n_classes)
        expected = f1_score(labels, predicted, labels=every_class, average="weighted", zero_division=0)
        assert weighted_f1(labels, predicted, n_classes) == expected
        per_class = f1_score(labels, predicted, labels=every_class, average=None, zero_division=0)
        assert per_class_f1(labels, predicted, n_classes).tolist() == per_class.tolist()
        held = sorted(set(labels.tolist()))  # macro-F1 averages the classes the split holds
        macro = f1_score(labels, predicted, labels=held, average="macro", zero_division=0)
        assert split_metrics(labels, predicted, [f"c{i}" for i in every_class]).macro_f1 == macro


def test_a_class_absent_from_both_keeps_its_column_and_weighs_nothing():
    labels, predicted = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    assert per_class_f1(labels, predicted, 4).tolist() == pytest.approx([2 / 3, 0.8, 0.0, 0.0])
    assert weighted_f1(labels, predicted, 4) == pytest.approx((2 / 3 * 2 + 0.8 * 2) / 4)


def test_a_class_index_outside_the_classes_is_refused_not_miscounted():
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        weighted_f1(np.array([0, 1]), np.array([0, 3]), 3)


def test_no_module_scores_f1_with_scikit_learn_itself():
    """Every F1 goes through `benchmark.metrics`, so none is scored on the classes one split happens to
    hold (scikit-learn's default without `labels=`)."""
    callers = []
    for folder in ("benchmark", "summer", "baselines", "scripts"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "sklearn.metrics":
                    callers += [
                        f"{path.relative_to(PROJECT_ROOT)}: {a.name}" for a in node.names if "f1" in a.name
                    ]
    assert callers == []
