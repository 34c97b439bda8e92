"""The feature-pickle layout SDT and MMGCN (and COSMIC before them) read, and the loader of our
validation split built from a reference's own dataset class."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError

IEMOCAP_LETTERS = ("F", "M")  # our speaker ids, as the pickle importer numbers the letters (sorted)
MELD_SPEAKERS = 9  # the width of MELD's one-hot speaker vectors in these pickles


def feature_pickle(dataset: MercDataset, unused_text_layers: int) -> tuple:
    """videoIDs, videoSpeakers, videoLabels, videoText, [`unused_text_layers` empty dicts: SDT's
    roberta2..4, which its loader discards], videoAudio, videoVisual, videoSentence, trainVid, testVid,
    and on MELD one more item (the validation ids; the loaders discard it). The dicts hold every
    dialogue, validation ones included: trainVid and testVid are what the references' scripts use,
    our validation split is read by `split_loader`."""
    ids, speakers, labels, sentences = {}, {}, {}, {}
    features: dict[str, dict] = {"text": {}, "audio": {}, "visual": {}}
    split_ids = {}
    for split, rows in dataset.splits.items():
        columns = rows.with_format("numpy")[:]
        split_ids[split] = [str(d) for d in columns["dialogue_id"]]
        for i, dialogue in enumerate(split_ids[split]):
            n = len(columns["labels"][i])
            ids[dialogue] = [f"{dialogue}_{k}" for k in range(n)]
            speakers[dialogue] = speakers_in_layout(dataset.meta.family, columns["speakers"][i])
            labels[dialogue] = [int(y) for y in columns["labels"][i]]
            sentences[dialogue] = [""] * n  # no reference reads the sentences
            for m in features:
                features[m][dialogue] = np.asarray(columns[m][i], dtype=np.float32)
    items = (
        ids,
        speakers,
        labels,
        features["text"],
        *({} for _ in range(unused_text_layers)),
        features["audio"],
        features["visual"],
        sentences,
        split_ids["train"],
        split_ids["test"],
    )
    return (*items, split_ids["validation"]) if dataset.meta.family == "meld" else items


def speakers_in_layout(family: str, ids) -> list:
    """A dialogue's speakers as these layouts store them: IEMOCAP letters, MELD one-hot lists of 9."""
    if family == "iemocap":
        return [IEMOCAP_LETTERS[int(s)] for s in ids]
    if int(max(ids)) >= MELD_SPEAKERS:
        raise BenchmarkError(
            f"the feature-pickle layout has {MELD_SPEAKERS} MELD speakers per dialogue; got {int(max(ids)) + 1}"
        )
    return [np.eye(MELD_SPEAKERS, dtype=np.float32)[int(s)].tolist() for s in ids]


def reference_loaders(
    train_module, dataset: MercDataset, folder: Path, batch_size: int
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Train, validation and test loaders from the reference's own `get_IEMOCAP_loaders` /
    `get_MELD_loaders` (which open their pickle relative to the working folder), with no validation
    carved from train (`valid=0.0`, as their scripts run) and our validation split beside them."""
    loaders = (
        train_module.get_IEMOCAP_loaders
        if dataset.meta.family == "iemocap"
        else train_module.get_MELD_loaders
    )
    with working_folder(folder):
        train_loader, _, test_loader = loaders(valid=0.0, batch_size=batch_size, num_workers=0)
    return train_loader, split_loader(test_loader, dataset, "validation", batch_size), test_loader


@contextlib.contextmanager
def working_folder(folder: Path) -> Iterator[None]:
    """The references open their input files relative to the working folder."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def split_loader(template: DataLoader, dataset: MercDataset, split: str, batch_size: int) -> DataLoader:
    """The reference's dataset class of `template`, keyed by our `split`'s dialogues in our order
    (the written files hold every dialogue), unshuffled, with the class's own collate_fn."""
    source = template.dataset
    keyed = source.__class__.__new__(source.__class__)
    keyed.__dict__.update(source.__dict__)
    keyed.keys = [str(d) for d in dataset.splits[split]["dialogue_id"]]
    keyed.len = len(keyed.keys)
    return DataLoader(keyed, batch_size=batch_size, collate_fn=keyed.collate_fn)
