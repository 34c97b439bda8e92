"""Small pickles in the exact tuples the public MERC loaders unpack, spelled out here independently of
benchmark/data/pickles.py so that a wrong layout table there fails the tests:

- MMGCN `IEMOCAPDataset`: videoIDs, videoSpeakers ('M'/'F'), videoLabels, videoText (100), videoAudio
  (1582), videoVisual (342), videoSentence, trainVid, testVid
- MMGCN `MELDDataset` (MELD_features_raw1.pkl): the same with text 600 / audio 300 / one-hot speakers,
  plus a trailing per-dialogue dict the loader discards (`_`; sentiment labels)
- SDT `IEMOCAPDataset` (iemocap_multimodal_features.pkl): videoIDs, videoSpeakers, videoLabels,
  videoText (RoBERTa 1024), roberta2, roberta3, roberta4, videoAudio, videoVisual, videoSentence,
  trainVid, testVid; SDT `MELDDataset` the same plus a trailing `_`
- conv-emotion bc-LSTM `IEMOCAP_features_raw.pkl` (also MultiEMO's IEMOCAP `Speakers.pkl`, the same blob) and
  DialogueGCN `IEMOCAP_features.pkl`: MMGCN's nine items (their loaders unpack the same tuple); their
  `train_IEMOCAP.py` read text of 100 dims, the other dims here are unconfirmed (any dim imports)
- conv-emotion bc-LSTM / DialogueGCN `MELDDataset` (MELD_features_raw.pkl, no visual): videoIDs,
  videoSpeakers, emotion labels, videoText, videoAudio, videoSentence, trainVid, testVid, sentiment labels
- COSMIC roberta (text only): speakers, labels, [sentiment for MELD], roberta1..4, sentences, trainIds,
  testIds, validIds
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

FEATURE_LAYOUTS = ("mmgcn-iemocap", "mmgcn-meld", "sdt-iemocap", "sdt-meld", "cosmic-iemocap", "cosmic-meld")
DIMS = {  # text, audio, visual
    "mmgcn-iemocap": (100, 1582, 342),
    "mmgcn-meld": (600, 300, 342),
    "bclstm-iemocap": (100, 100, 512),
    "dialoguegcn-iemocap": (100, 100, 512),
    "sdt-iemocap": (1024, 1582, 342),
    "sdt-meld": (1024, 300, 342),
    "bclstm-meld": (600, 300, 0),
    "cosmic-iemocap": (1024, 0, 0),
    "cosmic-meld": (1024, 0, 0),
}


def write_feature_pickle(
    path: Path,
    layout: str,
    n_dialogues: int = 12,
    corrupt: Callable[[dict], None] | None = None,
    meld_dev: list | None = None,
) -> Path:
    """Dialogues "d00", "d01", ...; the last 3 are test. `corrupt(items)` edits the per-dialogue dicts
    (labels, text, audio, visual, speakers) before writing; `meld_dev` replaces SDT MELD's trailing item."""
    rng = np.random.default_rng(0)
    text_dim, audio_dim, visual_dim = DIMS[layout]
    meld = layout.endswith("meld")
    ids = [f"d{i:02d}" for i in range(n_dialogues)]
    lengths = {d: int(rng.integers(2, 7)) for d in ids}

    def per_dialogue(make):
        return {d: make(n) for d, n in lengths.items()}

    items = {
        "speakers": per_dialogue(
            lambda n: [np.eye(9)[i % 3].tolist() if meld else "MF"[i % 2] for i in range(n)]
        ),
        "labels": per_dialogue(lambda n: rng.integers(0, 7 if meld else 6, n).tolist()),
        "text": per_dialogue(lambda n: rng.standard_normal((n, text_dim)).astype(np.float32)),
        "audio": per_dialogue(lambda n: rng.standard_normal((n, audio_dim)).astype(np.float32)),
        "visual": per_dialogue(lambda n: rng.standard_normal((n, visual_dim)).astype(np.float32)),
    }
    if corrupt:
        corrupt(items)
    speakers, labels, text, audio, visual = (
        items[k] for k in ("speakers", "labels", "text", "audio", "visual")
    )
    utterance_ids = per_dialogue(lambda n: [f"u{i}" for i in range(n)])
    sentences = per_dialogue(lambda n: [f"utterance {i}" for i in range(n)])
    sentiment = per_dialogue(lambda n: [0] * n)
    other_layer = per_dialogue(lambda n: np.zeros((n, text_dim), dtype=np.float32))
    train, test = ids[:-3], ids[-3:]
    if layout in ("mmgcn-iemocap", "bclstm-iemocap", "dialoguegcn-iemocap"):
        content = (utterance_ids, speakers, labels, text, audio, visual, sentences, train, test)
    elif layout == "mmgcn-meld":
        content = (utterance_ids, speakers, labels, text, audio, visual, sentences, train, test, sentiment)
    elif layout == "bclstm-meld":
        content = (utterance_ids, speakers, labels, text, audio, sentences, train, test, sentiment)
    elif layout.startswith("sdt"):
        layers = (other_layer, other_layer, other_layer)
        content = (utterance_ids, speakers, labels, text, *layers, audio, visual, sentences, train, test)
        if meld:
            content = (*content, sentiment if meld_dev is None else meld_dev)
    else:
        layers = (text, other_layer, other_layer, other_layer)
        valid, train = train[:2], train[2:]
        head = (speakers, labels, sentiment) if meld else (speakers, labels)
        content = (*head, *layers, sentences, train, test, valid)
    path.write_bytes(pickle.dumps(content, protocol=2))
    return path
