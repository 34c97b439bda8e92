"""The t-SNE study (the paper's figure 6): input features against SUMMER's fused features on the test
split, each embedded in two dimensions by scikit-learn's TSNE and stored for the report to draw.

The model is the run's own: same key, same seed, its validation-selected weights as the run store keeps
them (`stored_model`; the command trains and stores the run first when the store lacks it). The study's
file is read back by the report through the run store (`read_tsne`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.manifold import TSNE

from benchmark.data.collate import collate_dialogues, dialogues_from_split
from benchmark.files import atomic_write_json
from benchmark.home import Home
from benchmark.store.runs import tsne_path
from benchmark.training.runner import ResolvedRun, stored_model

TSNE_PERPLEXITY = 30.0


def embed(features: np.ndarray, seed: int) -> np.ndarray:
    """[N, D] -> [N, 2], standardised per column first so no feature's scale dominates the distances."""
    spread = features.std(axis=0)
    scaled = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    perplexity = min(TSNE_PERPLEXITY, (len(features) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(scaled)


def tsne_study(run: ResolvedRun, home: Home) -> Path:
    """The study of a stored run (`run`'s record and weights in the store), computed on its plan's device."""
    key, batch_size, device = run.plan.key, run.plan.train.batch_size, run.plan.execution.torch_device
    model, meta = stored_model(run, home).eval(), run.dataset.meta
    dialogues = dialogues_from_split(run.dataset.splits["test"], meta.modalities)
    inputs, fused, labels = [], [], []
    with torch.no_grad():
        for start in range(0, len(dialogues), batch_size):
            batch = collate_dialogues(dialogues[start : start + batch_size])
            mask = batch.mask
            inputs.append(torch.cat([batch.features[m][mask] for m in meta.modalities], dim=-1))
            on_device = batch.to(device)
            fused.append(model(on_device).hidden[on_device.mask].cpu())
            labels.append(batch.labels[mask])
    label_array = torch.cat(labels).numpy()
    study = {
        "key": key.to_json(),
        "classes": list(meta.classes),
        "synthetic": meta.synthetic,
        "labels": label_array.tolist(),
        "input": embed(torch.cat(inputs).numpy(), key.seed).round(4).tolist(),
        "fused": embed(torch.cat(fused).numpy(), key.seed).round(4).tolist(),
    }
    path = tsne_path(home, key.dataset, key.profile)
    atomic_write_json(path, study, indent=None)
    return path
