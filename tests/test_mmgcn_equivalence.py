"""MMGCN's graph kept as its nonzero blocks computes what the dense batch graph it replaced computed: the
reference below is that dense computation ([B, M*T, M*T] adjacency, one product per GCNII layer), run on
the same parameters, the same batch and the same dropout draws."""

from __future__ import annotations

import dataclasses

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from baselines.mmgcn import DialogueGraph, angular_similarity
from benchmark.data.collate import collate_dialogues
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import ModelDims
from tests.model_fixtures import tiny_dialogues, tiny_meta

DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.2)


def dense_graph(nodes: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """The replaced implementation: [B, M*T, M*T], zeros included."""
    length = mask.shape[1]
    real = mask[:, :, None] & mask[:, None, :]
    eye = torch.eye(length, dtype=torch.bool)
    blocks = []
    for m, x in enumerate(nodes):
        row = []
        for n, y in enumerate(nodes):
            if m == n:
                row.append(torch.where(real, angular_similarity(x[:, :, None, :], x[:, None, :, :]), 0.0))
            else:
                row.append(torch.where(real & eye, angular_similarity(x, y)[:, :, None], 0.0))
        blocks.append(torch.cat(row, dim=-1))
    adjacency = torch.cat(blocks, dim=-2)
    degree = adjacency.sum(-1)
    scale = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), 0.0)
    return scale[:, :, None] * adjacency * scale[:, None, :]


def dense_forward(model, batch) -> torch.Tensor:
    """The replaced forward, step for step, with the dense graph."""
    mask, length = batch.mask, batch.mask.shape[1]
    nodes = []
    for m in model.modalities:
        x = model.inputs[m](batch.features[m])
        if m == "text":
            packed = pack_padded_sequence(x, batch.lengths.cpu(), batch_first=True, enforce_sorted=False)
            x = pad_packed_sequence(model.text_context(packed)[0], batch_first=True, total_length=length)[0]
            x = x + model.speaker(batch.speakers)
        nodes.append(x * mask[:, :, None])
    adjacency = dense_graph(nodes, mask)
    features = model.dropout(torch.cat(nodes, dim=1))
    initial = torch.relu(model.first(features))
    hidden = initial
    for layer in model.layers:
        spread = adjacency @ model.dropout(hidden)
        mixed = (1 - layer.alpha) * spread + layer.alpha * initial
        hidden = torch.relu(
            layer.theta * (torch.cat([spread, initial], dim=-1) @ layer.weight) + (1 - layer.theta) * mixed
        )
    readout = torch.cat([features, model.dropout(hidden)], dim=-1).split(length, dim=1)
    return model.classifier(torch.relu(model.dropout(torch.cat(readout, dim=-1))))


def outputs_and_gradients(model, batch, forward):
    torch.manual_seed(7)  # the same dropout draws for both, if both draw in the same order
    model.zero_grad()
    features = {m: f.clone().requires_grad_(True) for m, f in batch.features.items()}
    logits = forward(model, dataclasses.replace(batch, features=features))
    logits[batch.mask].logsumexp(-1).sum().backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters()}
    return logits.detach(), gradients, {m: f.grad for m, f in features.items()}


def test_block_graph_is_the_dense_graph():
    torch.manual_seed(0)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    nodes = [torch.randn(2, 5, 4) * mask[:, :, None] for _ in range(3)]
    graph = DialogueGraph.of(nodes, mask)
    hidden = torch.randn(2, 15, 6)
    torch.testing.assert_close(graph.spread(hidden), dense_graph(nodes, mask) @ hidden, rtol=1e-6, atol=1e-6)


def test_mmgcn_forward_and_gradients_match_the_dense_graph():
    torch.manual_seed(0)
    model = MODELS.get("mmgcn").build(tiny_meta(), DIMS, {"gcn_layers": 8})
    model.train()
    batch = collate_dialogues(tiny_dialogues(tiny_meta()))
    logits, gradients, feature_gradients = outputs_and_gradients(model, batch, lambda m, b: m(b).logits)
    expected, expected_gradients, expected_feature_gradients = outputs_and_gradients(
        model, batch, dense_forward
    )
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gradients, expected_gradients, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(feature_gradients, expected_feature_gradients, rtol=1e-4, atol=1e-5)
