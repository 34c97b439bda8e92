"""Small hand-made batches for model tests: real shapes, a few utterances, padding included."""

from __future__ import annotations

import torch

from benchmark.data.collate import Batch, Dialogue, collate_dialogues
from benchmark.data.schema import CLASS_NAMES, DatasetMeta

FEATURE_DIMS = {"text": 12, "audio": 10, "visual": 8}


def tiny_meta(feature_dims: dict[str, int] | None = None) -> DatasetMeta:
    return DatasetMeta(
        name="tiny",
        family="iemocap",
        classes=CLASS_NAMES["iemocap"],
        feature_dims=FEATURE_DIMS if feature_dims is None else feature_dims,
        n_speakers=2,
        source="test",
        source_kind="synthetic",
        fingerprint="0" * 64,
        synthetic=True,
    )


def tiny_dialogues(meta: DatasetMeta, lengths=(5, 3, 2), seed: int = 0) -> list[Dialogue]:
    generator = torch.Generator().manual_seed(seed)
    return [
        Dialogue(
            dialogue_id=f"d{i}",
            speakers=torch.randint(0, meta.n_speakers, (n,), generator=generator),
            labels=torch.randint(0, meta.n_classes, (n,), generator=generator),
            features={m: torch.randn(n, d, generator=generator) for m, d in meta.feature_dims.items()},
        )
        for i, n in enumerate(lengths)
    ]


def padded_variants(meta: DatasetMeta) -> tuple[Batch, Batch]:
    """The same dialogues batched alone and beside a much longer one (so they carry extra padding)."""
    dialogues = tiny_dialogues(meta)
    longer = tiny_dialogues(meta, lengths=(11,), seed=1)
    return collate_dialogues(dialogues), collate_dialogues(dialogues + longer)


def assert_padding_invariant(model, meta: DatasetMeta) -> None:
    model.eval()
    alone, padded = padded_variants(meta)
    with torch.no_grad():
        a, b = model(alone).logits, model(padded).logits
    for i, n in enumerate(alone.lengths.tolist()):
        torch.testing.assert_close(a[i, :n], b[i, :n], rtol=1e-4, atol=1e-5)
