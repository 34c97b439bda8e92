"""A small MultiEMO data folder, spelled out from MultiEMO's loaders (`Dataset/IEMOCAPDataset.py`,
`Dataset/MELDDataset.py`) independently of benchmark/data/multiemo_folder.py:

- `Speakers.pkl`: videoIDs, videoSpeakers, videoLabels, videoText, videoAudio, videoVisual,
  videoSentence, trainVid, testVid (IEMOCAP: 9 items, speakers 'M'/'F'); MELD adds a trailing item (the
  dev ids here) and has one-hot speakers. The loaders keep items 2, 3, 8 and 9 only.
- `TextFeatures.pkl`, `AudioFeatures.pkl`, `VisualFeatures.pkl`: dialogue id -> per-utterance vectors.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DIMS = {"text": 768, "audio": 512, "visual": 1000}  # what MultiEMO's training script sizes its inputs to
FILES = {"text": "TextFeatures.pkl", "audio": "AudioFeatures.pkl", "visual": "VisualFeatures.pkl"}


@dataclass(frozen=True)
class WrittenFolder:
    folder: Path
    train: list
    test: list
    dev: list  # MELD's trailing item; empty for IEMOCAP
    speakers: dict
    labels: dict
    features: dict  # modality -> dialogue id -> float32 [utterances, dim]


def write_multiemo_folder(folder: Path, family: str, n_dialogues: int = 14) -> WrittenFolder:
    rng = np.random.default_rng(1)
    meld = family == "meld"
    ids = (
        [int(i) for i in range(n_dialogues)]
        if meld
        else [f"Ses0{i % 5 + 1}F_impro{i:02d}" for i in range(n_dialogues)]
    )
    lengths = {d: int(rng.integers(2, 6)) for d in ids}
    speakers = {
        d: [np.eye(9)[i % 4].tolist() if meld else "MF"[(i + k) % 2] for i in range(n)]
        for k, (d, n) in enumerate(lengths.items())
    }
    labels = {d: rng.integers(0, 7 if meld else 6, n).tolist() for d, n in lengths.items()}
    features = {
        m: {d: rng.standard_normal((n, dim)).astype(np.float32) for d, n in lengths.items()}
        for m, dim in DIMS.items()
    }
    unread = {d: [f"u{i}" for i in range(n)] for d, n in lengths.items()}  # what the loaders discard
    train, test = ids[:-4], ids[-4:]
    dev = train[:2] if meld else []
    head = (unread, speakers, labels, unread, unread, unread, unread, train, test)
    folder.mkdir(parents=True)
    (folder / "Speakers.pkl").write_bytes(pickle.dumps((*head, dev) if meld else head, protocol=2))
    for modality, name in FILES.items():  # per-utterance lists of vectors, as MultiEMO's np.array() expects
        per_dialogue = {d: list(array) for d, array in features[modality].items()}
        (folder / name).write_bytes(pickle.dumps(per_dialogue, protocol=4))
    return WrittenFolder(folder, train, test, dev, speakers, labels, features)
