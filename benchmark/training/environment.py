"""What a run record says about where it ran, and what bit-determinism depends on."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy
import sklearn
import torch

from benchmark.home import PROJECT_ROOT


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """HEAD's hash, with "-dirty" when the tree has uncommitted changes; "unknown" outside a checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_fingerprint(threads: int) -> dict[str, object]:
    """What bit-identical results depend on: the CPU (kernel dispatch), the torch build and the threads."""
    return {
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "threads": threads,
    }


def environment(threads: int) -> dict[str, object]:
    """Software and machine; the run's device and precision come from `Execution.describe()`."""
    return {
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        **machine_fingerprint(threads),
    }
