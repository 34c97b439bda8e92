"""Typed configuration: training settings and the named profiles (smoke, fast, paper).

Every training hyper-parameter that is a [choice] of docs/model.md ("Training") is set here, once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from benchmark.data.class_weighting import CLASS_WEIGHTINGS, INVERSE_FREQUENCY, UNWEIGHTED
from benchmark.errors import BenchmarkError
from benchmark.models.modeling import ModelDims
from benchmark.registry import Registry

SPEC_WEIGHT_DECAY = 1e-5  # the specification's and SDT's L2 (`--l2 0.00001`, Adam's weight_decay)


@dataclass(frozen=True)
class TrainConfig:
    lr: float
    epochs: int
    batch_size: int  # dialogues per batch
    patience: int  # epochs without a better validation weighted-F1 before stopping; 0 = never stop early
    optimizer: str = "adam"
    weight_decay: float = SPEC_WEIGHT_DECAY
    # max gradient norm; 0 = off, as everywhere: neither the specification nor SDT's code clips
    grad_clip: float = 0.0
    class_weighting: str = UNWEIGHTED  # one of CLASS_WEIGHTINGS
    # the weights `class_weighting` gives on the run's data, in class order (empty when unweighted),
    # filled in by `benchmark.training.loop.with_class_weights` so that every run record holds them
    class_weights: tuple[float, ...] = ()
    seed: int = 0
    threads: int = 2  # torch.set_num_threads: part of determinism, recorded in every run

    def __post_init__(self) -> None:
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise BenchmarkError(
                f"unknown class weighting {self.class_weighting!r}; valid: {', '.join(CLASS_WEIGHTINGS)}"
            )


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    dims: ModelDims
    train: dict[str, TrainConfig]  # by dataset family ("iemocap", "meld")
    seeds: tuple[int, ...]
    # Per split, keep at most this many dialogues (a fixed, seed-independent subset), for CI-sized runs.
    max_dialogues: dict[str, int] = field(default_factory=dict)

    def train_config(self, family: str, seed: int) -> TrainConfig:
        return dataclasses.replace(self.train[family], seed=seed)


PROFILES: Registry[Profile] = Registry("profile")

# What every profile takes from the specification (SDT's settings), by dataset family; the profiles
# differ in schedule and size only.
SPEC_TRAINING: dict[str, dict[str, Any]] = {
    "iemocap": {"optimizer": "adam", "weight_decay": SPEC_WEIGHT_DECAY, "grad_clip": 0.0,
                "class_weighting": INVERSE_FREQUENCY},
    "meld": {"optimizer": "adam", "weight_decay": SPEC_WEIGHT_DECAY, "grad_clip": 0.0,
             "class_weighting": UNWEIGHTED},
}  # fmt: skip

PROFILES.add(
    "smoke",
    Profile(
        name="smoke",
        description="tiny widths, few epochs, subsampled dialogues: for CI and the regression gate",
        dims=ModelDims(width=32, heads=2, layers=1, dropout=0.1),
        train={
            "iemocap": TrainConfig(lr=2e-3, epochs=4, batch_size=8, patience=0, **SPEC_TRAINING["iemocap"]),
            "meld": TrainConfig(lr=2e-3, epochs=4, batch_size=16, patience=0, **SPEC_TRAINING["meld"]),
        },
        seeds=(0,),
        max_dialogues={"train": 48, "validation": 12, "test": 24},
    ),
)
PROFILES.add(
    "fast",
    Profile(
        name="fast",
        description="CPU-sized, full data: the whole `run --all` sweep in under 40 minutes on two cores",
        dims=ModelDims(width=64, heads=4, layers=1, dropout=0.2),
        # Batches twice the paper's size (half the optimizer steps, each one no slower: at width 64 a step
        # costs its recurrent steps' overhead, not its products) with the learning rate raised to match,
        # and short schedules: what fits SUMMER's nine rows and the baselines into the sweep's budget.
        train={
            "iemocap": TrainConfig(lr=2e-3, epochs=8, batch_size=16, patience=4, **SPEC_TRAINING["iemocap"]),
            "meld": TrainConfig(lr=1e-3, epochs=5, batch_size=32, patience=3, **SPEC_TRAINING["meld"]),
        },
        seeds=(0, 1, 2),
    ),
)
PROFILES.add(
    "paper",
    Profile(
        name="paper",
        description="the specification's hyper-parameters (SDT's published settings)",
        dims=ModelDims(width=1024, heads=8, layers=1, dropout=0.5),
        train={
            "iemocap": TrainConfig(
                lr=1e-4, epochs=150, batch_size=16, patience=0, **SPEC_TRAINING["iemocap"]
            ),
            "meld": TrainConfig(lr=5e-6, epochs=50, batch_size=8, patience=0, **SPEC_TRAINING["meld"]),
        },
        seeds=(0, 1, 2, 3, 4),
    ),
)


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable hash of a JSON-able config: the identity of a run's settings."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
