"""MultiEMO's data folder (github.com/TaoShi1998/MultiEMO, `Data/IEMOCAP/` and `Data/MELD/`): four pickles
that its loaders (`Dataset/IEMOCAPDataset.py`, `Dataset/MELDDataset.py`) read together.

- `Speakers.pkl`: the tuple of MMGCN's loaders (ids, speakers, labels, three feature dicts, sentences,
  train ids, test ids, and for MELD a trailing item), of which MultiEMO reads the speakers, the labels
  and the two id lists only: 9 items for IEMOCAP, 10 for MELD.
- `TextFeatures.pkl`, `AudioFeatures.pkl`, `VisualFeatures.pkl`: dicts from dialogue id to one vector
  per utterance.

The folder is recognised by these file names, never by a feature dimension; the lineage is what the
release states (the loaders' comment names EmoBERTa for text, `Model/VisExtNet.py` describes the visual
extractor, nothing names the audio one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from benchmark.data import pickles
from benchmark.data.safe_pickle import load_pickle
from benchmark.data.schema import CLASS_NAMES, MercDataset
from benchmark.data.validate import build_splits, imported_dataset
from benchmark.errors import BenchmarkError

SPEAKERS = "Speakers.pkl"
FEATURE_FILES = {"text": "TextFeatures.pkl", "audio": "AudioFeatures.pkl", "visual": "VisualFeatures.pkl"}
FILES = (SPEAKERS, *FEATURE_FILES.values())
# Speakers.pkl's item count as MultiEMO's loaders unpack it, and where the items they read sit in it
ITEMS = {"iemocap": 9, "meld": 10}
SPEAKERS_ITEM, LABELS_ITEM, TRAIN_ITEM, TEST_ITEM, MELD_TRAILING_ITEM = 1, 2, 7, 8, 9

# As the repository states it: its loaders' comment (text), Model/VisExtNet.py (visual) and the input
# dims Train/TrainMultiEMO.py builds its model for (whether the pickles hold exactly these is unconfirmed).
LINEAGE = {
    "text": "MultiEMO release: EmoBERTa (its loaders' comment); 768 dims in its training script",
    "audio": "MultiEMO release: extractor not stated; 512 dims in its training script",
    "visual": "MultiEMO release: VisExtNet, MTCNN faces through a VGGFace2 ResNet-101, averaged over frames; "
    "1000 dims in its training script",
}


def is_multiemo_folder(path: Path) -> bool:
    """A folder holding MultiEMO's Speakers.pkl and at least one of its feature files."""
    return (path / SPEAKERS).is_file() and any((path / name).is_file() for name in FEATURE_FILES.values())


def lone_speakers_file(path: Path) -> BenchmarkError:
    """What to say when MultiEMO's Speakers.pkl is passed on its own."""
    return BenchmarkError(
        f"{path}: this is MultiEMO's {SPEAKERS} (speakers, labels and splits only; the features are in "
        f"{', '.join(FEATURE_FILES.values())} beside it): import the folder, --source {path.parent}"
    )


def load_multiemo_folder(path: Path, name: str, family: str) -> MercDataset:
    missing = [file for file in FILES if not (path / file).is_file()]
    if missing:
        raise BenchmarkError(
            f"{path}: a MultiEMO data folder without {', '.join(missing)}: put all of {', '.join(FILES)} in it"
        )
    content = load_pickle(path / SPEAKERS)
    found_family = _family(path / SPEAKERS, content)
    if found_family != family:
        raise BenchmarkError(
            f"{path}: this is MultiEMO's {found_family.upper()} folder, not {family.upper()}: import it with "
            f"--dataset {found_family}"
        )
    items = {"train": content[TRAIN_ITEM], "test": content[TEST_ITEM]}
    if family == "meld":
        items[pickles.TRAILING] = content[MELD_TRAILING_ITEM]
    labels = pickles.str_keys(content[LABELS_ITEM])
    split_ids, split_note = pickles.official_splits(items, set(labels))
    features = {modality: _feature_dict(path / file) for modality, file in FEATURE_FILES.items()}
    splits, dims = build_splits(
        str(path),
        split_ids,
        pickles.speaker_ids(path / SPEAKERS, family, pickles.str_keys(content[SPEAKERS_ITEM])),
        labels,
        features,
        len(CLASS_NAMES[family]),
    )
    return imported_dataset(
        splits,
        name=name,
        family=family,
        feature_dims=dims,
        source=str(path),
        source_kind="multiemo-folder",
        fingerprint=_folder_fingerprint(path),
        notes=[
            f"MultiEMO data folder: {', '.join(FILES)}; speakers, labels and splits from {SPEAKERS}",
            split_note,
        ],
        lineage={m: LINEAGE[m] for m in dims},
    )


def _family(path: Path, content: object) -> str:
    """IEMOCAP or MELD by the item count MultiEMO's loaders unpack, with id lists where they read them."""
    for family, count in ITEMS.items():
        if isinstance(content, (tuple, list)) and len(content) == count:
            readable = all(isinstance(content[i], Mapping) for i in (SPEAKERS_ITEM, LABELS_ITEM)) and all(
                pickles.is_id_list(content[i]) for i in (TRAIN_ITEM, TEST_ITEM)
            )
            if readable:
                return family
    found = f"{len(content)} items" if isinstance(content, (tuple, list)) else type(content).__name__
    raise BenchmarkError(
        f"{path}: MultiEMO's {SPEAKERS} is a tuple of 9 items (IEMOCAP) or 10 (MELD) with speaker and label "
        f"dicts as items 2 and 3 and train and test id lists as items 8 and 9; this one has {found}: check the "
        "file came from MultiEMO's Data folder"
    )


def _feature_dict(path: Path) -> dict:
    content = load_pickle(path)
    if not isinstance(content, Mapping):
        raise BenchmarkError(
            f"{path}: expected a dict from dialogue id to per-utterance vectors (MultiEMO's layout), found "
            f"{type(content).__name__}: check the file came from MultiEMO's Data folder"
        )
    return pickles.str_keys(content)


def _folder_fingerprint(path: Path) -> str:
    """SHA-256 over the four files' own hashes, in a fixed order."""
    digest = hashlib.sha256()
    for file in FILES:
        digest.update(f"{file}:{pickles.file_fingerprint(path / file)}\n".encode())
    return digest.hexdigest()
