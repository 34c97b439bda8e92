"""The canonical form every MERC source converges on.

A `datasets.DatasetDict` with splits train/validation/test and one row per dialogue:
`dialogue_id` (str), `speakers` (list[int]), `labels` (list[int]) and one [n_utterances, dim] float32
array per *present* modality column (`text`, `audio`, `visual`). An absent modality has no column and is
listed in `DatasetMeta.absent_modalities`: it is never silently filled with zeros.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np

from benchmark.stored import typed

MODALITIES: tuple[str, ...] = ("text", "audio", "visual")
SPLITS: tuple[str, ...] = ("train", "validation", "test")

# Class names in the paper's order; the integer label is the index.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "iemocap": ("happy", "sad", "neutral", "angry", "excited", "frustrated"),
    "meld": ("neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"),
}
# Speakers a dialogue may have, where the dataset fixes it: an IEMOCAP session is one pair of actors.
MAX_SPEAKERS: dict[str, int] = {"iemocap": 2}

TRAINED_ON_TEST, MAY_HAVE_TRAINED_ON_TEST = "was trained on", "may have been trained on"


@dataclass(frozen=True)
class ExtractorExposure:
    """A feature extractor trained, as a source says, on data that includes the MERC test splits, or that
    may have been: its features may carry the test labels, so scores on them are not held-out scores."""

    extractor: str
    certainty: str  # TRAINED_ON_TEST, or MAY_HAVE_TRAINED_ON_TEST where the source is unsure
    evidence: str  # what the source says, and where

    def describe(self) -> str:
        return f"{self.extractor} {self.certainty} data including the test split: {self.evidence}"


# The extractors some source says were, or may have been, trained on the test splits, by the name the
# lineage gives them (matched in lowercase): whoever made the features, a release or `--text-encoder`.
# Only what a source states; an extractor a release does not name ("unknown") is not flagged.
EXPOSED_EXTRACTORS: dict[str, ExtractorExposure] = {
    "emoberta": ExtractorExposure(
        "EmoBERTa's public checkpoint",
        MAY_HAVE_TRAINED_ON_TEST,
        'its author says it was trained on MELD and IEMOCAP, "I think" with their test sets '
        "(github.com/tae898/erc/issues/29)",
    ),
}


def exposure_of(lineage: Mapping[str, str]) -> dict[str, ExtractorExposure]:
    """modality -> the exposure of the extractor its lineage names, for the modalities that have one."""
    return {
        modality: exposure
        for modality, statement in lineage.items()
        for name, exposure in EXPOSED_EXTRACTORS.items()
        if name in statement.lower()
    }


@dataclass(frozen=True)
class DatasetMeta:
    name: str  # registry name, e.g. "iemocap" or "synthetic-meld"
    family: str  # "iemocap" or "meld": decides classes and per-dataset hyper-parameters
    classes: tuple[str, ...]
    feature_dims: dict[str, int]  # present modalities only, in MODALITIES order
    n_speakers: int
    source: str  # what the user pointed at: a path, "hub-id@revision" or "generator(seed=...)"
    source_kind: str  # "synthetic", "hub", "datasets-folder", "feature-pickle:<layout>", "transcripts", "meld-csv", "utterance-table"
    # SHA-256 over the input files (or the generator's parameters), and, for imports, over the extractors
    # and normalisation applied to them: other data under the same name has another fingerprint
    fingerprint: str
    synthetic: bool
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. which dialogues were carved for validation
    # modality -> where its features come from, as the source or the extractor states it ("unknown" when
    # neither does); never guessed from a dimension
    lineage: dict[str, str] = field(default_factory=dict)
    source_fingerprint: str | None = None  # SHA-256 over the input files alone
    # context-free reference scores made during the import, name -> test weighted-F1 (%), e.g. the
    # fine-tuned text classifier's (benchmark/data/fine_tune.py)
    references: dict[str, float] = field(default_factory=dict)
    # the named public release the files were fetched from ("mmgcn release, github.com/OWNER/REPO@COMMIT"),
    # None for a local path or a hub id
    release: str | None = None

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITIES if m in self.feature_dims)

    @property
    def test_split_exposure(self) -> dict[str, ExtractorExposure]:
        """The features whose extractor may have seen the test split, as their lineage names it: read off
        the lineage, so a record or cached import made before the flag existed is flagged too."""
        return exposure_of(self.lineage)

    @property
    def absent_modalities(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITIES if m not in self.feature_dims)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> DatasetMeta:
        """Every field checked against its type (benchmark.stored.typed); a ShapeError says where not."""
        return typed(cls, raw)


@dataclass(frozen=True)
class MercDataset:
    meta: DatasetMeta
    splits: datasets.DatasetDict

    def save(self, folder: Path) -> None:
        """Write the splits and meta.json into `folder`, which must not exist yet (callers write to a
        temporary folder and rename, so a reader never sees half a dataset)."""
        self.splits.save_to_disk(str(folder))
        (folder / "meta.json").write_text(json.dumps(self.meta.to_json(), indent=2))

    def utterances(self, split: str, modality: str) -> tuple[np.ndarray, np.ndarray]:
        """One split's utterances with the dialogues flattened away: the modality's feature rows
        [utterances, dim] and their labels [utterances], for context-free references and probes."""
        rows = self.splits[split].with_format("numpy")[:]
        return np.concatenate(list(rows[modality])), np.concatenate(list(rows["labels"]))

    @classmethod
    def load(cls, folder: Path) -> MercDataset:
        meta = DatasetMeta.from_json(json.loads((folder / "meta.json").read_text()))
        return cls(meta=meta, splits=datasets.load_from_disk(str(folder)))


def features_for(feature_dims: dict[str, int]) -> datasets.Features:
    """The Arrow schema of one canonical split."""
    columns: dict = {
        "dialogue_id": datasets.Value("string"),
        "speakers": datasets.Sequence(datasets.Value("int32")),
        "labels": datasets.Sequence(datasets.Value("int32")),
    }
    for modality in MODALITIES:
        if modality in feature_dims:
            columns[modality] = datasets.Array2D(shape=(None, feature_dims[modality]), dtype="float32")
    return datasets.Features(columns)
