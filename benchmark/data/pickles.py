"""The pickles MERC papers train on, as the public loaders read them.

Feature pickles: the MMGCN/MM-DFN lineage (text 100 dims for IEMOCAP, 600 for MELD), the
COSMIC/SDT RoBERTa lineage (text 1024) and conv-emotion's bc-LSTM MELD pickle (text and audio, its
extractors unstated); transcript pickles: COSMIC's feature-extraction inputs (raw sentences, no
features). Each layout is the exact tuple a public `dataloader.py` unpacks; a file is
matched by its number of items and which of them are id lists, and the layout states the features'
lineage (never their dimension: any dimension imports). What was found is recorded in
`DatasetMeta.source_kind`, `lineage` and notes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.data.safe_pickle import load_pickle
from benchmark.data.schema import CLASS_NAMES, MODALITIES, MercDataset
from benchmark.data.validate import build_splits, imported_dataset
from benchmark.errors import BenchmarkError

# Feature pickles without a validation split: this fraction of training dialogues is carved out with
# this seed, and the carved ids are recorded in the dataset's notes.
VALIDATION_FRACTION = 0.1
VALIDATION_CARVE_SEED = 0

IEMOCAP_SPEAKERS = frozenset({"M", "F"})
ID_LIST_FIELDS = frozenset({"train", "test", "validation"})
IGNORED = "_"  # an item the public loader also discards (utterance ids, sentiment, other RoBERTa layers)
TRAILING = "trailing"  # MELD's last item: taken as the official dev split when it is an id list

# What MMGCN's train.py calls its inputs (`feat2dim`); its repository states nothing more about them.
MMGCN_LINEAGE = (
    "MMGCN release: text textCNN, audio IS10 (openSMILE), visual denseface (names in its train.py)"
)
UNSTATED_LINEAGE = "unknown: the release does not state its feature extractors"
# COSMIC's feature-extraction scripts (roberta_init_*.py, roberta_preprocess_*.sh, roberta_train_*.sh in
# declare-lab/conv-emotion) fine-tune RoBERTa on the train split and pick its checkpoint on validation;
# the test split is written out but never binarised for training: these features are not flagged.
COSMIC_FINE_TUNING = (
    "fine-tuned on the train split by its feature-extraction scripts (validation picks the checkpoint)"
)


@dataclass(frozen=True)
class PickleLayout:
    name: str
    family: str
    origin: str  # the file name it ships under and the loader that reads it, for messages and notes
    fields: tuple[str, ...]  # one per tuple item, in order
    lineage: str = ""  # where the features of this layout come from, as its publishers state

    @property
    def lineage_name(self) -> str:
        return self.name.rpartition("-")[0]

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITIES if m in self.fields)


LAYOUTS: tuple[PickleLayout, ...] = (
    PickleLayout(
        "mmgcn-iemocap",
        "iemocap",
        "IEMOCAP_features.pkl (MMGCN / MM-DFN dataloader.py; conv-emotion's DialogueGCN and bc-LSTM IEMOCAP "
        "pickles unpack the same nine items)",
        ("_", "speakers", "labels", "text", "audio", "visual", "_", "train", "test"),
        "MMGCN's layout, which conv-emotion's DialogueGCN and bc-LSTM pickles share: if the file is MMGCN's, "
        + MMGCN_LINEAGE.removeprefix("MMGCN release: ")
        + "; a named source (--source mmgcn, dialoguegcn, bclstm) records its own",
    ),
    PickleLayout(
        "mmgcn-meld",
        "meld",
        "MELD_features_raw1.pkl (MMGCN / MM-DFN dataloader.py)",
        ("_", "speakers", "labels", "text", "audio", "visual", "_", "train", "test", TRAILING),
        MMGCN_LINEAGE,
    ),
    PickleLayout(
        "bclstm-meld",
        "meld",
        "MELD_features_raw.pkl (conv-emotion bc-LSTM-pytorch / DialogueGCN dataloader.py; no visual)",
        ("_", "speakers", "labels", "text", "audio", "_", "train", "test", "_"),
        UNSTATED_LINEAGE,
    ),
    PickleLayout(
        "sdt-iemocap",
        "iemocap",
        "iemocap_multimodal_features.pkl (SDT dataloader.py; text = RoBERTa layer 1)",
        ("_", "speakers", "labels", "text", "_", "_", "_", "audio", "visual", "_", "train", "test"),
        "SDT release: text RoBERTa-large layer 1 (COSMIC's: " + COSMIC_FINE_TUNING + "), audio openSMILE, "
        "visual DenseNet",
    ),
    PickleLayout(
        "sdt-meld",
        "meld",
        "meld_multimodal_features.pkl (SDT dataloader.py; text = RoBERTa layer 1)",
        ("_", "speakers", "labels", "text", "_", "_", "_", "audio", "visual", "_", "train", "test", TRAILING),
        "SDT release: text RoBERTa-large layer 1 (COSMIC's: " + COSMIC_FINE_TUNING + "), audio openSMILE, "
        "visual DenseNet",
    ),
    PickleLayout(
        "cosmic-roberta-iemocap",
        "iemocap",
        "iemocap_features_roberta.pkl (COSMIC; text only, RoBERTa layer 1)",
        ("speakers", "labels", "text", "_", "_", "_", "_", "train", "test", "validation"),
        "COSMIC release: text RoBERTa-large layer 1, " + COSMIC_FINE_TUNING,
    ),
    PickleLayout(
        "cosmic-roberta-meld",
        "meld",
        "meld_features_roberta.pkl (COSMIC; text only, RoBERTa layer 1)",
        ("speakers", "labels", "_", "text", "_", "_", "_", "_", "train", "test", "validation"),
        "COSMIC release: text RoBERTa-large layer 1, " + COSMIC_FINE_TUNING,
    ),
    PickleLayout(
        "cosmic-transcripts-iemocap",
        "iemocap",
        "iemocap.pkl (COSMIC feature-extraction transcripts)",
        ("speakers", "labels", "sentences", "train", "test", "validation"),
    ),
    PickleLayout(
        "cosmic-transcripts-meld",
        "meld",
        "meld.pkl (COSMIC feature-extraction transcripts)",
        ("speakers", "labels", "_", "sentences", "train", "test", "validation"),
    ),
)


def file_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def detect_layout(path: Path, content: object) -> PickleLayout:
    """The layout whose item count and item kinds (id list vs per-dialogue dict) the content has."""
    if not isinstance(content, (tuple, list)):
        raise BenchmarkError(
            f"{path}: unknown pickle layout ({type(content).__name__}); expected the tuple a MERC "
            "dataloader unpacks (see benchmark/data/pickles.py for the known layouts)"
        )
    for layout in LAYOUTS:
        if len(layout.fields) == len(content) and all(
            _fits(field, item) for field, item in zip(layout.fields, content, strict=True)
        ):
            return layout
    known = ", ".join(f"{layout.origin}: {len(layout.fields)} items" for layout in LAYOUTS)
    raise BenchmarkError(f"{path}: unknown pickle layout ({len(content)} items); known layouts are {known}")


def load_pickle_source(path: Path, name: str, family: str) -> MercDataset:
    content = load_pickle(path)
    layout = detect_layout(path, content)
    if layout.family != family:
        raise BenchmarkError(
            f"{path}: this is {layout.origin}, a {layout.family.upper()} file, not {family.upper()}: "
            f"import it with --dataset {layout.family}"
        )
    items = {field: item for field, item in zip(layout.fields, content, strict=True) if field != IGNORED}
    features = {m: str_keys(items[m]) for m in layout.modalities}
    notes = [f"layout {layout.name}: {layout.origin}"]
    kind = "transcripts"
    if features:
        dims = {m: _first_dim(features[m]) for m in layout.modalities}
        kind = f"feature-pickle:{layout.lineage_name}"
        notes.append(
            f"lineage stated by the layout: {layout.lineage}; dims "
            + ", ".join(f"{m} {d}" for m, d in dims.items())
        )
    split_ids, split_note = official_splits(items, set(str_keys(items["labels"])))
    notes.append(split_note)
    absent = [m for m in MODALITIES if m not in layout.modalities]
    if not features:
        notes.append("no feature modalities in the file: its sentences are kept (column 'sentences')")
    elif absent:
        notes.append(f"absent modalities (no column, not zero-filled): {', '.join(absent)}")
    splits, found_dims = build_splits(
        str(path),
        split_ids,
        speaker_ids(path, family, str_keys(items["speakers"])),
        str_keys(items["labels"]),
        features,
        len(CLASS_NAMES[family]),
        sentences=None if features else str_keys(items["sentences"]),
    )
    return imported_dataset(
        splits,
        name=name,
        family=family,
        feature_dims=found_dims,
        source=str(path),
        source_kind=kind,
        fingerprint=file_fingerprint(path),
        notes=notes,
        lineage={m: layout.lineage for m in found_dims},
    )


def carve_validation(train_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split training ids into (train, validation) with a fixed seed, independent of the ids' order."""
    ordered = sorted(train_ids)
    rng = np.random.default_rng(VALIDATION_CARVE_SEED)
    n_valid = max(1, round(VALIDATION_FRACTION * len(ordered)))
    chosen = set(rng.choice(len(ordered), size=n_valid, replace=False).tolist())
    valid = [d for i, d in enumerate(ordered) if i in chosen]
    return [d for i, d in enumerate(ordered) if i not in chosen], valid


def official_splits(items: dict, known: set[str]) -> tuple[dict[str, list[str]], str]:
    train = [str(d) for d in items["train"]]
    test = [str(d) for d in items["test"]]
    if "validation" in items:
        valid = [str(d) for d in items["validation"]]
        return {"train": train, "validation": valid, "test": test}, "official train/validation/test split"
    trailing = items.get(TRAILING)
    if is_id_list(trailing) and len(trailing):
        valid = sorted(str(d) for d in trailing)
        if set(valid) <= known and not set(valid) & set(test):
            chosen = set(valid)
            train = [d for d in train if d not in chosen]
            return (
                {"train": train, "validation": valid, "test": test},
                f"official dev split from the last item: {len(valid)} dialogues",
            )
    train, valid = carve_validation(train)
    return (
        {"train": train, "validation": valid, "test": test},
        f"no validation split in the file: carved {len(valid)} of the training dialogues "
        f"(seed {VALIDATION_CARVE_SEED}): {', '.join(valid)}",
    )


def _fits(field: str, item: object) -> bool:
    """Whether `item` has the kind of content `field` holds, judged on its first utterance."""
    if field == TRAILING:
        return True
    if field in ID_LIST_FIELDS:
        return is_id_list(item)
    if not isinstance(item, Mapping):
        return False
    utterance = next((rows[0] for rows in item.values() if len(rows)), None)
    if utterance is None or field == IGNORED:
        return True
    if field in MODALITIES:
        return np.ndim(utterance) == 1 and not isinstance(utterance, str)
    if field == "labels":  # a number: validation names non-integer labels per dialogue
        return np.ndim(utterance) == 0 and not isinstance(utterance, str)
    if field == "sentences":
        return isinstance(utterance, str)
    return isinstance(utterance, (str, int, np.integer)) or np.ndim(utterance) == 1  # speakers


def is_id_list(item: object) -> bool:
    return isinstance(item, (list, tuple, set, frozenset, np.ndarray))


def _first_dim(per_dialogue: Mapping[str, object]) -> int | None:
    """The dim of the first utterance found; disagreeing dims are reported by validation, per dialogue."""
    for rows in per_dialogue.values():
        if len(rows):
            return int(np.asarray(rows[0]).shape[-1]) if np.ndim(rows[0]) else None
    return None


def speaker_ids(path: Path, family: str, per_dialogue: dict) -> dict[str, list[int]]:
    """Speakers as ints: letters ('M'/'F' in IEMOCAP) in sorted order, one-hot vectors (MELD) by argmax,
    ints as they are. A missing speaker, or a letter outside IEMOCAP's two, is an error naming the dialogue."""
    letters = sorted({s for seq in per_dialogue.values() for s in seq if isinstance(s, str)})
    index = {letter: i for i, letter in enumerate(letters)}
    allowed = IEMOCAP_SPEAKERS if family == "iemocap" else None

    def speaker_id(dialogue: str, speaker) -> int:
        if speaker is None:
            raise BenchmarkError(
                f"{path}: dialogue {dialogue!r} has an utterance with no speaker (None): fill it in"
            )
        if isinstance(speaker, str):
            if allowed is not None and speaker not in allowed:
                raise BenchmarkError(
                    f"{path}: dialogue {dialogue!r} has speaker {speaker!r}, outside IEMOCAP's "
                    f"{', '.join(sorted(allowed))}: check the file is IEMOCAP"
                )
            return index[speaker]
        return int(speaker) if np.ndim(speaker) == 0 else int(np.argmax(speaker))

    return {d: [speaker_id(d, s) for s in seq] for d, seq in per_dialogue.items()}


def str_keys(mapping: Mapping) -> dict:
    return {str(k): v for k, v in mapping.items()}
