"""MultiEMO (Shi and Huang, 2023), TaoShi1998/MultiEMO, against our `multiemo`.

Input format (its `Dataset/IEMOCAPDataset.py` / `MELDDataset.py`): under `Data/IEMOCAP/` or
`Data/MELD/` in the working folder, `Speakers.pkl`, the tuple (_, videoSpeakers, videoLabels, _, _, _,
_, trainVid, testVid) with a tenth item on MELD, and `TextFeatures.pkl`, `AudioFeatures.pkl`,
`VisualFeatures.pkl`, each a dict of dialogue id -> [utterances, dim]. IEMOCAP speakers are letters
('M' is [1, 0], anything else [0, 1]), MELD's one-hot lists of 9; labels are class indices in the
dataset's class order (the authors' mapping is the same order). The dicts hold every dialogue; trainVid
and testVid are our train and test splits, and the cross-check reads our validation split by its ids
(the authors carve a random 5% of train instead).

It trains with the authors' `TrainMultiEMO`: its model (`get_model`), class counts and losses
(`get_loss`: SWFC, Soft-HGR, cross-entropy, weighted by the scripts' coefficients), Adam with its
plateau scheduler (`get_optimizer`) and its epoch pass (`train_or_eval_model_per_epoch`), run on train,
validation (whose loss steps the scheduler, as in its loop) and test every epoch.
"""

from __future__ import annotations

import pickle
import types
from pathlib import Path

import numpy as np
import torch

from baselines.multiemo import AUTHORS_LOSS, FFN_RATIO
from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError
from scripts.crosscheck.layouts import speakers_in_layout, split_loader, working_folder
from scripts.crosscheck.reference import Patch, Reference, Settings, timed_epochs

LAYOUT_FOLDER = {"iemocap": "IEMOCAP", "meld": "MELD"}  # its --dataset names, and the folders under Data/
FEATURE_FILES = {"text": "TextFeatures", "audio": "AudioFeatures", "visual": "VisualFeatures"}
WEIGHT_DECAY = 1e-5  # TrainMultiEMO.py --weight_decay default, not changed by its scripts


def write_multiemo_layout(dataset: MercDataset, folder: Path) -> Path:
    """Write `folder/Data/<IEMOCAP|MELD>/` as its Dataset classes read it; return that folder."""
    meta = dataset.meta
    if set(meta.modalities) != set(FEATURE_FILES):
        raise BenchmarkError(f"{meta.name}: MultiEMO's layout needs text, audio and visual features")
    speakers, labels, ids = {}, {}, {}
    features: dict[str, dict[str, np.ndarray]] = {m: {} for m in FEATURE_FILES}
    for split, rows in dataset.splits.items():
        columns = rows.with_format("numpy")[:]
        ids[split] = [str(d) for d in columns["dialogue_id"]]
        for i, dialogue in enumerate(ids[split]):
            speakers[dialogue] = speakers_in_layout(meta.family, columns["speakers"][i])
            labels[dialogue] = [int(y) for y in columns["labels"][i]]
            for m in FEATURE_FILES:
                features[m][dialogue] = np.asarray(columns[m][i], dtype=np.float32)
    items = [None, speakers, labels, None, None, None, None, ids["train"], ids["test"]]
    if meta.family == "meld":
        items.append(ids["validation"])  # its MELD loader unpacks a tenth item and discards it
    target = folder / "Data" / LAYOUT_FOLDER[meta.family]
    target.mkdir(parents=True, exist_ok=True)
    with (target / "Speakers.pkl").open("wb") as handle:
        pickle.dump(tuple(items), handle, protocol=4)
    for m, name in FEATURE_FILES.items():
        with (target / f"{name}.pkl").open("wb") as handle:
            pickle.dump(features[m], handle, protocol=4)
    return target


class MultiEMO(Reference):
    name = "multiemo"
    rival = "multiemo"
    repository = "TaoShi1998/MultiEMO"
    commit = "e96458b870a338890aba4c0549381dec610a7f10"
    files = (
        "Loss/SampleWeightedFocalContrastiveLoss.py",
        "Loss/SoftHGRLoss.py",
        "Dataset/IEMOCAPDataset.py",
        "Dataset/MELDDataset.py",
        "Model/DialogueRNN.py",
        "Model/MultiAttn.py",
        "Model/MLP.py",
        "Model/MultiEMO_Model.py",
        "Train/TrainMultiEMO.py",
    )
    patches = (
        Patch(
            "Train/TrainMultiEMO.py",
            "roberta_dim = 768\n        D_m_audio = 512\n        D_m_visual = 1000",
            "roberta_dim, D_m_audio, D_m_visual = self.feature_dims",
            "get_model hard-codes the feature widths of its own extractors (768, 512, 1000): read from "
            "the data instead",
        ),
        Patch(
            "Train/TrainMultiEMO.py",
            "threshold = 1e-6, verbose = True)",
            "threshold = 1e-6)",
            "current torch's ReduceLROnPlateau has no `verbose` argument; the same scheduler without it",
        ),
    )
    weight_decay = {"iemocap": WEIGHT_DECAY, "meld": WEIGHT_DECAY}
    class_weighted = frozenset()  # get_loss: nn.CrossEntropyLoss() unweighted (SWFC weighs the classes)
    published = {  # TrainMultiEMO_IEMOCAP.sh / _MELD.sh and the parser's defaults (dropout 0)
        "iemocap": {"width": 256, "heads": 4, "dropout": 0.0, "lr": 1e-4, "epochs": 100, "batch_size": 64},
        "meld": {"width": 256, "heads": 4, "dropout": 0.0, "lr": 1e-4, "epochs": 15, "batch_size": 100},
    }

    def module_name(self, file: str) -> str:
        """Its files import each other by bare name, with their folders on `sys.path`
        (`from DialogueRNN import BiModel`)."""
        return Path(file).stem

    def write_inputs(self, dataset: MercDataset, folder: Path) -> None:
        write_multiemo_layout(dataset, folder)

    def rival_weight_decay(self, dataset: MercDataset, settings: Settings) -> float:
        # ours is the authors' loss divided by their cross-entropy coefficient (baselines/multiemo.py)
        return settings.weight_decay / AUTHORS_LOSS[dataset.meta.family].ce

    def build(self, modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
        trainer = _trainer(modules, dataset, settings)
        trainer.get_model()
        return trainer.model

    def train(self, modules, model, dataset: MercDataset, folder: Path, settings: Settings):
        trainer = _trainer(modules, dataset, settings)
        trainer.model = model
        with working_folder(folder):  # its Dataset classes open Data/... relative to it
            trainer.get_dataloader(valid=0.0)  # every train dialogue trains, in its random order
        validation, test = (
            split_loader(trainer.test_dataloader, dataset, split, settings.batch_size)
            for split in ("validation", "test")
        )
        trainer.get_loss()  # SWFC's class counts come from the train loader
        trainer.get_optimizer()
        predicted: list[np.ndarray] = []
        # its epoch pass returns scores only; its predictions are the argmax of the model's last output
        model.register_forward_hook(
            lambda _module, _inputs, outputs: predicted.append(outputs[-1].argmax(-1).detach().cpu().numpy())
        )

        def predictions(loader, epoch: int) -> np.ndarray:
            predicted.clear()
            with torch.no_grad():
                loss, *_ = trainer.train_or_eval_model_per_epoch(loader, train=False)
            if loader is validation:  # its learning-rate schedule follows the validation loss
                trainer.scheduler.step(loss)
            return np.concatenate(predicted)

        def train_pass(epoch: int):
            trainer.train_or_eval_model_per_epoch(trainer.train_dataloader, train=True)

        return timed_epochs(settings.epochs, train_pass, predictions, validation, test)

    def differences(self) -> tuple[str, ...]:
        return (
            "on MELD it builds modules it never calls: the text DialogueRNN, and the backward DialogueRNN "
            "and merging linear layer of audio and visual (its MELD context runs forward only); ours does "
            "not build them, the whole parameter difference (the never-trained column shows it); on "
            "IEMOCAP the counts are equal",
            "its MultiAttn reads padded utterances as keys; ours masks them, so a prediction does not "
            "depend on the batch it is in",
            "its Soft-HGR calls `torch.cov` on the [N, d] features, which torch reads as N variables: an "
            "N × N covariance across utterances; ours uses the d × d covariance over the batch's "
            "utterances, as the paper and Soft-HGR define it",
            "ours is its loss divided by its cross-entropy coefficient (our trainer's cross-entropy has "
            "weight 1), with the weight decay divided alike: the same Adam steps",
            "`--width paper` keeps one MultiAttn layer on both sides (its scripts use 6 on IEMOCAP, 2 on "
            "MELD) and its FFN width is 4 × the width (1024 at its 256) on both sides",
        )


def _trainer(modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
    """A `TrainMultiEMO` with the attributes its __init__ sets from the command line, the scripts'
    loss settings for the dataset, and no loaders, model or optimizer yet (its __init__ would read
    the pickles and build them all at once)."""
    family = dataset.meta.family
    loss = AUTHORS_LOSS[family]
    trainer = modules["TrainMultiEMO"].TrainMultiEMO.__new__(modules["TrainMultiEMO"].TrainMultiEMO)
    dims = dataset.meta.feature_dims
    trainer.__dict__.update(
        dataset=LAYOUT_FOLDER[family],
        batch_size=settings.batch_size,
        num_epochs=settings.epochs,
        learning_rate=settings.lr,
        weight_decay=settings.weight_decay,
        num_layers=1,
        model_dim=settings.width,
        num_heads=settings.heads,
        hidden_dim=FFN_RATIO * settings.width,
        dropout_rate=settings.dropout,
        dropout_rec=settings.dropout,
        temp_param=loss.temperature,
        focus_param=loss.focus,
        sample_weight_param=loss.sample_weight_power,
        SWFC_loss_param=loss.swfc,
        HGR_loss_param=loss.hgr,
        CE_loss_param=loss.ce,
        multi_attn_flag=True,
        device=torch.device(settings.device),
        feature_dims=(dims["text"], dims["audio"], dims["visual"]),
        num_classes=len(dataset.meta.classes),
    )
    return trainer


REFERENCE = MultiEMO()
