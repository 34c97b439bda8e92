"""Typed configuration: training settings and the named profiles (smoke, fast, converged, paper).

Every training hyper-parameter that is a [choice] of docs/model.md ("Training") is set here, once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchmark.data.class_weighting import CLASS_WEIGHTINGS, INVERSE_FREQUENCY, UNWEIGHTED
from benchmark.errors import BenchmarkError
from benchmark.models.contract import ModelDims
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
    # the profile whose measured per-epoch costs (benchmark/training/costs.json) hold for this one, because
    # an epoch is the same work (widths, batches, data); None: its own
    epoch_costs_of: str | None = None

    @property
    def epoch_cost_profile(self) -> str:
        return self.epoch_costs_of or self.name

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
        description="CPU-sized, full data, short schedules; one torch thread per run, a run per core at once",
        dims=ModelDims(width=64, heads=4, layers=1, dropout=0.2),
        # Batches twice the paper's size (half the optimizer steps, each one no slower: at width 64 a step
        # costs its recurrent steps' overhead, not its products) with the learning rate raised to match,
        # and short schedules: what fits SUMMER's nine rows and the baselines into the sweep's budget.
        # [choice] one torch thread per run, as many runs at once as there are cores (`default_jobs`): at
        # width 64 a step is many small operators, which a second thread barely shares (MultiEMO's epoch
        # took longer on two threads than on one, MMGCN's MELD epoch too: docs/measurements.md, "The
        # main job at one thread a run"), so two one-thread runs finish a sweep sooner than one two-thread
        # run at a time.
        train={
            "iemocap": TrainConfig(
                lr=2e-3, epochs=8, batch_size=16, patience=4, threads=1, **SPEC_TRAINING["iemocap"]
            ),
            "meld": TrainConfig(
                lr=1e-3, epochs=5, batch_size=32, patience=3, threads=1, **SPEC_TRAINING["meld"]
            ),
        },
        seeds=(0, 1, 2),
    ),
)
PROFILES.add(
    "converged",
    Profile(
        name="converged",
        description="fast's widths and batches, trained until validation weighted-F1 stops improving "
        "(patience 10 IEMOCAP / 6 MELD, caps 60 / 40 epochs)",
        dims=PROFILES.get("fast").dims,
        # Patience: IEMOCAP's validation split is 12 dialogues (a tenth of the training ones, carved; 647
        # utterances in the synthetic data), so its weighted-F1 moves by a point or more between epochs with
        # no trend and a new best by chance comes within a few epochs: ten epochs without one is a stall.
        # MELD's official dev split (114 dialogues, 1,109 utterances) is steadier: six. Caps: six to seven
        # times the patience, so that a run reaches its cap only by finding a new best at least every
        # `patience` epochs all the way (and is then marked still improving), while its cost stays bounded
        # (docs/model.md, "Training").
        train={
            "iemocap": dataclasses.replace(PROFILES.get("fast").train["iemocap"], epochs=60, patience=10),
            "meld": dataclasses.replace(PROFILES.get("fast").train["meld"], epochs=40, patience=6),
        },
        seeds=PROFILES.get("fast").seeds,
        epoch_costs_of="fast",
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
