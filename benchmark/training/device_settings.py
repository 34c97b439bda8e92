"""Where a run computes and at what precision: the `--device`, `--precision`, `--deterministic` and
`--threads` options.

The model, its batches, its teacher and the teacher's cached outputs all live on one device, which the
trainer chooses; models never name a device themselves. What a run record says about it comes from
`Execution.describe()`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmark.errors import BenchmarkError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class Execution:
    """The device settings of a run, the one type that carries them below the command line. As given
    (`--device auto`) it names no device yet; `resolved()` turns it, once, at the command boundary
    (`benchmark.executors.Placement.from_args`), into the same type with a concrete device, or a one-line
    error; each run's plan carries the result. The defaults are the resolved CPU (`CPU`): what runs
    compute on when no command resolved other settings (the regression gate, the tests)."""

    device: str = "cpu"  # "auto", "cpu", "cuda" or "cuda:N"; resolved: "cpu" or "cuda:N"
    precision: str = "fp32"  # "bf16": autocast of matrix products to bfloat16 (CUDA only)
    # Bit-identical reruns: always on the CPU (it costs little there); on CUDA only when asked, since
    # deterministic kernels (cuBLAS workspace, no cuDNN autotuning, deterministic scatter) are slower.
    deterministic: bool = True
    # torch threads per run, instead of the profile's (a TrainConfig field, so part of the config hash)
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise BenchmarkError(f"--threads {self.threads}: give at least 1")
        if self.precision not in PRECISIONS:
            raise BenchmarkError(f"--precision {self.precision!r} is not one of {', '.join(PRECISIONS)}")

    # torch is imported where it is used: the command line's options hold an Execution, and `--help`
    # imports no torch

    @property
    def torch_device(self) -> torch.device:
        import torch

        return torch.device(self.device)

    @property
    def is_cuda(self) -> bool:
        return self.torch_device.type == "cuda"

    def autocast(self) -> contextlib.AbstractContextManager:
        import torch

        if self.precision == "bf16":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def describe(self) -> dict[str, object]:
        """The run record's account of where it ran."""
        import torch

        described: dict[str, object] = {
            "device": self.device,
            "device_name": torch.cuda.get_device_name(self.torch_device) if self.is_cuda else "cpu",
            "precision": self.precision,
            "deterministic": self.deterministic,
        }
        if self.is_cuda:
            described["cuda"] = torch.version.cuda
        return described

    def checked_for_cluster(self) -> Execution:
        """These settings as given, for a Ray cluster (`--executor ray`), whose tasks compute where Ray
        places them: checked here, at the command boundary, as far as the driver can (the device's name,
        precision on the CPU), and bound to the cluster by `on_cluster` once it is joined."""
        if self.device.startswith("cuda:"):
            raise BenchmarkError(
                f"--device {self.device}: with --executor ray, Ray assigns each task its GPU; use --device cuda"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            self.resolved()  # the one-line error naming what is wrong with the device
        if self.device == "cpu":
            self.resolved()  # --precision bf16 on the CPU
        return self

    def on_cluster(self, cluster_gpus: float) -> Execution:
        """Checked settings (`checked_for_cluster`) bound to a Ray cluster: CUDA ("cuda", the GPU Ray
        assigns each task; an autoscaling cluster may add its GPUs later) when asked for or, with auto,
        when the cluster has GPUs now; else the CPU."""
        wants_cuda = self.device == "cuda" or (self.device == "auto" and cluster_gpus > 0)
        if not wants_cuda:
            return Execution("cpu", self.precision, True, self.threads).resolved()
        return Execution("cuda", self.precision, self.deterministic, self.threads)

    def resolved(self) -> Execution:
        """These settings on this machine: auto is CUDA when torch sees a GPU, else the CPU (which is
        always deterministic). Anything that cannot run here is a one-line error."""
        import torch

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise BenchmarkError(
                f"--device {device!r} is not a device: use auto, cpu, cuda or cuda:N"
            ) from None
        if chosen.type == "cpu":
            if self.precision != "fp32":
                raise BenchmarkError(f"--precision {self.precision} needs a CUDA device; on the CPU use fp32")
            return Execution("cpu", "fp32", True, self.threads)
        if chosen.type != "cuda":
            raise BenchmarkError(f"--device {device!r} is not supported: use auto, cpu, cuda or cuda:N")
        if not torch.cuda.is_available():
            raise BenchmarkError(
                f"--device {device}: torch {torch.__version__} sees no CUDA device here; use --device cpu or auto"
            )
        index = chosen.index if chosen.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise BenchmarkError(
                f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here (cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1})"
            )
        return Execution(f"cuda:{index}", self.precision, self.deterministic, self.threads)


CPU = Execution()
