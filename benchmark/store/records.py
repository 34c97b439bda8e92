"""The run record: everything one training run leaves behind, as the report and the gate read it.

One JSON file per run key (model, ablation, dataset, profile, seed). Written by the run store,
read by reports and the regression gate; neither trains anything. Every section is typed; a record of
an older schema version is upgraded on reading, so that no reader needs a default for a field older
records lack: version 1 (sections as free dicts, some fields not yet recorded) by `upgraded_from_v1`,
version 2 (no convergence section) by `upgraded_from_v2`, which computes it from the stored curves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from benchmark.stored import ShapeError, typed
from benchmark.variants import FULL_MODEL, variant_name

if TYPE_CHECKING:  # at run time only `from_json` needs it: the schema module imports the datasets library
    from benchmark.data.schema import DatasetMeta

RECORD_SCHEMA_VERSION = 3

# The record's missing-modality section: condition -> the modalities removed, in the order the report's
# table prints them (benchmark/training/modality_removal.py evaluates them), and how each was removed.
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
    # `run --set` / `tune` settings in their canonical form (benchmark/models/search_space.py), "" for the
    # model's defaults: a run with settings is stored beside the default run, never over it
    settings: str = ""

    @property
    def variant(self) -> str:
        return variant_name(self.model, self.ablation)

    def relative_path(self) -> str:
        folder = f"{self.dataset}/{self.profile}/{self.variant}"
        if self.settings:
            folder += f"/settings-{hashlib.sha256(self.settings.encode()).hexdigest()[:12]}"
        return f"{folder}/seed-{self.seed}.json"

    def to_json(self) -> dict[str, Any]:
        """Without `settings` when there are none: a default run's record reads as it always has."""
        raw = asdict(self)
        return raw if self.settings else {k: v for k, v in raw.items() if k != "settings"}


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
class Convergence:
    """Whether validation weighted-F1 was still improving when training stopped (docs/model.md, "Training").

    still_improving = last_epoch - best_epoch < window, window = the profile's patience, or for a profile
    without one, a tenth of its epoch cap (at least 1). A run stopped by patience has last - best = patience:
    it converged by its own rule. A run that reached its cap before its patience ran out had not shown that
    validation stopped improving, and its selected epoch may understate the model."""

    best_epoch: int  # chosen on validation weighted-F1 (the record's best_epoch)
    last_epoch: int  # the last epoch trained: the cap, or earlier when patience stopped it
    epoch_cap: int  # the profile's epochs
    window: int  # epochs without a new best validation score that count as having stopped improving
    still_improving: bool

    @classmethod
    def of(cls, best_epoch: int, last_epoch: int, epoch_cap: int, patience: int) -> Convergence:
        window = patience if patience else max(1, epoch_cap // 10)
        return cls(best_epoch, last_epoch, epoch_cap, window, last_epoch - best_epoch < window)


@dataclass(frozen=True)
class RunConfig:
    """A run's settings; the hash of their JSON form (`config_hash`) is the run's config identity."""

    model: str
    ablation: str
    ablation_label: str  # "full", or the ablation's label as the paper's table writes it
    ablation_origin: str | None  # where the ablation row comes from (contract.PAPER, ...); None: full model
    model_config: dict[str, Any]  # the model's config dataclass as a dict: its fields differ per model
    train: dict[str, Any]  # TrainConfig as a dict, the class weights computed included
    profile: str
    # the profile's subsample: split -> at most this many dialogues, {} for every dialogue; None in a
    # version-1 record (which did not say, and used every dialogue)
    max_dialogues: dict[str, int] | None
    precision: str
    # the run key's settings, typed (absent from the JSON, and so from the hash, of a default run)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        return raw if self.settings else {k: v for k, v in raw.items() if k != "settings"}


@dataclass(frozen=True)
class Environment:
    """Software, machine and device of a run (benchmark.training.environment and Execution.describe())."""

    git_commit: str
    python: str
    numpy: str
    scikit_learn: str
    platform: str
    cpu: str
    cpu_capability: str
    machine: str
    torch: str
    threads: int | None  # torch threads; None only in a version-1 record that did not say
    device: str
    device_name: str
    precision: str
    deterministic: bool
    cuda: str | None = None  # CUDA's version, on CUDA runs only (absent from the JSON of the others)

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        return raw if self.cuda is not None else {k: v for k, v in raw.items() if k != "cuda"}


@dataclass(frozen=True)
class TeacherSummary:
    """The frozen teacher a run distilled from: its cache key and hash, and its own results."""

    key: dict[str, Any]  # everything its weights depend on (benchmark.training.teachers.teacher_key)
    hash: str
    best_epoch: int
    validation_weighted_f1: float
    test_weighted_f1: float
    cache_hit: bool  # loaded from the teacher cache rather than trained by this run

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModalityScore:
    """Test scores with one CONDITIONS entry's modalities removed; None where NOT_IN_DATA."""

    weighted_f1: float | None
    macro_f1: float | None
    how: str  # ABSENT, ZERO_FILLED or NOT_IN_DATA


@dataclass(frozen=True)
class RunRecord:
    key: RunKey
    config: RunConfig
    config_hash: str
    data: DatasetMeta  # the dataset as the run saw it (its subsample's notes included)
    environment: Environment
    parameters: int
    best_epoch: int  # chosen on validation weighted-F1
    validation: SplitMetrics  # at best_epoch
    test: SplitMetrics  # at best_epoch: THE result
    test_oracle_weighted_f1: float  # best test weighted-F1 over all epochs: how most MERC papers report
    test_oracle_epoch: int
    curves: list[EpochLog]
    convergence: Convergence
    predictions: Predictions  # test, at best_epoch
    seconds_per_epoch: float
    train_seconds: float  # whole run, teacher excluded
    peak_rss_mb: float
    teacher: TeacherSummary | None = None  # for a model that distils from a teacher
    # CONDITIONS -> test scores with those modalities removed, at the selected weights
    # (benchmark.training.modality_removal); empty in records written before this evaluation existed
    missing_modalities: dict[str, ModalityScore] = field(default_factory=dict)
    schema_version: int = RECORD_SCHEMA_VERSION
    notes: list[str] = field(default_factory=list)
    # results_checksum() of the record as the run store wrote it; None in records written before it
    checksum: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {
            "key": self.key.to_json(),
            "config": self.config.to_json(),
            "environment": self.environment.to_json(),
        }

    @classmethod
    def from_json(cls, raw: Any) -> RunRecord:
        """A record of this schema version, or of an older one upgraded, every field checked against its
        type (benchmark.stored.typed). Raises NewerRecordError on a record of a later schema version, and
        ShapeError, KeyError, TypeError or ValueError on a record that has no record's shape."""
        from benchmark.data.schema import DatasetMeta

        if not isinstance(raw, dict):
            raise ShapeError(f"{json.dumps(raw)[:40]}, expected an object (a run record)")
        version = raw.get("schema_version")
        if type(version) is int and version > RECORD_SCHEMA_VERSION:
            raise NewerRecordError(version)
        if version == 1:
            raw = upgraded_from_v1(raw)
        if raw.get("schema_version") == 2:
            raw = upgraded_from_v2(raw)
        if raw.get("schema_version") != RECORD_SCHEMA_VERSION:
            raise ShapeError(
                f"schema_version {raw.get('schema_version')!r}, expected {RECORD_SCHEMA_VERSION} (or 1, 2)"
            )
        return typed(cls, raw, names={"DatasetMeta": DatasetMeta})


class NewerRecordError(Exception):
    """A record written by a later version of the suite, whose schema this version cannot read."""

    def __init__(self, version: int) -> None:
        super().__init__(f"record schema {version}")
        self.version = version


# What version-1 records may lack, filled as the readers of version 1 assumed: the variant's name as the
# ablation's label, no ablation origin, fp32 on the CPU with deterministic kernels, every dialogue.
V1_CONFIG_DEFAULTS = {"ablation_origin": None, "max_dialogues": None, "precision": "fp32"}
V1_ENVIRONMENT_DEFAULTS = {"device": "cpu", "precision": "fp32", "deterministic": True, "threads": None}
NOT_RECORDED = "not recorded"  # a version-1 record's software or machine field it did not keep


def upgraded_from_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-1 record's JSON in version 2's shape: the fields version 1 could lack filled in. Its
    checksum and config hash stay those of the stored file, which the store verifies before upgrading."""
    key = RunKey(**raw["key"])
    label = "full" if key.ablation == FULL_MODEL else key.variant
    config = V1_CONFIG_DEFAULTS | {"ablation_label": label, "profile": key.profile} | raw["config"]
    environment = dict(raw["environment"])
    for name in Environment.__dataclass_fields__:
        if name not in environment and name != "cuda":
            environment[name] = V1_ENVIRONMENT_DEFAULTS.get(name, NOT_RECORDED)
    if environment["device_name"] == NOT_RECORDED:
        environment["device_name"] = environment["device"]
    return raw | {"schema_version": 2, "config": config, "environment": environment}


def upgraded_from_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-2 record's JSON in version 3's shape: its convergence section computed from its curves
    and its training config (epoch cap and patience), as the trainer would have recorded it."""
    train = raw["config"]["train"]
    convergence = Convergence.of(
        raw["best_epoch"], raw["curves"][-1]["epoch"], train["epochs"], train["patience"]
    )
    return raw | {"schema_version": 3, "convergence": asdict(convergence)}


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable hash of a JSON-able config: the identity of a run's settings (and of a teacher's,
    in the teacher cache)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def results_checksum(raw: dict[str, Any]) -> str:
    """sha256 of a record's JSON form less its checksum: any edit of a stored result changes it."""
    body = {name: value for name, value in raw.items() if name != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
