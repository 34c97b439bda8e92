"""Seconds per SDMoE training step (forward and backward) with its BiGRU experts run apart (E separate
GRU calls on one shared packing) and fused (one GRU with block-diagonal recurrent weights), per width:
the measurement behind `summer.moe.FUSED_MAX_HIDDEN`, the crossover the SDMoE picks its path by.

Batches have IEMOCAP-like dialogue lengths (20 to 110 utterances). Threads are pinned (default 2, the
CI machine's cores); say the machine's load beside the figures.

    python benchmarks/moe_speed.py [--width 64 --width 1024] [--batch 16] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from summer.moe import MoEOptions, SparseDynamicMoE, fused_expert_outputs, separate_expert_outputs


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(20, 111, (args.batch,), generator=generator)
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    print(
        f"batch {args.batch}, lengths {lengths.min()}..{lengths.max()}, {args.threads} threads; median s/step"
    )
    for width in args.width or [64, 128, 256, 512, 1024]:
        moe = SparseDynamicMoE(width, 0.0, MoEOptions())
        x = torch.randn(args.batch, mask.shape[1], width, generator=generator, requires_grad=True)
        apart = step_seconds(moe, x, mask, fused=False, repeats=args.repeats)
        together = step_seconds(moe, x, mask, fused=True, repeats=args.repeats)
        print(
            f"  width {width:5d} (h {width // 2:4d}): apart {apart:.4f}  fused {together:.4f}  "
            f"fused/apart {together / apart:.2f}"
        )


if __name__ == "__main__":
    main()
