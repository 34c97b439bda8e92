"""One function for everything a run's randomness and arithmetic order depend on."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, threads: int, deterministic: bool = True) -> torch.Generator:
    """Seed python, numpy and torch (every CUDA device too), pin the thread count and, unless a CUDA run
    waives it (`Execution.deterministic`), demand deterministic kernels. Returns a CPU generator for data
    order, so shuffling never draws from the global stream and is the same on every device."""
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
