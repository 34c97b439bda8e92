"""The pickles MERC papers train on: pre-extracted features (MMGCN/MM-DFN and COSMIC/SDT RoBERTa lineages)
and the COSMIC transcript pickles (text only, no features). Layouts are told apart by their tuple length
and the text feature dim, and the lineage found is recorded in `DatasetMeta.source_kind`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmark.data.safe_pickle import load_pickle
from benchmark.data.schema import CLASS_NAMES, DatasetMeta, MercDataset
from benchmark.data.validate import build_splits
from benchmark.errors import BenchmarkError

# IEMOCAP's feature pickles have no validation split: 10% of training dialogues are carved out with
# this seed, and their ids are recorded in the dataset's notes.
VALIDATION_FRACTION = 0.1
VALIDATION_CARVE_SEED = 0

# text feature dim -> lineage, as the public loaders (MMGCN, MM-DFN, COSMIC, SDT) ship them
TEXT_DIM_LINEAGE = {100: "mmgcn", 600: "mmgcn", 1024: "roberta"}


def file_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def speaker_ids(per_dialogue: dict) -> dict[str, list[int]]:
    """Speakers as ints: letters ('M'/'F') map in sorted order, one-hot vectors to their argmax."""
    letters = sorted({s for seq in per_dialogue.values() for s in seq if isinstance(s, str)})
    index = {letter: i for i, letter in enumerate(letters)}
    return {
        str(d): [index[s] if isinstance(s, str) else int(np.argmax(s)) for s in seq]
        for d, seq in per_dialogue.items()
    }


def carve_validation(train_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    ordered = sorted(train_ids)
    rng = np.random.default_rng(VALIDATION_CARVE_SEED)
    n_valid = max(1, round(VALIDATION_FRACTION * len(ordered)))
    chosen = set(rng.choice(len(ordered), size=n_valid, replace=False).tolist())
    valid = [d for i, d in enumerate(ordered) if i in chosen]
    return [d for i, d in enumerate(ordered) if i not in chosen], valid


def load_pickle_source(path: Path, name: str, family: str) -> MercDataset:
    content = load_pickle(path)
    if not isinstance(content, (tuple, list)):
        raise BenchmarkError(
            f"{path}: unknown pickle layout ({type(content).__name__}); expected a tuple of dicts"
        )
    if len(content) == 6 and family == "iemocap" or len(content) == 7 and family == "meld":
        return _transcripts(path, content, name, family)
    if len(content) in (9, 10, 12):
        return _features(path, content, name, family)
    raise BenchmarkError(
        f"{path}: unknown pickle layout ({len(content)} items) for {family}: expected a COSMIC transcript pickle "
        "(6 items IEMOCAP / 7 MELD) or a feature pickle (9, 10 or 12 items, see the README)"
    )


def _transcripts(path: Path, content: Sequence, name: str, family: str) -> MercDataset:
    if family == "iemocap":
        speakers, labels, sentences, train, test, valid = content
    else:
        speakers, labels, _sentiment, sentences, train, test, valid = content
    source = str(path)
    splits, dims = build_splits(
        source,
        {
            "train": [str(d) for d in train],
            "validation": [str(d) for d in valid],
            "test": [str(d) for d in test],
        },
        speaker_ids(speakers),
        _str_keys(labels),
        {},
        len(CLASS_NAMES[family]),
        sentences=_str_keys(sentences),
    )
    meta = _meta(
        path, name, family, "transcripts", dims, splits, ("text, audio and visual features are absent",)
    )
    return MercDataset(meta, splits)


def _features(path: Path, content: Sequence, name: str, family: str) -> MercDataset:
    if len(content) == 12:  # COSMIC's multimodal pickle: four RoBERTa layers; SDT trains on the first
        _ids, speakers, labels, text, _r2, _r3, _r4, audio, visual, _sentences, train, test = content
        extra = None
    else:
        _ids, speakers, labels, text, audio, visual, _sentences, train, test, *rest = content
        extra = rest[0] if rest else None
    if not isinstance(text, dict) or not text:
        raise BenchmarkError(
            f"{path}: unknown pickle layout: item 4 should be a dict of text features per dialogue"
        )
    first_utterance = next((rows[0] for rows in text.values() if len(rows)), None)  # robust to ragged rows
    text_dim = np.asarray(first_utterance).shape[-1] if first_utterance is not None else None
    lineage = TEXT_DIM_LINEAGE.get(text_dim)
    if lineage is None:
        raise BenchmarkError(
            f"{path}: unknown feature lineage (text dim {text_dim}); known: "
            + ", ".join(f"{d} ({n})" for d, n in TEXT_DIM_LINEAGE.items())
        )
    train_ids, test_ids = [str(d) for d in train], [str(d) for d in test]
    notes: list[str] = [f"lineage {lineage} (text dim {text_dim})"]
    valid_ids = _official_dev(extra, set(_str_keys(labels)), set(train_ids), set(test_ids))
    if valid_ids is not None:
        train_ids = [d for d in train_ids if d not in set(valid_ids)]
        notes.append(f"official dev split: {len(valid_ids)} dialogues")
    else:
        train_ids, valid_ids = carve_validation(train_ids)
        notes.append(
            f"no validation split in the file: carved {len(valid_ids)} training dialogues "
            f"(seed {VALIDATION_CARVE_SEED}): {', '.join(valid_ids)}"
        )
    features = {"text": _str_keys(text), "audio": _str_keys(audio), "visual": _str_keys(visual)}
    splits, dims = build_splits(
        str(path),
        {"train": train_ids, "validation": valid_ids, "test": test_ids},
        speaker_ids(speakers),
        _str_keys(labels),
        features,
        len(CLASS_NAMES[family]),
    )
    return MercDataset(
        _meta(path, name, family, f"feature-pickle:{lineage}", dims, splits, tuple(notes)), splits
    )


def _official_dev(extra: object, known: set[str], train: set[str], test: set[str]) -> list[str] | None:
    """A trailing id collection is MELD's dev split when its ids are dialogues of the file outside test."""
    if not isinstance(extra, (list, tuple, set)) or not extra:
        return None
    ids = sorted(str(d) for d in extra)
    if set(ids) <= known and not set(ids) & test:
        return ids
    return None


def _str_keys(mapping: dict) -> dict:
    return {str(k): v for k, v in mapping.items()}


def _meta(path, name, family, kind, dims, splits, notes) -> DatasetMeta:
    n_speakers = (
        max(max((max(s, default=0) for s in splits[split]["speakers"]), default=0) for split in splits) + 1
    )
    return DatasetMeta(
        name=name,
        family=family,
        classes=CLASS_NAMES[family],
        feature_dims=dims,
        n_speakers=n_speakers,
        source=str(path),
        source_kind=kind,
        fingerprint=file_fingerprint(path),
        synthetic=False,
        notes=tuple(notes),
    )
