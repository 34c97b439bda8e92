"""SDT (Ma et al., 2023), butterfliesss/SDT, against our `sdt`.

Input format (its `dataloader.py`): one pickle, `data/iemocap_multimodal_features.pkl` (12 items) or
`data/meld_multimodal_features.pkl` (13 items), in the working folder: videoIDs, videoSpeakers,
videoLabels, videoText, roberta2, roberta3, roberta4, videoAudio, videoVisual, videoSentence,
trainVid, testVid (and one more item on MELD, which the loader discards). The dicts map a dialogue id
to per-utterance lists; IEMOCAP speakers are letters ('M' is [1, 0]), MELD's one-hot vectors of 9.
"""

from __future__ import annotations

import os
import pickle
import types
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError
from benchmarks.crosscheck.reference import Patch, Reference, Settings, timed_epochs

FILES = {"iemocap": "data/iemocap_multimodal_features.pkl", "meld": "data/meld_multimodal_features.pkl"}
IEMOCAP_LETTERS = ("F", "M")  # our speaker ids, as the pickle importer numbers the letters (sorted)
MELD_SPEAKERS = 9  # SDT's MELD speaker vectors; its model knows only 2 or 9 speakers
TEMPERATURE = {"iemocap": 1, "meld": 8}  # exec_iemocap.sh / exec_meld.sh


def sdt_pickle(dataset: MercDataset) -> tuple:
    """`dataset` as SDT's pickle tuple. Validation dialogues are in the dicts (and MELD's last item),
    not in trainVid/testVid: SDT trains on trainVid and selects on testVid, the cross-check on ours."""
    ids, speakers, labels, sentences = {}, {}, {}, {}
    features: dict[str, dict] = {"text": {}, "audio": {}, "visual": {}}
    split_ids = {}
    for split, rows in dataset.splits.items():
        columns = rows.with_format("numpy")[:]
        split_ids[split] = [str(d) for d in columns["dialogue_id"]]
        for i, dialogue in enumerate(split_ids[split]):
            n = len(columns["labels"][i])
            ids[dialogue] = [f"{dialogue}_{k}" for k in range(n)]
            speakers[dialogue] = _speakers(dataset.meta.family, columns["speakers"][i])
            labels[dialogue] = [int(y) for y in columns["labels"][i]]
            sentences[dialogue] = [""] * n  # SDT reads no sentences
            for m in features:
                features[m][dialogue] = np.asarray(columns[m][i], dtype=np.float32)
    unused_text_layers = ({}, {}, {})  # roberta2..4: SDT's loader reads videoText only
    items = (
        ids,
        speakers,
        labels,
        features["text"],
        *unused_text_layers,
        features["audio"],
        features["visual"],
        sentences,
        split_ids["train"],
        split_ids["test"],
    )
    return (*items, split_ids["validation"]) if dataset.meta.family == "meld" else items


def _speakers(family: str, ids) -> list:
    if family == "iemocap":
        return [IEMOCAP_LETTERS[int(s)] for s in ids]
    if int(max(ids)) >= MELD_SPEAKERS:
        raise BenchmarkError(
            f"SDT takes at most {MELD_SPEAKERS} MELD speakers per dialogue; got {int(max(ids)) + 1}"
        )
    return [np.eye(MELD_SPEAKERS, dtype=np.float32)[int(s)].tolist() for s in ids]


class SDT(Reference):
    name = "sdt"
    rival = "sdt"
    repository = "butterfliesss/SDT"
    commit = "60af9218231843939da4ddd82fd5e201adeec63a"
    files = ("dataloader.py", "model.py", "train.py")
    patches = (
        Patch(
            "model.py",
            ".int().cuda()",
            ".int().to(spk_idx.device)",
            "padded speakers are put on the model's device instead of CUDA (runs on a CPU)",
        ),
        Patch(
            "model.py",
            "loss = self.loss(log_pred * mask_, target * mask_) / torch.sum(mask)",
            "target_ = target * mask_\n"
            "        loss = torch.where(target_ > 0, target_ * (target_.clamp_min(torch.finfo(target_.dtype).tiny)"
            ".log() - log_pred * mask_), 0).sum() / torch.sum(mask)",
            "masked KL written out as torch < 1.13 computed it: on torch >= 1.13 `kl_div`'s gradient "
            "with respect to a zero target (every padded utterance) is NaN, which made every weight NaN "
            "after the first padded batch; same value, zero gradient there",
        ),
    )
    weight_decay = {"iemocap": 1e-5, "meld": 1e-5}  # train.py --l2 default
    class_weighted = frozenset({"iemocap"})  # train.py: MaskedNLLLoss(loss_weights) on IEMOCAP only
    published = {  # exec_iemocap.sh / exec_meld.sh and train.py's defaults
        "iemocap": {"width": 1024, "heads": 8, "dropout": 0.5, "lr": 1e-4, "epochs": 150, "batch_size": 16},
        "meld": {"width": 1024, "heads": 8, "dropout": 0.5, "lr": 5e-6, "epochs": 50, "batch_size": 8},
    }

    def write_inputs(self, dataset: MercDataset, folder: Path) -> None:
        path = folder / FILES[dataset.meta.family]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            pickle.dump(sdt_pickle(dataset), handle, protocol=4)

    def rival_overrides(self, dataset: MercDataset, settings: Settings) -> dict:
        return {"temperature": float(TEMPERATURE[dataset.meta.family])}

    def build(self, modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
        meta = dataset.meta
        return modules["model"].Transformer_Based_Model(
            meta.family.upper(),
            TEMPERATURE[meta.family],
            meta.feature_dims["text"],
            meta.feature_dims["visual"],
            meta.feature_dims["audio"],
            settings.heads,
            n_classes=len(meta.classes),
            hidden_dim=settings.width,
            n_speakers=2 if meta.family == "iemocap" else MELD_SPEAKERS,
            dropout=settings.dropout,
        )

    def train(self, modules, model, dataset: MercDataset, folder: Path, settings: Settings):
        train_module, model_module = modules["train"], modules["model"]
        cuda = settings.device == "cuda"
        train_module.cuda = cuda  # the globals its train_or_eval_model reads
        train_module.args = types.SimpleNamespace(tensorboard=False)
        family = dataset.meta.family
        previous = Path.cwd()
        os.chdir(folder)  # its loaders open data/... relative to the working folder
        try:
            if family == "iemocap":
                train_loader, _, test_loader = train_module.get_IEMOCAP_loaders(
                    valid=0.0, batch_size=settings.batch_size, num_workers=0
                )
            else:
                train_loader, _, test_loader = train_module.get_MELD_loaders(
                    valid=0.0, batch_size=settings.batch_size, num_workers=0
                )
        finally:
            os.chdir(previous)
        validation_set = test_loader.dataset.__class__.__new__(test_loader.dataset.__class__)
        validation_set.__dict__.update(test_loader.dataset.__dict__)
        validation_set.keys = [str(d) for d in dataset.splits["validation"]["dialogue_id"]]
        validation_set.len = len(validation_set.keys)
        validation_loader = DataLoader(
            validation_set, batch_size=settings.batch_size, collate_fn=validation_set.collate_fn
        )
        weights = torch.FloatTensor(settings.class_weights) if settings.class_weights else None
        if cuda:
            model.cuda()
            weights = weights.cuda() if weights is not None else None
        loss_function = model_module.MaskedNLLLoss(weights)
        kl_loss = model_module.MaskedKLDivLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

        def predictions(loader, epoch) -> np.ndarray:
            _, _, _, predicted, masks, _ = train_module.train_or_eval_model(
                model, loss_function, kl_loss, loader, epoch
            )
            return predicted[masks.astype(bool)]

        def run_epoch(epoch: int):
            train_module.train_or_eval_model(
                model, loss_function, kl_loss, train_loader, epoch, optimizer, True
            )
            return predictions(validation_loader, epoch), predictions(test_loader, epoch)

        return timed_epochs(settings.epochs, run_epoch)


REFERENCE = SDT()
