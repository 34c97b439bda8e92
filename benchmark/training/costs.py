"""What a plan costs before anything trains: measured seconds per training epoch (training pass plus the
evaluation of validation and test the trainer runs after it) of each model variant, per device kind,
dataset family and profile, in `benchmark/training/costs.json` (written by `scripts/run_cost.py`, which says
on which machine, when and by which command), and the plan's estimate from them:

    estimate = sum over the runs to train, and each teacher they share, of epochs x cost per epoch.

The profile's full epoch count is used, so runs that stop early on patience cost less: it is an upper
figure. A profile whose epochs are another's (`Profile.epoch_costs_of`: `converged` is `fast` trained
longer) is costed with that profile's per-epoch entries at its own epoch cap, which a run reaches only
while validation keeps improving: an upper bound, and a loose one.

With `--jobs N` on the CPU (N runs at once, each on its own threads: `--jobs 2 --threads 1` on two cores)
the runs are laid out as the local executor hands them out, in plan order, each to the first worker that
is free, a teacher charged to the first run that needs it:

    wall clock = the last worker's finish, each worker's time the sum of its runs' estimates.

Per-epoch costs are measured one run at a time, so this holds while the N runs' threads fit the cores.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from benchmark.experiment.catalog import DATASETS
from benchmark.experiment.profiles import PROFILES
from benchmark.store.records import FULL_MODEL, RunKey
from benchmark.stored import read_typed
from benchmark.training.device_settings import Execution
from benchmark.training.runner import RunPlan

COSTS_PATH = Path(__file__).with_name("costs.json")

CostKey = tuple[str, str, str, str]  # (device kind, variant, dataset family, profile)


def device_kind(execution: Execution, threads: int) -> str:
    """ "cpu-2-threads" or "cuda:<device name>": what a per-epoch cost holds for."""
    if execution.is_cuda:
        return f"cuda:{torch.cuda.get_device_name(execution.torch_device)}"
    return f"cpu-{threads}-threads"


@dataclass(frozen=True)
class CostEntry:
    """One measurement of `scripts/run_cost.py`: a variant's seconds per epoch on one device kind."""

    device: str  # device_kind()
    variant: str
    dataset: str  # the dataset family
    profile: str
    seconds_per_epoch: float  # wall clock
    cpu_seconds_per_epoch: float  # process CPU time: above the wall clock when threads run in parallel
    batches_timed: int
    batches_per_epoch: int
    date: str
    machine: str
    command: str  # what measured it

    @property
    def identity(self) -> CostKey:
        return (self.device, self.variant, self.dataset, self.profile)


@dataclass(frozen=True)
class CostTable:
    """`costs.json`: its entries, as `scripts/run_cost.py` writes them."""

    entries: list[CostEntry]

    def to_json(self) -> dict:
        return asdict(self)


def read_costs(path: Path = COSTS_PATH) -> list[CostEntry]:
    """The measured entries; none when the table is absent."""
    if not path.exists():
        return []
    fix = "restore it from git, or measure again with `python scripts/run_cost.py`"
    return read_typed(path, CostTable, "table of measured costs", fix).entries


def cost_table(entries: Sequence[CostEntry]) -> dict[CostKey, float]:
    return {entry.identity: entry.seconds_per_epoch for entry in entries}


@dataclass(frozen=True)
class Estimate:
    seconds: float  # the wall clock: the sum of the costed runs and teachers, or their layout over `jobs`
    costed: int  # runs and teachers with their own entry
    by_full_model: int  # ablations costed by their model's full variant
    missing: tuple[str, ...]  # "variant on family at profile" with no entry for the device
    # profiles costed with another's per-epoch entries at their epoch cap: "converged as fast, at its cap"
    borrowed: tuple[str, ...] = ()
    jobs: int = 1

    def describe(self, device: str) -> str:
        if not self.costed and not self.by_full_model:
            return f"estimate: no measured cost on {device} for this plan (scripts/run_cost.py measures it)"
        at_once = "one run at a time" if self.jobs == 1 else f"{self.jobs} runs at a time"
        line = f"estimate: up to {_duration(self.seconds)} of training on {device}, {at_once}"
        notes = []
        if self.by_full_model:
            notes.append(f"{self.by_full_model} ablation runs costed as their full model")
        notes += self.borrowed
        if self.missing:
            notes.append(f"not measured here, so left out: {', '.join(self.missing)}")
        return line + (f" ({'; '.join(notes)})" if notes else "")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def with_teachers(plans: Sequence[RunPlan]) -> list[tuple[RunKey, str | None]]:
    """Each run with the model of the teacher its plan asks for (None: none)."""
    return [(plan.key, None if plan.teacher is None else plan.teacher.model) for plan in plans]


def estimate(
    runs: Sequence[tuple[RunKey, str | None]], device: str, table: dict[CostKey, float], jobs: int = 1
) -> Estimate:
    """`runs`: each run to train with the model of its teacher (`with_teachers`), in plan order; runs of
    one dataset, profile and seed share a teacher, which trains once, with the first of them. `jobs`: runs
    at once (the module's docstring). [choice] An ablation without an entry of its own is costed as its
    model's full variant: it removes parts, so that errs high."""
    costed, by_full_model, missing = 0, 0, []
    per_run: list[float] = []
    teachers_seen: set[tuple] = set()

    def cost(variant: str, key: RunKey, ablated: bool) -> float:
        nonlocal costed, by_full_model
        family = DATASETS.get(key.dataset).family
        profile = PROFILES.get(key.profile)
        epochs = profile.train_config(family, key.seed).epochs
        own = table.get((device, variant, family, profile.epoch_cost_profile))
        full = table.get((device, key.model, family, profile.epoch_cost_profile))
        if own is not None:
            costed += 1
            return epochs * own
        if full is not None and ablated:
            by_full_model += 1
            return epochs * full
        if (name := f"{variant} on {family} at {profile.epoch_cost_profile}") not in missing:
            missing.append(name)
        return 0.0

    for key, teacher in runs:
        seconds = cost(key.variant, key, key.ablation != FULL_MODEL)
        shared = (teacher, key.dataset, key.profile, key.seed)
        if teacher and shared not in teachers_seen:
            teachers_seen.add(shared)
            seconds += cost(teacher, key, False)
        per_run.append(seconds)
    borrowed = tuple(
        f"{profile.name} costed per epoch as {profile.epoch_costs_of} and at its epoch cap: an upper bound, "
        "its runs stop once validation stops improving"
        for profile in map(PROFILES.get, sorted({key.profile for key, _ in runs}))
        if profile.epoch_costs_of
    )
    return Estimate(_laid_out(per_run, jobs), costed, by_full_model, tuple(missing), borrowed, jobs)


def _laid_out(seconds_per_run: Sequence[float], jobs: int) -> float:
    """The wall clock of runs handed in order, each to the first free of `jobs` workers."""
    finish = [0.0] * jobs
    for seconds in seconds_per_run:
        heapq.heapreplace(finish, finish[0] + seconds)
    return max(finish)


def plan_cost(plans: Sequence[RunPlan], jobs: int = 1) -> str:
    """The plan line's estimate on the device the plans compute on, `jobs` runs at a time (on the CPU; a
    GPU's runs share its one device, so they are costed one at a time), from the committed table; trains
    nothing."""
    if not plans:
        return "estimate: nothing to train"
    execution = plans[0].execution  # one command's runs share it
    if execution.device in ("auto", "cuda"):  # a Ray cluster's: its GPU is bound only where a task runs
        return "estimate: none, the Ray workers' device is not known here"
    device = device_kind(execution, plans[0].train.threads)  # --threads, else the profile's
    at_once = 1 if execution.is_cuda else jobs
    return estimate(with_teachers(plans), device, cost_table(read_costs(COSTS_PATH)), at_once).describe(
        device
    )
