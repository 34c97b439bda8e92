"""MMGCN (Hu et al., 2021), hujingwen6666/MMGCN, against our `mmgcn`.

Input format (its `dataloader.py`): one pickle, `IEMOCAP_features/IEMOCAP_features.pkl` (9 items) or
`MELD_features/MELD_features_raw1.pkl` (10 items), in the working folder: videoIDs, videoSpeakers,
videoLabels, videoText, videoAudio, videoVisual, videoSentence, trainVid, testVid (and one more item on
MELD, which the loader discards). Speakers as in SDT's layout: IEMOCAP letters, MELD one-hot vectors.

The model is the one `run.sh` trains: an LSTM base on text, linear audio and visual, the MMGCN graph
(`--graph_type MMGCN --mm_fusion_mthd concat_subsequently --modals avl --use_speaker`). Its sizes are
fixed in its code (D_e = graph_h = 100, 200-wide inputs, 64 graph layers): `--width` does not change
them, and our rival is built at the same sizes.
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

FILES = {"iemocap": "IEMOCAP_features/IEMOCAP_features.pkl", "meld": "MELD_features/MELD_features_raw1.pkl"}
HIDDEN = 100  # train.py: D_e = graph_h = 100
GRAPH_LAYERS = 64  # model.py passes nlayers=64 to MM_GCN whatever --Deep_GCN_nlayers says


class MMGCN(Reference):
    name = "mmgcn"
    rival = "mmgcn"
    repository = "hujingwen6666/MMGCN"
    commit = "85732d984f70c1c84dd47c81aa97f1271397b899"
    files = ("dataloader.py", "model_GCN.py", "model_mm.py", "model.py", "train.py")
    stubs = {
        "torch_geometric": "imported by model.py; the MMGCN graph never uses it",
        "torch_geometric.nn": "RGCNConv and GraphConv, used only by the DialogueGCN variants",
        "ipdb": "a debugger import",
    }
    patches = (
        Patch(
            "model_mm.py", "dim=0).cuda()", "dim=0).to(a.device)", "graph features stay on the model's device"
        ),
        Patch(
            "model_mm.py",
            "adj = torch.zeros((modal_num*all_length, modal_num*all_length)).cuda()",
            "adj = torch.zeros((modal_num*all_length, modal_num*all_length)).to(a.device)",
            "the adjacency is built on the model's device instead of CUDA (runs on a CPU)",
        ),
        Patch(
            "model_mm.py",
            "adj[idx] = dia_sim",
            "adj[tuple(idx)] = dia_sim",
            "current torch reads a 2-row numpy index as one index tensor, not as (rows, columns)",
        ),
        Patch(
            "model_mm.py",
            "D = torch.diag(torch.pow(d, -0.5))\n        adj = D.mm(adj).mm(D)",
            "d_inv_sqrt = torch.pow(d, -0.5)\n        adj = d_inv_sqrt[:, None] * adj * d_inv_sqrt[None, :]",
            "its symmetric normalisation D^-1/2 A D^-1/2 multiplies by a dense diagonal matrix, two "
            "n^3 products per batch (n = 3 x the batch's utterances) forward and four backward; the same "
            "scaling row and column-wise (a CPU needs it: a third of an IEMOCAP epoch)",
        ),
        Patch(
            "model.py",
            "label_onehot = torch.zeros([seq_length, labels_length]).cuda()",
            "label_onehot = torch.zeros([seq_length, labels_length]).to(logits.device)",
            "MELD's focal loss builds its one-hot labels on the model's device instead of CUDA",
        ),
        Patch(
            "train.py",
            'os.environ["CUDA_VISIBLE_DEVICES"] = "7"',
            "",
            "it hides every GPU but the eighth; the cross-check picks the device",
        ),
    )
    weight_decay = {"iemocap": 3e-5, "meld": 0.0}  # run.sh --l2
    class_weighted = frozenset({"iemocap"})  # run.sh --class-weight on IEMOCAP only
    published = {  # run.sh: its sizes are fixed, heads unused
        "iemocap": {"width": HIDDEN, "heads": 1, "dropout": 0.4, "lr": 3e-4, "epochs": 20, "batch_size": 16},
        "meld": {"width": HIDDEN, "heads": 1, "dropout": 0.4, "lr": 1e-3, "epochs": 60, "batch_size": 16},
    }

    def write_inputs(self, dataset: MercDataset, folder: Path) -> None:
        path = folder / FILES[dataset.meta.family]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            pickle.dump(feature_pickle(dataset, unused_text_layers=0), handle, protocol=4)

    def rival_overrides(self, dataset: MercDataset, settings: Settings) -> dict:
        return {"width": HIDDEN, "gcn_layers": GRAPH_LAYERS}

    def build(self, modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
        meta = dataset.meta
        dims = meta.feature_dims
        return modules["model"].DialogueGCNModel(
            "LSTM",
            dims["text"],
            150,
            150,
            HIDDEN,
            HIDDEN,
            HIDDEN,
            HIDDEN,
            n_speakers=2 if meta.family == "iemocap" else 9,
            max_seq_len=200,
            window_past=10,
            window_future=10,
            n_classes=len(meta.classes),
            dropout=settings.dropout,
            nodal_attention=True,
            no_cuda=settings.device != "cuda",
            graph_type="MMGCN",
            graph_construct="direct",
            D_m_v=dims["visual"],
            D_m_a=dims["audio"],
            modals="avl",
            att_type="concat_subsequently",
            av_using_lstm=False,
            Deep_GCN_nlayers=4,
            dataset=meta.family.upper(),
            use_speaker=True,
            use_modal=False,
        )

    def train(self, modules, model, dataset: MercDataset, folder: Path, settings: Settings):
        train_module, model_module = modules["train"], modules["model"]
        cuda = settings.device == "cuda"
        train_module.args = types.SimpleNamespace(multi_modal=True, mm_fusion_mthd="concat_subsequently")
        # its loop calls seed_everything() at every pass: the fixed seed 27350 again each epoch, so
        # that our seed only sets the initial weights; kept, as the authors train
        train_loader, validation, test_loader = reference_loaders(
            train_module, dataset, folder, settings.batch_size
        )
        weights = torch.FloatTensor(settings.class_weights) if settings.class_weights else None
        if cuda:
            model.cuda()
            weights = weights.cuda() if weights is not None else None
        if dataset.meta.family == "meld":
            loss_function = model_module.FocalLoss()
        else:
            loss_function = torch.nn.NLLLoss(weights)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

        def predictions(loader, epoch) -> np.ndarray:
            _, _, _, predicted, *_ = train_module.train_or_eval_graph_model(
                model, loss_function, loader, epoch, cuda, "avl"
            )
            return predicted

        def train_pass(epoch: int):
            train_module.train_or_eval_graph_model(
                model, loss_function, train_loader, epoch, cuda, "avl", optimizer, True
            )

        return timed_epochs(settings.epochs, train_pass, predictions, validation, test_loader)

    def differences(self) -> tuple[str, ...]:
        return (
            "on MELD it trains with its `FocalLoss`, which as written adds −(1 − log p_y)^2.5 · log p_y "
            "for the true class and −log p_c for every other class (it pushes every class's probability "
            "up, not a focal loss); ours uses the paper's cross-entropy",
            "its loop reseeds every pass with its fixed seed (27350): batch order and dropout repeat "
            "each epoch and across our seeds; only the initial weights follow the seed",
        )


REFERENCE = MMGCN()
