"""Seconds per SDMoE training step (forward and backward) with its BiGRU experts run apart (E separate
GRU calls on one shared packing) and fused (one GRU with block-diagonal recurrent weights), per width,
on one device: this device's row of `summer.moe.FUSION_LIMITS`, the table the SDMoE picks its path by.
It ends with the largest hidden size at which fusing won here, beside what the table says now.

Batches have IEMOCAP-like dialogue lengths (20 to 110 utterances). Threads are pinned (default 2, the
CI machine's cores); say the machine's load beside the figures.

    python scripts/moe_speed.py [--width 64 --width 1024] [--batch 16] [--repeats 5] [--threads 2]
        [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time

import torch

from summer.moe import (
    FUSION_LIMITS,
    MoEOptions,
    SparseDynamicMoE,
    fused_expert_outputs,
    separate_expert_outputs,
)


def step_seconds(
    moe: SparseDynamicMoE, x: torch.Tensor, mask: torch.Tensor, fused: bool, repeats: int
) -> float:
    grus = [expert.gru for expert in moe.experts]

    def step() -> None:
        if fused:
            outputs = fused_expert_outputs([grus], [x], mask, training=True)
        else:
            outputs = separate_expert_outputs(grus, x, mask)
        outputs.square().mean().backward()
        if x.is_cuda:
            torch.cuda.synchronize()

    step()  # warm-up
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        timings.append(time.perf_counter() - started)
    return sorted(timings)[len(timings) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--width", type=int, action="append", help="default: 64 128 256 512 1024")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(20, 111, (args.batch,), generator=generator)
    mask = (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).to(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(
        f"{device.type} ({name}), batch {args.batch}, lengths {lengths.min()}..{lengths.max()}; median s/step"
    )
    print("| width | hidden h | apart s | fused s | fused / apart |\n|---|---|---|---|---|")
    wins = []
    for width in args.width or [64, 128, 256, 512, 1024]:
        moe = SparseDynamicMoE(width, 0.0, MoEOptions()).to(device)
        x = torch.randn(args.batch, mask.shape[1], width, generator=generator).to(device).requires_grad_()
        apart = step_seconds(moe, x, mask, fused=False, repeats=args.repeats)
        together = step_seconds(moe, x, mask, fused=True, repeats=args.repeats)
        print(f"| {width} | {width // 2} | {apart:.4f} | {together:.4f} | {together / apart:.2f} |")
        if together < apart:
            wins.append(width // 2)
    limit = FUSION_LIMITS.get(device.type, ("none", None))[0]
    print(
        f"fused won here up to h {max(wins) if wins else 'none'}; "
        f"FUSION_LIMITS[{device.type!r}] fuses up to h {limit}"
    )


if __name__ == "__main__":
    main()
