"""Typed configuration: training settings and the named profiles (smoke, fast, paper).

Every training hyper-parameter that is a [choice] of docs/model.md ("Training") is set here, once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from benchmark.modeling import ModelDims
from benchmark.registry import Registry


@dataclass(frozen=True)
class TrainConfig:
    lr: float
    epochs: int
    batch_size: int  # dialogues per batch
    patience: int  # epochs without a better validation weighted-F1 before stopping; 0 = never stop early
    optimizer: str = "adam"
    weight_decay: float = 0.0
    grad_clip: float = 1.0  # max gradient norm; 0 = off
    class_weights: tuple[float, ...] = ()  # cross-entropy weight per class, in class order; () = unweighted
    seed: int = 0
    threads: int = 2  # torch.set_num_threads: part of determinism, recorded in every run


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

PROFILES.add(
    "smoke",
    Profile(
        name="smoke",
        description="tiny widths, few epochs, subsampled dialogues: for CI and the regression gate",
        dims=ModelDims(width=32, heads=2, layers=1, dropout=0.1),
        train={
            "iemocap": TrainConfig(lr=2e-3, epochs=4, batch_size=8, patience=0),
            "meld": TrainConfig(lr=2e-3, epochs=4, batch_size=16, patience=0),
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
            "iemocap": TrainConfig(lr=2e-3, epochs=8, batch_size=16, patience=4),
            "meld": TrainConfig(lr=1e-3, epochs=5, batch_size=32, patience=3),
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
            "iemocap": TrainConfig(lr=1e-4, epochs=150, batch_size=16, patience=0),
            "meld": TrainConfig(lr=5e-6, epochs=50, batch_size=8, patience=0),
        },
        seeds=(0, 1, 2, 3, 4),
    ),
)


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable hash of a JSON-able config: the identity of a run's settings."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
