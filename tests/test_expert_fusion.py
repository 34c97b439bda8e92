"""The device table that decides when SDMoE experts run fused, the fused passes it allows, the one
contiguous weight buffer cuDNN is given, the packing and the block-diagonal weights built in a few
operators (equal to torch's packing and to the block-by-block formula); on a GPU, deterministic runs
stay bit-identical."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import summer.moe as moe
from benchmark.home import Home
from benchmark.training.device_settings import Execution
from benchmark.training.runner import plan, record_run, resolve_run
from summer.moe import (
    DialoguePacking,
    MoEOptions,
    context_block,
    fused_bigru_weights,
    fused_passes,
    fuses_experts,
    in_one_buffer,
    run_context_blocks,
)

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; none is visible here")


def test_the_device_table_fuses_small_experts_on_the_cpu_and_up_to_the_papers_on_cuda():
    assert fuses_experts("cpu", 32) and not fuses_experts("cpu", 512)
    assert fuses_experts("cuda", 512) and not fuses_experts("cuda", 1024)
    assert not fuses_experts("meta", 32)  # a device the table has not measured runs the experts apart


def test_fused_passes_keep_each_under_the_devices_limit():
    assert fused_passes([128, 128, 128], "cpu") == [[0, 1, 2]]  # no limit: the layer shares one pass
    assert fused_passes([128, 128, 128], "cuda") == [[0, 1, 2]]  # the fast width on a GPU
    assert fused_passes([2048, 2048, 2048], "cuda") == [[0], [1], [2]]  # the paper width: one per SDMoE
    assert fused_passes([1024, 1024, 1024], "cuda") == [[0, 1], [2]]


def test_weights_in_one_buffer_are_the_same_values_end_to_end_and_pass_gradients_back():
    weights = [torch.randn(6, 4, requires_grad=True), torch.randn(6, 2, requires_grad=True), torch.randn(6)]
    packed = in_one_buffer(weights)
    base = packed[0].untyped_storage().data_ptr()
    offset = 0
    for original, view in zip(weights, packed, strict=True):
        torch.testing.assert_close(view, original, rtol=0, atol=0)
        assert view.is_contiguous() and view.untyped_storage().data_ptr() == base
        assert view.storage_offset() == offset
        offset += original.numel()
    sum((w * (i + 1)).sum() for i, w in enumerate(packed)).backward()
    torch.testing.assert_close(weights[1].grad, torch.full((6, 2), 2.0))


def test_passes_limited_by_the_table_give_each_block_its_own_output_and_gradients(monkeypatch):
    """With a limit of two SDMoEs per fused pass (as the CUDA row makes at the paper width, scaled
    down), three SDMoEs run in two fused calls and still equal each block run alone."""
    torch.manual_seed(0)
    width, hidden, experts = 8, 4, 4
    monkeypatch.setitem(moe.FUSION_LIMITS, "cpu", (64, 2 * experts * hidden))
    calls = []
    fused = moe.fused_bigru
    monkeypatch.setattr(moe, "fused_bigru", lambda *args: calls.append(len(args[0])) or fused(*args))
    blocks = [context_block(width, 0.0, MoEOptions()).eval() for _ in range(3)]
    inputs = [torch.randn(3, 5, width, requires_grad=True) for _ in blocks]
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] * 4 + [False]])
    together = run_context_blocks(blocks, inputs, mask)
    assert calls == [2, 1]  # two SDMoEs' experts in one pass, the third's in its own
    calls.clear()
    alone = [block(x, mask) for block, x in zip(blocks, inputs, strict=True)]
    parameters = [*inputs, *(p for block in blocks for p in block.parameters())]
    probes = [torch.randn_like(x) for x in inputs]
    for (mine, _), (theirs, _) in zip(together, alone, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)
    grads = [
        torch.autograd.grad(sum((y * p).sum() for (y, _), p in zip(outputs, probes, strict=True)), parameters)
        for outputs in (together, alone)
    ]
    for mine, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)


def test_the_packing_equals_torchs_pack_and_pad_even_with_extra_padding():
    """One gather each way gives exactly what pack_padded_sequence and pad_packed_sequence(...)[mask]
    give: the same rows in the same order, the same batch sizes and sort, padding columns beyond the
    longest dialogue included."""
    lengths = [3, 6, 1, 6, 4]
    mask = torch.arange(8)[None, :] < torch.tensor(lengths)[:, None]  # two columns of padding only
    x = torch.randn(len(lengths), 8, 5)
    packing = DialoguePacking.of(mask)
    packed = packing.pack(x)
    expected = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    for field in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        assert torch.equal(getattr(packed, field), getattr(expected, field)), field
    unpacked = pad_packed_sequence(expected, batch_first=True, total_length=8)[0][mask]
    assert torch.equal(packing.real(expected.data), unpacked)


def test_block_diagonal_weights_equal_the_block_by_block_formula():
    """The fused GRU's weights, built by one stack and one diag_embed per kind, equal to the bit the
    block-by-block construction: per gate, input projections block-diagonal over the groups (each
    group's experts one above the other), recurrent weights block-diagonal over every expert, biases
    gate-major."""
    torch.manual_seed(0)
    groups = [[nn.GRU(6, 4, bidirectional=True) for _ in range(3)] for _ in range(2)]
    grus = [gru for group in groups for gru in group]

    def gate(weight: torch.Tensor, k: int) -> torch.Tensor:
        return weight.unflatten(0, (3, 4))[k]

    expected = []
    for suffix in ("_l0", "_l0_reverse"):
        for_each = [
            lambda k, s=suffix: torch.block_diag(
                *(torch.cat([gate(getattr(g, "weight_ih" + s), k) for g in group]) for group in groups)
            ),
            lambda k, s=suffix: torch.block_diag(*(gate(getattr(g, "weight_hh" + s), k) for g in grus)),
            lambda k, s=suffix: torch.cat([gate(getattr(g, "bias_ih" + s), k) for g in grus]),
            lambda k, s=suffix: torch.cat([gate(getattr(g, "bias_hh" + s), k) for g in grus]),
        ]
        expected += [torch.cat([build(k) for k in range(3)]) for build in for_each]
    built = fused_bigru_weights(groups)
    assert [tuple(w.shape) for w in built] == [(72, 12), (72, 24), (72,), (72,)] * 2
    for mine, theirs in zip(built, expected, strict=True):
        assert torch.equal(mine, theirs)


@needs_gpu
def test_fused_experts_on_cuda_use_their_one_buffer_without_cudnn_compacting_it():
    block = context_block(64, 0.0, MoEOptions()).cuda()
    x = torch.randn(3, 5, 64, device="cuda")
    mask = torch.ones(3, 5, dtype=torch.bool, device="cuda")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*single contiguous chunk of memory.*")
        run_context_blocks([block, block], [x, x], mask)


@needs_gpu
def test_a_deterministic_cuda_run_is_bit_identical_when_repeated(tmp_path):
    """Every change to the GPU path (fused experts, their buffer) keeps `--deterministic` reruns equal."""
    key = plan(["summer"], ["synthetic-iemocap"], "smoke", seeds=[0], ablations=["none"])[0]
    execution = Execution("cuda", "fp32", deterministic=True).resolved()
    first, first_weights = record_run(resolve_run(key, Home(tmp_path / "a"), execution), Home(tmp_path / "a"))
    second, second_weights = record_run(
        resolve_run(key, Home(tmp_path / "b"), execution), Home(tmp_path / "b")
    )
    assert [vars(e) | {"seconds": 0} for e in first.curves] == [
        vars(e) | {"seconds": 0} for e in second.curves
    ]
    assert first.test == second.test and first.predictions == second.predictions
    for name, tensor in first_weights.items():
        assert torch.equal(tensor, second_weights[name]), name


def operators_outside_the_recurrence(experts: int, dialogues: int) -> int:
    """Aten operators a fused pass of two SDMoEs' experts calls and autograd nodes its backward runs,
    those of the GRU kernel (which walks the time steps, forward and back) left out."""
    torch.manual_seed(0)
    block = context_block(8, 0.0, MoEOptions(experts=experts))
    lengths = torch.arange(dialogues) + 2  # each its own length: as many packed batch sizes
    x = torch.randn(dialogues, int(lengths.max()), 8, requires_grad=True)
    mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    with torch.profiler.profile() as profiler:
        run_context_blocks([block, block], [x, x], mask)[0][0].sum().backward()
    events = profiler.events()

    def under(event, name: str) -> bool:
        while event is not None:
            if event.name.startswith(name):
                return True
            event = event.cpu_parent
        return False

    recurrence = [e.sequence_nr for e in events if under(e, "aten::gru") and e.sequence_nr >= 0]
    forward = [e for e in events if e.name.startswith("aten::") and not under(e.cpu_parent, "aten::")]
    backward = [  # one gradient accumulation per parameter is not the pass's to save
        e
        for e in events
        if e.name.startswith("autograd::engine::evaluate_function") and not e.name.endswith("AccumulateGrad")
    ]
    outside = [e for e in forward if not under(e, "aten::gru") and not under(e, "autograd::engine")]
    return len(outside) + sum(1 for e in backward if not min(recurrence) <= e.sequence_nr <= max(recurrence))


def test_packing_and_the_block_diagonal_weights_cost_the_same_operators_whatever_the_batch_and_experts():
    """What surrounds the recurrence is a fixed number of operators: packing and unpacking do not copy
    batch size by batch size, and the block-diagonal weights are not built expert by expert."""
    assert operators_outside_the_recurrence(4, 3) == operators_outside_the_recurrence(4, 12)
    assert operators_outside_the_recurrence(2, 3) == operators_outside_the_recurrence(4, 3)
