"""One function for everything a run's randomness and arithmetic order depend on, and the seeds it
takes. numpy and torch are imported where they are used: the command line checks seeds against
`SEED_MAX` before it imports either, so that `--help` stays instant."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

SEED_MAX = 2**32 - 1  # numpy's largest seed: `np.random.seed` refuses anything above it
# [choice] The most torch threads a run or a fine-tune may pin: far above any machine the suite runs on,
# low enough that torch's own limit (a C int: 2**31 raises ValueError) is never what refuses it.
MOST_THREADS = 1024


def seed_everything(seed: int, threads: int, deterministic: bool = True) -> torch.Generator:
    """Seed python, numpy and torch (every CUDA device too), pin the thread count and, unless a CUDA run
    waives it (`Execution.deterministic`), demand deterministic kernels. Returns a CPU generator for data
    order, so shuffling never draws from the global stream and is the same on every device."""
    import numpy as np
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read by cuBLAS at its first use
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = False  # autotuning picks kernels by timing: a run-to-run difference
    # Deterministic mode also fills every new tensor with NaN, a debugging aid for kernels that read
    # memory they never wrote; none of ours do, and at paper width it cost 7% of an epoch.
    torch.utils.deterministic.fill_uninitialized_memory = False
    return torch.Generator().manual_seed(seed)
