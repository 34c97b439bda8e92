"""MulT (Tsai et al., 2019), yaohungt/Multimodal-Transformer, its cross-modal transformer core against
our `mult`.

Input format (its `src/dataset.py`): one pickle `<name>_data.pkl` holding, per split ("train", "valid",
"test"), arrays `text` / `audio` / `vision` [N, T, dim] and `labels`, `id`: fixed-length sequences. A
dialogue is a sequence here, zero-padded to the split's longest, and `labels` [N, T, 1] holds each
utterance's class (-1 on padding).

MulT labels a whole sequence from its last step; a MERC model labels every utterance, so two patches
classify every step (the same residual block and output layer, applied per step). Its training loop
(`src/train.py`) is written for sequence labels, so the cross-check trains its model with the loop's
own parts: Adam, cross-entropy, gradient clipping at 0.8 (our side clips at 0.8 too); its learning-rate
decay on plateau (patience 20 epochs) never fires within the epochs run here.
"""

from __future__ import annotations

import pickle
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from benchmark.data.schema import MercDataset
from scripts.crosscheck.reference import Patch, Reference, Settings, real_predictions, timed_epochs

DATA_NAME = "merc"  # the pickle is <DATA_NAME>_data.pkl
SPLITS = {"train": "train", "validation": "valid", "test": "test"}  # ours -> MulT's
PADDING_LABEL = -1
CLIP = 0.8  # main.py --clip


def mult_pickle(dataset: MercDataset) -> dict:
    """`dataset` in MulT's layout: per split, dialogues zero-padded to the longest."""
    layout = {}
    for ours, theirs in SPLITS.items():
        columns = dataset.splits[ours].with_format("numpy")[:]
        lengths = [len(y) for y in columns["labels"]]
        longest = max(lengths)

        labels = np.full((len(lengths), longest, 1), PADDING_LABEL, dtype=np.float32)
        for i, row in enumerate(columns["labels"]):
            labels[i, : len(row), 0] = row
        layout[theirs] = {
            "text": _padded(columns["text"], longest, dataset.meta.feature_dims["text"]),
            "audio": _padded(columns["audio"], longest, dataset.meta.feature_dims["audio"]),
            "vision": _padded(columns["visual"], longest, dataset.meta.feature_dims["visual"]),
            "labels": labels,
            "id": np.array([[str(d), "", ""] for d in columns["dialogue_id"]]),
        }
    return layout


def _padded(rows, longest: int, dim: int) -> np.ndarray:
    out = np.zeros((len(rows), longest, dim), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


class MulT(Reference):
    name = "mult"
    rival = "mult"
    repository = "yaohungt/Multimodal-Transformer"
    commit = "a670936824ee722c8494fd98d204977a1d663c7a"
    files = (
        "modules/position_embedding.py",
        "modules/multihead_attention.py",
        "modules/transformer.py",
        "src/dataset.py",
        "src/models.py",
    )
    patches = (
        Patch(
            "modules/position_embedding.py",
            "index_select(0, positions.view(-1))",
            "index_select(0, positions.reshape(-1))",
            "current torch keeps the strides of the transposed input in `clone()`, so `view` fails there",
        ),
        Patch(
            "src/dataset.py",
            "if torch.cuda.is_available():\n    torch.set_default_tensor_type('torch.cuda.FloatTensor')",
            "if False:\n    pass",
            "on a GPU machine it makes every new tensor of the process a CUDA tensor, ours included",
        ),
        *(
            Patch(
                "src/models.py",
                f"last_h_{m} = last_hs = h_{m}s[-1]",
                f"last_h_{m} = last_hs = h_{m}s.transpose(0, 1)",
                f"every utterance is classified, not the last step ({m} stream)",
            )
            for m in "lav"
        ),
        Patch(
            "src/models.py",
            "self.d_l, self.d_a, self.d_v = 30, 30, 30",
            "self.d_l = self.d_a = self.d_v = hyp_params.width",
            "its stream width is the constant 30: read from the settings, so both sides share the width",
        ),
        Patch(
            "src/models.py",
            "last_hs = torch.cat([last_h_l, last_h_a, last_h_v], dim=1)",
            "last_hs = torch.cat([last_h_l, last_h_a, last_h_v], dim=-1)",
            "the three streams are joined per utterance",
        ),
    )
    weight_decay = {"iemocap": 0.0, "meld": 0.0}  # main.py: Adam without weight decay
    class_weighted = frozenset()  # main.py: plain cross-entropy
    grad_clip = CLIP
    published = {  # main.py's defaults (its datasets are not these): d = 30, 5 heads
        "iemocap": {"width": 30, "heads": 5, "dropout": 0.1, "lr": 1e-3, "epochs": 40, "batch_size": 24},
        "meld": {"width": 30, "heads": 5, "dropout": 0.1, "lr": 1e-3, "epochs": 40, "batch_size": 24},
    }

    def write_inputs(self, dataset: MercDataset, folder: Path) -> None:
        with (folder / f"{DATA_NAME}_data.pkl").open("wb") as handle:
            pickle.dump(mult_pickle(dataset), handle, protocol=4)

    def build(self, modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
        dims = dataset.meta.feature_dims
        source = modules["src.models"]
        hyp = types.SimpleNamespace(
            orig_d_l=dims["text"],
            orig_d_a=dims["audio"],
            orig_d_v=dims["visual"],
            vonly=True,
            aonly=True,
            lonly=True,
            num_heads=settings.heads,
            layers=1,
            attn_dropout=settings.dropout,
            attn_dropout_a=settings.dropout,
            attn_dropout_v=settings.dropout,
            relu_dropout=settings.dropout,
            res_dropout=settings.dropout,
            out_dropout=settings.dropout,
            embed_dropout=settings.dropout,
            attn_mask=False,
            output_dim=len(dataset.meta.classes),
            width=settings.width,
        )
        return source.MULTModel(hyp)

    def train(self, modules, model, dataset: MercDataset, folder: Path, settings: Settings):
        data = modules["src.dataset"]
        device = torch.device(settings.device)
        model.to(device)
        loaders = {
            ours: DataLoader(
                data.Multimodal_Datasets(str(folder), DATA_NAME, theirs, if_align=True),
                batch_size=settings.batch_size,
                shuffle=ours == "train",
            )
            for ours, theirs in SPLITS.items()
        }
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

        def step(batch):
            (_, text, audio, vision), labels, _ = batch
            labels = labels[..., 0].long().to(device)
            logits, _ = model(text.to(device), audio.to(device), vision.to(device))
            return logits, labels

        def predictions(loader, epoch: int) -> np.ndarray:
            model.eval()
            with torch.no_grad():
                return np.concatenate([real_predictions(lg, y >= 0) for lg, y in map(step, loader)])

        def train_pass(epoch: int):
            model.train()
            for batch in loaders["train"]:
                logits, labels = step(batch)
                loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=PADDING_LABEL)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
                optimizer.step()

        return timed_epochs(settings.epochs, train_pass, predictions, loaders["validation"], loaders["test"])

    def differences(self) -> tuple[str, ...]:
        return (
            "MulT has no padding mask: an utterance also attends to the batch's padded steps (zero "
            "features, whose keys are the projections' biases), so a prediction depends on the batch it "
            "is in; ours masks padding",
        )


REFERENCE = MulT()
