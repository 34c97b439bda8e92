"""The run record: everything one training run leaves behind, as the report and the gate read it.

One JSON file per run key (model, ablation, dataset, profile, seed). Written by the run store,
read by reports and the regression gate; neither trains anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

RECORD_SCHEMA_VERSION = 1
FULL_MODEL = "none"  # the ablation value of a run that drops nothing
STUDY_PREFIX = "on-"  # ablation names of study variants (a model on other inputs), not "drop X" rows

# The record's missing-modality section: condition -> the modalities removed, in the order the report's
# table prints them (benchmark/modality_removal.py evaluates them), and how each was removed.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "all three": (),
    "without audio": ("audio",),
    "without visual": ("visual",),
    "without text": ("text",),
    "text only": ("audio", "visual"),
}
ABSENT, ZERO_FILLED, NOT_IN_DATA = "absent", "zero-filled", "not in the data"


@dataclass(frozen=True, order=True)
class RunKey:
    model: str  # registered model name, e.g. "summer", "tfn"
    ablation: str  # FULL_MODEL or a registered ablation name ("sdmoe", "hcmf", "ikd", "latent")
    dataset: str  # registered dataset name, e.g. "synthetic-iemocap"
    profile: str  # "smoke", "fast", "paper"
    seed: int

    @property
    def variant(self) -> str:
        """The row name in tables: "summer", "summer-no-sdmoe", "tfn"."""
        if self.ablation == FULL_MODEL:
            return self.model
        if self.ablation.startswith(STUDY_PREFIX):
            return f"{self.model}-{self.ablation}"  # "text-teacher-on-audio"
        return f"{self.model}-no-{self.ablation}"

    def relative_path(self) -> str:
        return f"{self.dataset}/{self.profile}/{self.variant}/seed-{self.seed}.json"


@dataclass(frozen=True)
class SplitMetrics:
    weighted_f1: float  # the headline metric, in [0, 1]
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]  # class name -> F1, in the dataset's class order
    confusion: list[list[int]]  # rows = true class, columns = predicted class, class order


@dataclass(frozen=True)
class Predictions:
    """Test predictions per dialogue, so statistics can resample dialogues, not utterances."""

    dialogue_ids: list[str]
    labels: list[list[int]]
    predicted: list[list[int]]


@dataclass(frozen=True)
class EpochLog:
    epoch: int  # 1-based
    train_loss: float
    loss_terms: dict[str, float]  # mean per term over the epoch: "ce", "moe_balance", "kd_logit", ...
    validation_weighted_f1: float
    test_weighted_f1: float
    seconds: float


@dataclass(frozen=True)
class RunRecord:
    key: RunKey
    config: dict[str, Any]  # {"train": TrainConfig, "model": model config, "dims": ModelDims, ...} as dicts
    config_hash: str
    data: dict[str, Any]  # DatasetMeta.to_json(): name, source, source_kind, fingerprint, synthetic, classes
    environment: dict[str, Any]  # git_commit, python, torch, platform, threads, device
    parameters: int
    best_epoch: int  # chosen on validation weighted-F1
    validation: SplitMetrics  # at best_epoch
    test: SplitMetrics  # at best_epoch: THE result
    test_oracle_weighted_f1: float  # best test weighted-F1 over all epochs: how most MERC papers report
    test_oracle_epoch: int
    curves: list[EpochLog]
    predictions: Predictions  # test, at best_epoch
    seconds_per_epoch: float
    train_seconds: float  # whole run, teacher excluded
    peak_rss_mb: float
    teacher: dict[str, Any] | None = None  # the teacher's cache key and its own test metrics, if any
    # test metrics with modalities removed, at the selected weights (benchmark.modality_removal)
    missing_modalities: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema_version: int = RECORD_SCHEMA_VERSION
    notes: list[str] = field(default_factory=list)
    # results_checksum() of the record as the run store wrote it; None in records written before it
    checksum: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RunRecord:
        """Raises KeyError/TypeError/ValueError on a record that does not have this shape."""
        if raw.get("schema_version") != RECORD_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {raw.get('schema_version')!r}, expected {RECORD_SCHEMA_VERSION}"
            )
        fields = dict(raw)
        fields["key"] = RunKey(**raw["key"])
        fields["validation"] = SplitMetrics(**raw["validation"])
        fields["test"] = SplitMetrics(**raw["test"])
        fields["curves"] = [EpochLog(**epoch) for epoch in raw["curves"]]
        fields["predictions"] = Predictions(**raw["predictions"])
        return cls(**fields)


def results_checksum(raw: dict[str, Any]) -> str:
    """sha256 of a record's JSON form less its checksum: any edit of a stored result changes it."""
    body = {name: value for name, value in raw.items() if name != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
