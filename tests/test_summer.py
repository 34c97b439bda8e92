"""SUMMER: routing, balance loss, ablation switches, padding, distillation terms."""

from __future__ import annotations

import itertools

import pytest
import torch

from benchmark.catalog import ABLATIONS, MODELS
from benchmark.data.collate import collate_dialogues
from benchmark.errors import BenchmarkError
from benchmark.modeling import ModelDims
from summer.moe import SparseDynamicMoE, balance_loss, dynamic_routing
from tests.model_fixtures import assert_padding_invariant, tiny_dialogues, tiny_meta

DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.0)


def build(overrides=None, meta=None):
    return MODELS.get("summer").build(meta or tiny_meta(), DIMS, overrides or {})


def with_teacher(model, meta=None):
    model.attach_teacher(MODELS.get("text-teacher").build(meta or tiny_meta(), DIMS, {}))
    return model


def brute_force_routing(p: torch.Tensor, threshold: float, k_max: int) -> set[int]:
    order = sorted(range(len(p)), key=lambda e: -p[e].item())
    for size in range(1, k_max + 1):
        if sum(p[e].item() for e in order[:size]) >= threshold:
            return set(order[:size])
    return set(order[:k_max])


def test_routing_keeps_exactly_k_when_the_threshold_is_out_of_reach():
    probabilities = torch.randn(50, 4).softmax(-1)
    kept = dynamic_routing(probabilities, threshold=1.01, k_max=2)
    assert (kept.sum(-1) == 2).all()
    top2 = probabilities.topk(2).indices
    assert all(set(top2[i].tolist()) == set(kept[i].nonzero().squeeze(1).tolist()) for i in range(50))


@pytest.mark.parametrize("threshold, k_max", [(0.3, 2), (0.5, 2), (0.6, 3), (0.9, 4)])
def test_routing_keeps_the_smallest_set_reaching_the_threshold(threshold, k_max):
    probabilities = (torch.randn(200, 4) * 2).softmax(-1)
    kept = dynamic_routing(probabilities, threshold, k_max)
    for i in range(200):
        assert set(kept[i].nonzero().squeeze(1).tolist()) == brute_force_routing(
            probabilities[i], threshold, k_max
        )


def test_moe_runs_only_chosen_experts_with_renormalised_weights():
    torch.manual_seed(0)
    moe = SparseDynamicMoE(width=8, hidden=16, experts=4, k_max=1, threshold=1.01, dropout=0.0)
    calls = [0] * 4
    for index, expert in enumerate(moe.experts):
        expert.register_forward_hook(
            lambda _m, inputs, _o, index=index: calls.__setitem__(index, calls[index] + len(inputs[0]))
        )
    tokens = torch.randn(10, 8)  # packed real utterances, as ContextLayer hands them over
    y, _ = moe(tokens)
    assert sum(calls) == len(tokens)  # k=1: each utterance through exactly one expert
    chosen = moe.router(tokens).argmax(-1)
    expected = torch.stack([moe.experts[e](t) for e, t in zip(chosen.tolist(), tokens, strict=True)])
    torch.testing.assert_close(y, expected)  # renormalised: a single kept expert has weight 1


def test_balance_loss_is_positive_and_lowest_for_uniform_routing():
    uniform = torch.full((40, 4), 0.25)
    kept_uniform = torch.eye(4, dtype=torch.bool).repeat(10, 1)
    collapsed = torch.tensor([[0.97, 0.01, 0.01, 0.01]]).repeat(40, 1)
    kept_collapsed = dynamic_routing(collapsed, 0.5, 2)
    low, high = balance_loss(uniform, kept_uniform), balance_loss(collapsed, kept_collapsed)
    assert low.item() == pytest.approx(1.0) and high.item() > 3.5
    assert 0 < low < high


def test_ablation_switches_change_the_parameter_set_as_described():
    def names(model):
        return {name.split(".")[0] for name, _ in model.named_parameters()}

    full = build()
    full_names = {n for n, _ in full.named_parameters()}
    assert any("router" in n for n in full_names) and "latent_projection.weight" in full_names
    assert {"cross", "fusion"} <= names(full)
    variants = {a.name: build(dict(a.overrides)) for _, a in ABLATIONS.items()}
    assert not any("router" in n or "experts" in n for n, _ in variants["sdmoe"].named_parameters())
    assert "cross" not in names(variants["hcmf"])
    assert not any("level" in n for n, _ in variants["hcmf"].named_parameters())
    for name in ("ikd", "latent"):
        assert "latent_projection" not in names(variants[name])
    assert variants["ikd"].teacher_request() is None and variants["latent"].teacher_request() is not None


def test_outputs_of_real_utterances_ignore_padding():
    assert_padding_invariant(with_teacher(build()), tiny_meta())


def test_gradient_reaches_every_modality_encoder():
    model = with_teacher(build())
    batch = collate_dialogues(tiny_dialogues(tiny_meta()))
    output = model(batch)
    (output.logits[batch.mask].sum() + sum(output.aux_losses.values())).backward()
    for modality in ("text", "audio", "visual"):
        assert model.encoders[modality].projection.weight.grad.abs().sum() > 0


def test_aux_losses_follow_the_switches_and_the_teacher_stays_out_of_the_student():
    batch = collate_dialogues(tiny_dialogues(tiny_meta()))
    expected = {
        (): {"moe_balance", "kd_logit", "kd_latent"},
        ("sdmoe",): {"kd_logit", "kd_latent"},
        ("ikd",): {"moe_balance"},
        ("latent",): {"moe_balance", "kd_logit"},
    }
    for dropped, terms in expected.items():
        overrides = {k: v for name in dropped for k, v in ABLATIONS.get(name).overrides.items()}
        model = build(overrides)
        if model.teacher_request():
            with_teacher(model)
        assert set(model(batch).aux_losses) == terms
    model = with_teacher(build())
    assert not any(k.startswith("_teacher") for k in model.state_dict())
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in build().parameters())


def test_moe_balance_is_the_mean_over_the_sdmoe_layers_only():
    model = with_teacher(build())
    losses = []
    for module in model.modules():
        if isinstance(module, SparseDynamicMoE):
            module.register_forward_hook(lambda _m, _i, output: losses.append(output[1]))
    output = model(collate_dialogues(tiny_dialogues(tiny_meta())))
    assert len(losses) == 3  # one SDMoE per modality; the cross-modal layers have none
    expected = model.config.lambda_moe * torch.stack(losses).mean()
    torch.testing.assert_close(output.aux_losses["moe_balance"], expected)


def test_logit_distillation_vanishes_when_student_matches_teacher():
    model = with_teacher(build({"use_latent_kd": False, "dropout": 0.0}))
    batch = collate_dialogues(tiny_dialogues(tiny_meta()))
    teacher = model._teacher[0]
    model.classifier = torch.nn.Identity()
    model.fusion = type("Same", (torch.nn.Module,), {"forward": lambda self, i, c: teacher(batch).logits})()
    assert model(batch).aux_losses["kd_logit"].item() == pytest.approx(0.0, abs=1e-6)
    assert "kd_logit" not in model.eval()(batch).aux_losses  # evaluation skips the teacher's forward


def test_the_frozen_teacher_runs_once_per_dialogue_and_again_after_a_new_attach():
    model = with_teacher(build({"dropout": 0.0}))
    dialogues = tiny_dialogues(tiny_meta())
    calls = []
    model._teacher[0].register_forward_hook(lambda _m, inputs, _o: calls.append(inputs[0].dialogue_ids))
    first = model(collate_dialogues(dialogues))
    again = model(collate_dialogues(dialogues[::-1]))  # other order, other padding: outputs from memory
    assert calls == [[d.dialogue_id for d in dialogues]]
    for term in ("kd_logit", "kd_latent"):
        torch.testing.assert_close(first.aux_losses[term], again.aux_losses[term])
    with_teacher(model)
    model(collate_dialogues(dialogues[:1]))
    assert len(calls) == 1  # the hook sits on the old teacher; the new one ran instead
    assert list(model._teacher_outputs) == [dialogues[0].dialogue_id]


def test_ikd_without_an_attached_teacher_is_a_clear_error():
    with pytest.raises(RuntimeError, match="attach_teacher"):
        build()(collate_dialogues(tiny_dialogues(tiny_meta())))


def test_absent_modalities_and_unknown_options():
    two = tiny_meta({"text": 12, "audio": 10})
    model = with_teacher(build(meta=two), two)
    assert model(collate_dialogues(tiny_dialogues(two))).logits.shape[-1] == 6
    with pytest.raises(BenchmarkError, match="needs feature modalities"):
        build(meta=tiny_meta({}))
    with pytest.raises(BenchmarkError, match="no option 'use_moe'.*use_sdmoe"):
        build({"use_moe": False})


def test_every_modality_pair_gets_a_cross_modal_stack():
    assert set(build().cross.keys()) == {
        f"{a}->{b}" for a, b in itertools.permutations(("text", "audio", "visual"), 2)
    }


def test_the_sdmoe_is_the_ffn_of_the_intra_modal_layers_and_cross_modal_layers_attend_only():
    model = build()
    assert all(isinstance(layer.ffn, SparseDynamicMoE) for stack in model.intra.values() for layer in stack)
    assert all(layer.ffn is None for stack in model.cross.values() for layer in stack)
