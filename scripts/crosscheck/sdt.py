"""SDT (Ma et al., 2023), butterfliesss/SDT, against our `sdt`.

Input format (its `dataloader.py`): one pickle, `data/iemocap_multimodal_features.pkl` (12 items) or
`data/meld_multimodal_features.pkl` (13 items), in the working folder: videoIDs, videoSpeakers,
videoLabels, videoText, roberta2, roberta3, roberta4, videoAudio, videoVisual, videoSentence,
trainVid, testVid (and one more item on MELD, which the loader discards). The dicts map a dialogue id
to per-utterance lists; IEMOCAP speakers are letters ('M' is [1, 0]), MELD's one-hot vectors of 9.
"""

from __future__ import annotations

import pickle
import types
from pathlib import Path

import numpy as np
import torch

from benchmark.data.schema import MercDataset
from scripts.crosscheck.layouts import feature_pickle, reference_loaders
from scripts.crosscheck.reference import Patch, Reference, Settings, timed_epochs

FILES = {"iemocap": "data/iemocap_multimodal_features.pkl", "meld": "data/meld_multimodal_features.pkl"}
MELD_SPEAKERS = 9  # SDT's model knows only 2 or 9 speakers
TEMPERATURE = {"iemocap": 1, "meld": 8}  # exec_iemocap.sh / exec_meld.sh


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
            pickle.dump(feature_pickle(dataset, unused_text_layers=3), handle, protocol=4)

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
        train_loader, validation, test_loader = reference_loaders(
            train_module, dataset, folder, settings.batch_size
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

        def train_pass(epoch: int):
            train_module.train_or_eval_model(
                model, loss_function, kl_loss, train_loader, epoch, optimizer, True
            )

        return timed_epochs(settings.epochs, train_pass, predictions, validation, test_loader)

    def differences(self) -> tuple[str, ...]:
        return (
            "its first transformer layers each hold a LayerNorm they never call (2·width parameters per "
            "encoder, 9 encoders: 18,432 at width 1024); ours does not build them, the only parameter "
            "difference (the never-trained column shows it)",
            "its masked KL has a NaN gradient on torch >= 1.13 wherever the masked target is 0 (every "
            "padded utterance: torch 2.13 gives the fused logits of a padded row a NaN gradient, which "
            "reaches every weight); the patch computes the same value with the zero gradient older torch "
            "gave, and ours computes the KL in log space, keeping the paper's undetached teacher",
        )


REFERENCE = SDT()
