"""MultiEMO's pieces against direct computations of their formulas and its dataset switches (the
cross-check's writer of the authors' input layout is tested in test_crosscheck.py)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from baselines.multiemo import (
    DialogueContext,
    reverse_dialogues,
    sample_weighted_focal_contrastive,
    soft_hgr,
    swfc_class_weights,
)
from benchmark.data.collate import collate_dialogues
from benchmark.data.schema import CLASS_NAMES
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import ModelDims
from tests.model_fixtures import tiny_dialogues, tiny_meta

DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.0)


def test_class_weights_are_inverse_frequency_to_the_power_then_sum_to_one():
    weights = swfc_class_weights(torch.tensor([6, 2, 0, 4]), power=1.5)
    raw = [(12 / 6) ** 1.5, (12 / 2) ** 1.5, 0.0, (12 / 4) ** 1.5]
    assert weights.tolist() == pytest.approx([w / sum(raw) for w in raw])


def test_swfc_equals_the_formula_computed_pair_by_pair():
    features = torch.tensor([[1.0, 0.2], [0.9, -0.1], [-0.3, 1.0], [0.5, 0.5], [-1.0, -0.4]])
    labels = torch.tensor([0, 0, 1, 1, 2])  # class 2 has one utterance: no positive pair, adds 0
    class_weights = torch.tensor([0.2, 0.3, 0.5])
    tau, gamma = 0.7, 2.4
    z = [[v / math.hypot(*row) for v in row] for row in features.tolist()]
    total = 0.0
    for i in range(5):
        others = [j for j in range(5) if j != i]
        scores = {j: math.exp(sum(a * b for a, b in zip(z[i], z[j], strict=True)) / tau) for j in others}
        p = {j: s / sum(scores.values()) for j, s in scores.items()}
        positives = [j for j in others if labels[j] == labels[i]]
        if positives:
            focal = sum((1 - p[j]) ** gamma * math.log(p[j]) for j in positives) / len(positives)
            total += class_weights[labels[i]].item() * focal
    expected = -total / 5
    loss = sample_weighted_focal_contrastive(features, labels, class_weights, tau, gamma)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    features.requires_grad_(True)
    sample_weighted_focal_contrastive(features, labels, class_weights, tau, gamma).backward()
    assert torch.isfinite(features.grad).all()  # the excluded i == j pairs never turn the gradient NaN


def test_soft_hgr_equals_the_formula_with_covariances_over_utterances():
    rng = np.random.default_rng(0)
    streams = [rng.standard_normal((6, 3)) for _ in range(3)]
    n = 6
    expected = 0.0
    for a, b in ((0, 1), (0, 2), (1, 2)):
        f, g = streams[a], streams[b]
        mapping = np.mean(np.sum(f * g, axis=1))
        covariance = np.trace(np.cov(f, rowvar=False) @ np.cov(g, rowvar=False)) / n
        expected += mapping - covariance / 2
    loss = soft_hgr([torch.tensor(s, dtype=torch.float32) for s in streams])
    assert loss.item() == pytest.approx(-expected / n, rel=1e-5)
    assert soft_hgr([torch.ones(1, 3)] * 3).item() == 0.0  # one utterance has no covariance


def test_reversing_each_dialogue_leaves_padding_and_inverts_itself():
    mask = torch.tensor([[True, True, True], [True, True, False]])
    x = torch.tensor([[1, 2, 3], [4, 5, 0]])
    assert reverse_dialogues(x, mask).tolist() == [[3, 2, 1], [5, 4, 0]]
    assert torch.equal(reverse_dialogues(reverse_dialogues(x, mask), mask), x)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_context_reads_later_utterances_only_when_bidirectional(bidirectional):
    torch.manual_seed(0)
    context = DialogueContext(8, parties=2, bidirectional=bidirectional, dropout=0.0)
    x = torch.randn(1, 5, 8)
    speakers = torch.tensor([[0, 1, 0, 0, 1]])
    mask = torch.ones(1, 5, dtype=torch.bool)
    changed = x.clone()
    changed[0, 4] += 1.0  # only the last utterance differs
    before, after = context(x, speakers, mask), context(changed, speakers, mask)
    assert torch.allclose(before[0, :4], after[0, :4]) != bidirectional


def test_meld_runs_forward_only_with_no_text_context_and_a_wider_mlp():
    meta = dataclasses.replace(tiny_meta(), family="meld", classes=CLASS_NAMES["meld"], n_speakers=3)
    model = MODELS.get("multiemo").build(meta, DIMS, {})
    assert sorted(model.contexts) == ["audio", "visual"]
    assert all(c.backward_rnn is None for c in model.contexts.values())
    assert model.classifier[0].out_features == 2 * DIMS.width
    assert model.config.swfc_weight == pytest.approx(0.3 / 0.4)  # the authors' MELD script
    batch = collate_dialogues(tiny_dialogues(meta))
    output = model(batch)
    assert output.logits.shape == (*batch.mask.shape, 7)
    assert set(output.aux_losses) == {"swfc", "soft_hgr"}
    model.eval()
    assert model(batch).aux_losses == {}


def test_training_labels_set_the_swfc_class_weights():
    model = MODELS.get("multiemo").build(tiny_meta(), DIMS, {})
    assert torch.allclose(model.class_weights, torch.full((6,), 1 / 6))
    labels = torch.tensor([0, 0, 0, 1, 2, 3, 4, 5, 5, -100])
    model.observe_training_labels(labels)
    counts = torch.tensor([3, 1, 1, 1, 1, 2])
    assert torch.allclose(model.class_weights, swfc_class_weights(counts, model.config.sample_weight_power))
