"""How a sweep's run keys get trained: `local` (the default) trains them one after another in this process;
`ray` spreads them over a Ray cluster as tasks (an optional extra: `pip install -e ".[ray]"`).

Both skip keys whose record is stored (unless `force`), so a stopped sweep resumes where it stopped, and
both return the records in the order of the keys. Ray is imported only when its executor is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.records import RunKey, RunRecord

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Placement:
    """The command line's `--device`, `--precision`, `--deterministic`, `--threads`, `--executor` and
    `--address`, as given: the local executor resolves the device here, Ray's workers where they run."""

    device: str = "auto"
    precision: str = "fp32"
    deterministic: bool = False
    threads: int | None = None
    executor: str = "local"
    address: str | None = None

    @classmethod
    def from_args(cls, args) -> Placement:
        return cls(args.device, args.precision, args.deterministic, args.threads, args.executor, args.address)


def run_sweep(
    keys: Sequence[RunKey], home: Home, placement: Placement, *, force: bool = False
) -> list[RunRecord]:
    if placement.executor not in EXECUTORS:
        raise BenchmarkError(f"--executor {placement.executor!r} is not one of {', '.join(EXECUTORS)}")
    if placement.address and placement.executor != "ray":
        raise BenchmarkError("--address names a Ray cluster: give it with --executor ray")
    if placement.executor == "ray":
        from benchmark.executors.ray_cluster import run_on_ray

        return run_on_ray(keys, home, placement, force=force)
    from benchmark.execution import resolve_execution
    from benchmark.progress import run_keys

    execution = resolve_execution(
        placement.device, placement.precision, placement.deterministic, placement.threads
    )
    return run_keys(keys, home, force=force, execution=execution)
