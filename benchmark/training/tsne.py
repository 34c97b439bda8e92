"""The t-SNE study (the paper's figure 6): input features against SUMMER's fused features on the test
split, each embedded in two dimensions by scikit-learn's TSNE and stored for the report to draw.

The model is the run's own: same key, same seed, its validation-selected weights (trained again here,
deterministically). The study's file is read back by the report through the run store (`read_tsne`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.manifold import TSNE

from benchmark.data.collate import collate_dialogues, dialogues_from_split
from benchmark.files import atomic_write_json
from benchmark.home import Home
from benchmark.store.records import RunKey
from benchmark.store.runs import tsne_path
from benchmark.training.loop import EpochCallback
from benchmark.training.runner import resolve_run, train_run

TSNE_PERPLEXITY = 30.0


def embed(features: np.ndarray, seed: int) -> np.ndarray:
    """[N, D] -> [N, 2], standardised per column first so no feature's scale dominates the distances."""
    spread = features.std(axis=0)
    scaled = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    perplexity = min(TSNE_PERPLEXITY, (len(features) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(scaled)


def tsne_study(key: RunKey, home: Home, on_epoch: EpochCallback | None = None) -> Path:
    run = train_run(resolve_run(key, home), home, on_epoch)
    model, meta = run.model.eval(), run.dataset.meta
    dialogues = dialogues_from_split(run.dataset.splits["test"], meta.modalities)
    inputs, fused, labels = [], [], []
    with torch.no_grad():
        for start in range(0, len(dialogues), run.train.batch_size):
            batch = collate_dialogues(dialogues[start : start + run.train.batch_size])
            mask = batch.mask
            inputs.append(torch.cat([batch.features[m][mask] for m in meta.modalities], dim=-1))
            fused.append(model(batch).hidden[mask])
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
