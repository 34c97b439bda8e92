"""SUMMER version 2: each mechanism working, not just running (routing, guided attention, IKD terms,
label smoothing, ablations removing exactly their part, padding, the teacher's cache)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch
import torch.nn.functional as F

from benchmark.data.collate import IGNORE_LABEL, Batch, collate_dialogues
from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import ABLATIONS, MODELS
from benchmark.models.contract import PAPER, PAPER_AND_SUITE, SUITE, ModelDims
from benchmark.training.runner import ablations_of
from summer.distillation import FrozenTeacher
from summer.fusion import Attention, teacher_guided_scores
from summer.moe import (
    BiGRUExpert,
    MoEOptions,
    SparseDynamicMoE,
    balance_loss,
    context_block,
    gumbel_weights,
    run_context_blocks,
    sigma_band,
    threshold_routing,
    top_k_routing,
)
from tests.model_fixtures import tiny_dialogues, tiny_meta

DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.0)


def build(overrides=None, meta=None):
    return MODELS.get("summer").build(meta or tiny_meta(), DIMS, overrides or {})


def teacher_for(meta=None):
    return MODELS.get("text-teacher").build(meta or tiny_meta(), DIMS, {})


def with_teacher(model, meta=None):
    model.attach_teacher(teacher_for(meta))
    return model


def batch_of(meta=None) -> Batch:
    return collate_dialogues(tiny_dialogues(meta or tiny_meta()))


def extra_padding(batch: Batch, extra: int) -> Batch:
    """The same dialogues with `extra` more padded positions: nothing real changes."""

    def pad(x: torch.Tensor, value=0) -> torch.Tensor:
        return F.pad(x, (0, 0, 0, extra) if x.dim() == 3 else (0, extra), value=value)

    return Batch(
        batch.dialogue_ids,
        {m: pad(x) for m, x in batch.features.items()},
        pad(batch.speakers),
        pad(batch.labels, IGNORE_LABEL),
        pad(batch.mask, False),
    )


# --- SDMoE routing ------------------------------------------------------------------------------


def test_sigma_band_switches_off_exactly_the_scores_outside_mu_plus_minus_two_sigma():
    scores = torch.zeros(30, 4)
    scores[0, 1], scores[1, 2], scores[2, 3] = 10.0, -10.0, 0.5  # two outliers, one inside the band
    mean, spread = scores.mean(), scores.std(unbiased=False)
    assert (scores[0, 1] > mean + 2 * spread) and (scores[1, 2] < mean - 2 * spread)
    kept = sigma_band(scores)
    assert not kept[1, 2]  # below the band, and not the utterance's best: off
    inside = (scores > mean - 2 * spread) & (scores < mean + 2 * spread)
    assert kept[inside].all()  # none inside the band is switched off
    assert kept[0, 1]  # above the band but utterance 0's best expert: always kept
    assert kept.sum() == inside.sum() + 1


def test_each_utterance_keeps_its_best_expert_even_when_all_its_scores_are_outside():
    scores = torch.zeros(40, 4)
    scores[0] = torch.tensor([-30.0, -20.0, -25.0, -40.0])
    kept = sigma_band(scores)
    assert kept[0].tolist() == [False, True, False, False]


def test_gumbel_noise_only_in_training_and_never_on_switched_off_experts():
    torch.manual_seed(0)
    scores = torch.randn(64, 4)
    kept = sigma_band(scores) & (torch.arange(4) != 3)  # expert 3 off for everyone
    evaluation = gumbel_weights(scores, kept, 1.0, noisy=False)
    torch.testing.assert_close(evaluation, scores.masked_fill(~kept, float("-inf")).softmax(-1))
    torch.testing.assert_close(gumbel_weights(scores, kept, 1.0, noisy=False), evaluation)
    noisy = gumbel_weights(scores, kept, 1.0, noisy=True)
    assert not torch.allclose(noisy, evaluation)
    assert (noisy[:, 3] == 0).all() and torch.allclose(noisy.sum(-1), torch.ones(64))


def test_the_sdmoe_adds_noise_in_training_mode_only():
    torch.manual_seed(0)
    moe = SparseDynamicMoE(8, 0.0, MoEOptions())
    x, mask = torch.randn(2, 5, 8), torch.ones(2, 5, dtype=torch.bool)
    moe.eval()
    torch.testing.assert_close(moe(x, mask)[0], moe(x, mask)[0])
    moe.train()
    assert not torch.allclose(moe(x, mask)[0], moe(x, mask)[0])


def test_sdmoe_output_is_the_weighted_sum_of_bigru_experts_over_the_sequence():
    torch.manual_seed(0)
    moe = SparseDynamicMoE(8, 0.0, MoEOptions()).eval()
    x = torch.randn(2, 6, 8)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    y, _ = moe(x, mask)
    scores = moe.router(x[mask])
    weights = gumbel_weights(scores, sigma_band(scores), 1.0, noisy=False)
    expected = sum(weights[:, e, None] * moe.experts[e](x, mask)[mask] for e in range(4))
    torch.testing.assert_close(y[mask], expected)
    assert (y[~mask] == 0).all()
    # the expert is recurrent over the real utterances: the second dialogue alone gives the same output
    expert = moe.experts[0]
    torch.testing.assert_close(expert(x[1:, :3], mask[1:, :3])[0], expert(x, mask)[1, :3])


@pytest.mark.parametrize("width", [8, 1024])  # 1024: the paper width, where the experts run apart
def test_the_sdmoe_experts_run_together_equal_separate_bigru_experts(width):
    """The SDMoE packs once and, at small widths, runs its E experts as one block-diagonal GRU: its
    [N, E, d] outputs and the gradients of every expert's weights equal E separate BiGRUExperts'."""
    torch.manual_seed(0)
    moe = SparseDynamicMoE(width, 0.0, MoEOptions())
    x = torch.randn(3, 5, width, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] * 4 + [False]])
    together = moe.expert_outputs(x, mask)
    probe = torch.randn_like(together)
    expected = torch.stack([expert(x, mask)[mask] for expert in moe.experts], dim=1)
    torch.testing.assert_close(together, expected, rtol=1e-5, atol=1e-5)
    parameters = [x, *moe.experts.parameters()]
    fused_grads = torch.autograd.grad((together * probe).sum(), parameters)
    separate_grads = torch.autograd.grad((expected * probe).sum(), parameters)
    for fused, separate in zip(fused_grads, separate_grads, strict=True):
        torch.testing.assert_close(fused, separate, rtol=1e-4, atol=1e-5)


def test_the_modalities_context_blocks_run_together_as_each_alone():
    """One fused recurrent pass over three modalities' SDMoEs (and past a block that cannot fuse) gives
    each block's own output and the same gradients as running the blocks one by one."""
    torch.manual_seed(0)
    width = 8
    blocks = [context_block(width, 0.0, MoEOptions()) for _ in range(3)]
    blocks.append(context_block(width, 0.0, MoEOptions(), sparse=False))  # a single expert: runs alone
    for block in blocks:
        block.eval()
    inputs = [torch.randn(3, 5, width, requires_grad=True) for _ in blocks]
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] * 4 + [False]])
    together = run_context_blocks(blocks, inputs, mask)
    alone = [block(x, mask) for block, x in zip(blocks, inputs, strict=True)]
    parameters = [*inputs, *(p for block in blocks for p in block.parameters())]
    probes = [torch.randn_like(x) for x in inputs]
    for (mine, balance), (theirs, their_balance) in zip(together, alone, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(balance, their_balance)
    fused_grads = torch.autograd.grad(
        sum((y * p).sum() for (y, _), p in zip(together, probes, strict=True)), parameters
    )
    alone_grads = torch.autograd.grad(
        sum((y * p).sum() for (y, _), p in zip(alone, probes, strict=True)), parameters
    )
    for fused, separate in zip(fused_grads, alone_grads, strict=True):
        torch.testing.assert_close(fused, separate, rtol=1e-4, atol=1e-5)


def test_the_sdmoe_keeps_e_separate_experts_parameters_and_their_initialisation():
    width, hidden = 64, 32
    moe = SparseDynamicMoE(width, 0.0, MoEOptions())
    per_expert = 2 * (3 * hidden * width + 3 * hidden * hidden + 6 * hidden)  # both directions
    assert sum(p.numel() for p in moe.experts.parameters()) == 4 * per_expert
    torch.manual_seed(3)
    torch.nn.Linear(width, 4)  # the router, made first
    separate = [BiGRUExpert(width) for _ in range(4)]
    torch.manual_seed(3)
    together = SparseDynamicMoE(width, 0.0, MoEOptions()).experts
    for expert, reference in zip(together, separate, strict=True):
        for mine, theirs in zip(expert.parameters(), reference.parameters(), strict=True):
            assert mine.equal(theirs) and mine.abs().max() <= hidden**-0.5


def test_topk_and_threshold_routings_keep_the_old_readings():
    probabilities = (torch.randn(100, 4) * 2).softmax(-1)
    assert (top_k_routing(probabilities, 2).sum(-1) == 2).all()
    kept = threshold_routing(probabilities, 0.5, 2)
    top1 = probabilities.max(-1).values
    assert ((kept.sum(-1) == 1) == (top1 >= 0.5)).all()


def test_balance_loss_is_one_when_uniform_and_higher_when_collapsed():
    uniform = torch.full((40, 4), 0.25)
    low = balance_loss(uniform, torch.eye(4, dtype=torch.bool).repeat(10, 1))
    collapsed = torch.tensor([[0.97, 0.01, 0.01, 0.01]]).repeat(40, 1)
    high = balance_loss(collapsed, top_k_routing(collapsed, 1))
    assert low.item() == pytest.approx(1.0) and high.item() > 3.5


def test_bigru_experts_need_an_even_width():
    with pytest.raises(BenchmarkError, match="even width"):
        BiGRUExpert(15)


# --- HCMF: teacher-guided attention ----------------------------------------------------------------


def test_the_teacher_guided_scores_follow_the_rule_on_a_hand_made_pair():
    student = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    teacher = torch.tensor([[0.4, 2.0], [1.0, -1.6]])  # gaps 0.4, 1.0, -1.0, -0.6
    guided = teacher_guided_scores(student, teacher, torch.tensor(0.5))
    # |gap| > 0.5 pulls by phi * gap; 0.4 stays
    torch.testing.assert_close(guided, torch.tensor([[0.0, 1.5], [1.5, -1.3]]))
    assert teacher_guided_scores(student, teacher, torch.tensor(0.0)).equal(student)


def test_guided_attention_uses_the_teacher_scores_and_learns_phi():
    torch.manual_seed(0)
    block = Attention(8, 2, 0.0, guided=True)
    assert block.phi.item() == 0.5
    x, context = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    mask = torch.ones(1, 4, dtype=torch.bool)
    far = torch.full((1, 4, 4), 50.0) * torch.eye(4)  # the teacher attends to the diagonal only
    guided, _ = block(x, mask, context, far)
    plain, _ = block(x, mask, context, torch.zeros(1, 4, 4))
    assert not torch.allclose(guided, plain)
    guided.sum().backward()
    assert block.phi.grad is not None and block.phi.grad != 0


# --- IKD ------------------------------------------------------------------------------------------


def test_distillation_terms_are_non_zero_and_carry_gradient_to_the_student():
    model = with_teacher(build())
    batch = batch_of()
    terms = model(batch).aux_losses
    assert {"kd_logit", "kd_latent", "kd_head"} <= set(terms)
    for name in ("kd_logit", "kd_latent", "kd_head"):
        model.zero_grad()
        assert terms[name].item() > 0
        terms[name].backward(retain_graph=True)
        assert model.encoders["text"].projection.weight.grad.abs().sum() > 0, name


def test_the_teacher_head_loss_reaches_the_student_but_not_the_teacher():
    model = with_teacher(build())
    teacher = model._teacher.model
    loss = model(batch_of()).aux_losses["kd_head"]
    loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert not any(p.requires_grad for p in teacher.parameters())
    assert model.context["audio"][0].mixer.router.weight.grad.abs().sum() > 0
    assert not any(name.startswith("_teacher") for name in model.state_dict())


def test_latent_mse_compares_the_fused_features_with_the_teacher_hidden_state_without_projection():
    model = with_teacher(build())
    batch = batch_of()
    output = model(batch)
    targets = model._teacher.targets(batch)
    expected = F.mse_loss(output.hidden[batch.mask], targets.hidden)
    torch.testing.assert_close(output.aux_losses["kd_latent"], expected)
    assert not any("projection" in n for n, _ in model.named_parameters() if not n.startswith("encoders"))


def test_label_smoothing_changes_the_loss_by_the_expected_amount():
    torch.manual_seed(0)
    logits, labels = torch.randn(20, 6), torch.randint(0, 6, (20,))
    model = build()
    assert model.config.label_smoothing == 0.1
    smoothed = F.cross_entropy(logits, labels, label_smoothing=0.1)
    plain = F.cross_entropy(logits, labels)
    uniform = -logits.log_softmax(-1).mean(-1).mean()  # cross-entropy against the uniform law
    torch.testing.assert_close(smoothed, 0.9 * plain + 0.1 * uniform)
    assert with_teacher(model)(batch_of()).label_smoothing == 0.1
    assert with_teacher(build({"label_smoothing": 0.0}))(batch_of()).label_smoothing == 0.0


def test_the_trainer_applies_the_label_smoothing_the_model_asks_for(monkeypatch):
    from benchmark.experiment.profiles import TrainConfig
    from benchmark.training import loop

    seen = []
    real = F.cross_entropy

    def spy(*args, **kwargs):
        if "ignore_index" in kwargs:  # the trainer's cross-entropy, not the teacher-head term
            seen.append(kwargs.get("label_smoothing"))
        return real(*args, **kwargs)

    monkeypatch.setattr(loop.F, "cross_entropy", spy)
    model = with_teacher(build())
    config = TrainConfig(lr=1e-3, epochs=1, batch_size=8, patience=0)
    optimizer = loop.make_optimizer(model, config)
    loop.train_epoch(model, tiny_dialogues(tiny_meta()), optimizer, config, torch.Generator())
    assert seen == [0.1]


def test_the_frozen_teacher_runs_once_per_dialogue():
    model = with_teacher(build())
    dialogues = tiny_dialogues(tiny_meta())
    calls = []
    encode = model._teacher.model.encode
    model._teacher.model.encode = lambda batch: calls.append(batch.dialogue_ids) or encode(batch)
    model(collate_dialogues(dialogues))
    reordered = collate_dialogues(dialogues[::-1])  # other order, other padding: targets from memory
    remembered = model._teacher.targets(reordered)
    assert calls == [[d.dialogue_id for d in dialogues]]
    hidden, scores, _ = encode(reordered)
    torch.testing.assert_close(remembered.hidden, hidden[reordered.mask])
    torch.testing.assert_close(
        remembered.scores, scores * reordered.mask[:, None, :] * reordered.mask[..., None]
    )


def test_ikd_without_an_attached_teacher_is_a_clear_error():
    with pytest.raises(RuntimeError, match="attach_teacher"):
        build()(batch_of())
    with pytest.raises(TypeError, match="text-teacher"):
        FrozenTeacher(MODELS.get("tfn").build(tiny_meta(), DIMS, {}))


# --- ablations ------------------------------------------------------------------------------------


def parameter_names(model) -> set[str]:
    return {name for name, _ in model.named_parameters()}


def test_the_paper_and_suite_rows_are_all_registered_and_marked():
    rows = {name: ABLATIONS.get(name).origin for name in ablations_of("summer")}
    assert rows == {
        "standard-moe": PAPER,
        "self-attention": PAPER,
        "ikd": PAPER_AND_SUITE,
        "label-smoothing": PAPER,
        "sdmoe": SUITE,
        "hcmf": SUITE,
        "latent": SUITE,
    }


def test_each_ablation_removes_exactly_its_part():
    full = parameter_names(build())
    variant = {name: build(dict(ABLATIONS.get(name).overrides)) for name in ablations_of("summer")}
    names = {name: parameter_names(model) for name, model in variant.items()}
    # same parameters, other behaviour
    assert names["standard-moe"] == full and variant["standard-moe"].config.routing == "topk"
    assert names["label-smoothing"] == full and variant["label-smoothing"].config.label_smoothing == 0
    # the teacher-guided mask's phi, one per cross-modal block, is all that IKD and "latent" own
    phis = {n for n in full if n.endswith(".phi")}
    assert len(phis) == 6 and full - names["ikd"] == phis and names["ikd"] <= full
    assert names["latent"] == names["ikd"]
    assert variant["ikd"].teacher_request() is None and variant["latent"].teacher_request() is not None
    # w/o SDMoE: routers and the other experts gone, one expert of the same kind in each place
    assert not any("router" in n for n in names["sdmoe"])
    routers = {n for n in full if "router" in n}
    assert len(routers) == 2 * 4  # 3 modality SDMoEs + the Global MoE, weight and bias
    gru_full = sum(p.numel() for n, p in build().named_parameters() if ".gru." in n)
    gru_dense = sum(p.numel() for n, p in variant["sdmoe"].named_parameters() if ".gru." in n)
    assert gru_full == 4 * gru_dense
    # w/o HCMF (suite): no cross-modal attention, no fusion levels, no Global MoE; only a projection
    assert {n.split(".")[1] for n in names["hcmf"] if n.startswith("fusion.")} == {"project"}
    # HCMF -> self-attention (paper): per-modality self-attention, concatenation, linear
    fusion = {".".join(n.split(".")[1:3]) for n in names["self-attention"] if n.startswith("fusion.")}
    assert fusion == {"attention.text", "attention.audio", "attention.visual", "concat.project"}
    assert names["self-attention"] - {n for n in names["self-attention"] if n.startswith("fusion.")} == {
        n for n in full if not n.startswith("fusion.")
    }


def test_aux_losses_follow_the_switches():
    batch = batch_of()
    expected = {
        None: {"moe_balance", "kd_logit", "kd_latent", "kd_head"},
        "sdmoe": {"kd_logit", "kd_latent", "kd_head"},
        "ikd": {"moe_balance"},
        "latent": {"moe_balance", "kd_logit"},
    }
    for dropped, terms in expected.items():
        model = build({} if dropped is None else dict(ABLATIONS.get(dropped).overrides))
        if model.teacher_request():
            with_teacher(model)
        assert set(model(batch).aux_losses) == terms
    model = with_teacher(build({"lambda_moe": 0.0}))
    assert "moe_balance" not in model(batch).aux_losses


# --- the model as a whole ---------------------------------------------------------------------------


@pytest.mark.parametrize("ablation", [None, "standard-moe", "self-attention", "ikd", "sdmoe", "hcmf"])
def test_outputs_of_real_utterances_ignore_padding(ablation):
    model = build({} if ablation is None else dict(ABLATIONS.get(ablation).overrides))
    if model.teacher_request():
        with_teacher(model)
    model.eval()
    batch = batch_of()
    with torch.no_grad():
        a, b = model(batch).logits, model(extra_padding(batch, 7)).logits
    torch.testing.assert_close(a[batch.mask], b[:, : batch.mask.shape[1]][batch.mask], rtol=1e-4, atol=1e-5)


def test_gradient_reaches_every_modality_encoder():
    model = with_teacher(build())
    batch = batch_of()
    output = model(batch)
    (output.logits[batch.mask].sum() + sum(output.aux_losses.values())).backward()
    for modality in ("text", "audio", "visual"):
        assert model.encoders[modality].projection.weight.grad.abs().sum() > 0


def test_every_modality_pair_gets_a_guided_cross_modal_block():
    assert set(build().fusion.cross.keys()) == {
        f"{a}->{b}" for a, b in itertools.permutations(("text", "audio", "visual"), 2)
    }


def test_absent_modalities_and_unknown_options():
    two = tiny_meta({"text": 12, "audio": 10})
    model = with_teacher(build(meta=two), two)
    assert model(batch_of(two)).logits.shape[-1] == 6
    with pytest.raises(BenchmarkError, match="needs feature modalities"):
        build(meta=tiny_meta({}))
    with pytest.raises(BenchmarkError, match="no option 'use_moe'.*use_sdmoe"):
        build({"use_moe": False})
    with pytest.raises(BenchmarkError, match="unknown routing 'gumbel'"):
        build({"routing": "gumbel"})
    with pytest.raises(BenchmarkError, match="unknown fusion"):
        build({"fusion": "sum"})


@pytest.mark.parametrize(
    "overrides", [{"expert": "ffn"}, {"routing": "threshold"}, {"expert": "ffn", "routing": "topk"}]
)
def test_the_version_one_readings_stay_reachable(overrides):
    model = with_teacher(build(overrides))
    output = model(batch_of())
    assert torch.isfinite(output.logits).all() and "moe_balance" in output.aux_losses


def test_the_teacher_takes_several_modalities_and_a_plain_attention_context():
    meta = tiny_meta()
    both = MODELS.get("text-teacher").build(meta, DIMS, {"modalities": "text+audio"})
    assert set(both.encoders) == {"text", "audio"}
    plain = MODELS.get("text-teacher").build(meta, DIMS, {"modalities": "visual", "use_sdmoe": False})
    assert not any("router" in n or "gru" in n for n, _ in plain.named_parameters())
    assert plain(batch_of()).aux_losses == {}
    with pytest.raises(BenchmarkError, match="modality 'visual' is not in"):
        MODELS.get("text-teacher").build(tiny_meta({"text": 12}), DIMS, {"modalities": "visual"})


# --- the distillation readings `study ikd` measures ------------------------------------------------


def test_the_standardised_mask_ignores_each_rows_scale_and_offset_and_the_padding():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 5, 5)
    key_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)[:, None, None, :]
    phi = torch.tensor(0.5)  # an unmasked score stays exactly as it was, a masked one moves

    def pulled(scores: torch.Tensor, standardised: bool = True) -> torch.Tensor:
        guided = teacher_guided_scores(scores, teacher, phi, key_mask=key_mask if standardised else None)
        return (guided != scores) & key_mask

    # rescaled and shifted per row, and other values on padded keys: the same mask
    rescaled = 3 * student + torch.randn(2, 1, 5, 1) + 100 * ~key_mask
    assert pulled(student).any() and not pulled(student).all()
    assert torch.equal(pulled(student), pulled(rescaled))
    assert not torch.equal(pulled(student, False), pulled(rescaled, False))  # the raw mask moves


def test_the_stream_reading_distils_into_the_text_stream_upstream_of_the_fusion():
    model = with_teacher(build({"latent_target": "stream"}))
    batch = batch_of()
    terms = model(batch).aux_losses
    (terms["kd_latent"] + terms["kd_head"]).backward()
    assert model.context["text"][0].mixer.router.weight.grad.abs().sum() > 0
    # the text stream never sees audio (a fused expert pass shared by the modalities may hand audio an
    # exact zero gradient instead of none)
    audio = model.encoders["audio"].projection.weight.grad
    assert audio is None or not audio.any()
    assert all(p.grad is None for p in model.fusion.parameters())
    with pytest.raises(BenchmarkError, match="latent_target"):
        build({"latent_target": "hidden"})
    with pytest.raises(BenchmarkError, match="does not have"):
        build({"latent_target": "stream"}, tiny_meta({"audio": 10, "visual": 8}))


def test_summer_without_its_teacher_modality_is_unguided_and_never_asks_the_teacher():
    model = with_teacher(build()).eval()
    batch = batch_of()
    zeros = {m: torch.zeros_like(x) if m == "text" else x for m, x in batch.features.items()}
    removed = dataclasses.replace(batch, features=zeros, absent=frozenset({"text"}))
    asked = []
    model._teacher.targets = lambda b: asked.append(b) or pytest.fail("the teacher was consulted")
    with torch.no_grad():
        logits = model(removed).logits
        for block in model.fusion.cross.values():  # unguided: phi has nothing to act on
            block.phi.data.fill_(5.0)
        assert torch.equal(model(removed).logits, logits)
    assert not asked


def test_the_ikd_study_varies_one_reading_at_a_time_beside_the_default_and_no_ikd():
    from benchmark.experiment.profiles import PROFILES
    from benchmark.store.records import FULL_MODEL
    from benchmark.training.runner import plan
    from summer.studies import STUDY_VARIANTS

    model, variants = STUDY_VARIANTS["ikd"]
    assert model == "summer" and variants[:2] == (FULL_MODEL, "ikd")
    default = dataclasses.asdict(build().config)
    changed = []
    for name in variants[2:]:
        ablation = ABLATIONS.get(name)
        config = dataclasses.asdict(build(ablation.overrides).config)
        changed.append({k for k in config if config[k] != default[k]})
        assert ablation.origin == "study" and name not in ablations_of("summer")
    assert changed == [
        {"kappa_logit", "kappa_latent", "kappa_head"},
        {"kappa_logit", "kappa_latent", "kappa_head"},
        {"latent_target"},
        {"guidance_mask"},
    ]
    keys = plan([model], ["synthetic-iemocap", "synthetic-meld"], "fast", None, list(variants))
    assert len(keys) == 6 * 2 * len(PROFILES.get("fast").seeds)
