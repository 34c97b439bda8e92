"""The device table that decides when SDMoE experts run fused, the fused passes it allows, and the one
contiguous weight buffer cuDNN is given; on a GPU, deterministic runs stay bit-identical."""

from __future__ import annotations

import warnings

import pytest
import torch

import summer.moe as moe
from benchmark.execution import resolve_execution
from benchmark.home import Home
from benchmark.runner import plan, record_run
from summer.moe import (
    MoEOptions,
    context_block,
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
    execution = resolve_execution("cuda", "fp32", deterministic=True)
    first, first_weights = record_run(key, Home(tmp_path / "a"), execution=execution)
    second, second_weights = record_run(key, Home(tmp_path / "b"), execution=execution)
    assert [vars(e) | {"seconds": 0} for e in first.curves] == [
        vars(e) | {"seconds": 0} for e in second.curves
    ]
    assert first.test == second.test and first.predictions == second.predictions
    for name, tensor in first_weights.items():
        assert torch.equal(tensor, second_weights[name]), name
