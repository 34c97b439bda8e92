"""Validation and assembly shared by every source: raw per-dialogue dicts in, canonical DatasetDict out.

Every error is one line naming the file (or source), the dialogue and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import datasets
import numpy as np

from benchmark.data.schema import CLASS_NAMES, MODALITIES, SPLITS, DatasetMeta, MercDataset, features_for
from benchmark.errors import BenchmarkError


def build_splits(
    source: str,
    split_ids: Mapping[str, Sequence[str]],
    speakers: Mapping[str, Sequence[int]],
    labels: Mapping[str, Sequence[int]],
    features: Mapping[str, Mapping[str, object]],
    n_classes: int,
    sentences: Mapping[str, Sequence[str]] | None = None,
    max_speakers: int | None = None,
) -> tuple[datasets.DatasetDict, dict[str, int]]:
    """Validate every dialogue and assemble the canonical splits. `features`: modality -> id -> [n, dim];
    `max_speakers`: how many speakers a dialogue may have (schema.MAX_SPEAKERS), if the dataset fixes it."""
    _check_disjoint(source, split_ids)
    feature_dims: dict[str, int] = {}
    splits = {}
    for split in SPLITS:
        rows: dict[str, list] = {"dialogue_id": [], "speakers": [], "labels": []}
        rows.update({m: [] for m in MODALITIES if m in features})
        if sentences is not None:
            rows["sentences"] = []
        for dialogue_id in split_ids[split]:
            dialogue_labels = _labels(source, dialogue_id, labels, n_classes)
            n = len(dialogue_labels)
            rows["dialogue_id"].append(str(dialogue_id))
            rows["labels"].append(dialogue_labels)
            rows["speakers"].append(_speakers(source, dialogue_id, speakers, n, max_speakers))
            for modality in rows.keys() & set(MODALITIES):
                array = _feature_array(source, dialogue_id, modality, features[modality], n)
                expected = feature_dims.setdefault(modality, array.shape[1])
                if array.shape[1] != expected:
                    raise BenchmarkError(
                        f"{source}: dialogue {dialogue_id!r} has {modality} features of dim {array.shape[1]}, "
                        f"others have {expected}: every utterance of a modality must have the same dim"
                    )
                rows[modality].append(array)
            if sentences is not None:
                rows["sentences"].append(
                    [str(s) for s in _aligned(source, dialogue_id, "sentences", sentences, n)]
                )
        splits[split] = rows
    dims = {m: feature_dims[m] for m in MODALITIES if m in feature_dims}
    schema = features_for(dims)
    if sentences is not None:
        schema["sentences"] = datasets.Sequence(datasets.Value("string"))
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_dict(rows, features=schema) for split, rows in splits.items()}
    ), dims


def speaker_count(splits: datasets.DatasetDict) -> int:
    """1 + the largest speaker id in any split: the size of the speaker embedding table."""
    return 1 + max(max((max(s, default=0) for s in splits[split]["speakers"]), default=0) for split in SPLITS)


def imported_dataset(
    splits: datasets.DatasetDict,
    *,
    name: str,
    family: str,
    feature_dims: dict[str, int],
    source: str,
    source_kind: str,
    fingerprint: str,
    notes: Sequence[str] = (),
    lineage: Mapping[str, str] | None = None,
) -> MercDataset:
    """A real import's splits with its metadata: the family's classes, the speaker table's size. A modality
    whose every value is zero is imported as absent (the source's way of writing one it lacks), with a
    warning note; a training split of one class is refused (nothing to tell apart); a split missing
    classes is a warning note."""
    zeros = [m for m in feature_dims if not any(_carries_values(splits[split], m) for split in SPLITS)]
    if zeros:  # an absent modality is never zeros (schema.py): a source that wrote one so lacks it
        if len(zeros) == len(feature_dims) and "sentences" not in splits["train"].column_names:
            raise BenchmarkError(
                f"{source}: every feature is zero ({', '.join(zeros)}), so there is nothing to learn from: "
                "extract real features, or import the transcripts"
            )
        splits = datasets.DatasetDict({split: rows.remove_columns(zeros) for split, rows in splits.items()})
        feature_dims = {m: dim for m, dim in feature_dims.items() if m not in zeros}
        lineage = {m: text for m, text in (lineage or {}).items() if m not in zeros}
    classes = CLASS_NAMES[family]
    coverage = {split: _classes_in(splits[split], len(classes)) for split in SPLITS}
    if len(coverage["train"]) < 2:
        only = ", ".join(classes[c] for c in sorted(coverage["train"])) or "none"
        raise BenchmarkError(
            f"{source}: every training utterance has the same class ({only}): a classifier needs at least two; "
            "check the label column (--columns label=COLUMN, --label-order) or import the table with its other "
            "emotions"
        )
    warnings = [
        f"{WARNING}every {m} feature is zero, the way a source writes a modality it lacks: imported as absent"
        for m in zeros
    ] + [
        f"{WARNING}the {split} split holds {len(held)} of the {len(classes)} classes (none of "
        f"{', '.join(classes[c] for c in range(len(classes)) if c not in held)}): "
        + (
            "their test F1 is undefined, the report marks them absent and averages macro-F1 over the others"
            if split == "test"
            else "no model learns them"
        )
        for split, held in coverage.items()
        if split != "validation" and len(held) < len(classes)
    ]
    meta = DatasetMeta(
        name=name,
        family=family,
        classes=classes,
        feature_dims=feature_dims,
        n_speakers=speaker_count(splits),
        source=source,
        source_kind=source_kind,
        fingerprint=fingerprint,
        synthetic=False,
        notes=(*notes, *warnings),
        lineage=dict(lineage or {}),
    )
    return MercDataset(meta, splits)


WARNING = "warning: "  # a note that starts so is printed as a warning


def _carries_values(split: datasets.Dataset, modality: str) -> bool:
    return any(np.asarray(x).any() for x in split.with_format("numpy")[modality])


def _classes_in(split: datasets.Dataset, n_classes: int) -> set[int]:
    counts = np.bincount(
        np.concatenate([np.asarray(x, dtype=int) for x in split["labels"]]), minlength=n_classes
    )
    return set(np.flatnonzero(counts).tolist())


def _check_disjoint(source: str, split_ids: Mapping[str, Sequence[str]]) -> None:
    seen: dict[str, str] = {}
    for split in SPLITS:
        if not split_ids.get(split):
            raise BenchmarkError(f"{source}: the {split} split is empty: every split needs dialogues")
        for dialogue_id in split_ids[split]:
            if seen.get(dialogue_id) == split:
                raise BenchmarkError(
                    f"{source}: dialogue {dialogue_id!r} appears twice in the {split} split: "
                    "give each dialogue one id (one row in the canonical schema)"
                )
            if dialogue_id in seen:
                raise BenchmarkError(
                    f"{source}: dialogue {dialogue_id!r} is in both {seen[dialogue_id]} and {split}: "
                    "remove it from one split"
                )
            seen[dialogue_id] = split


def _labels(source: str, dialogue_id: str, labels: Mapping, n_classes: int) -> list[int]:
    if labels.get(dialogue_id) is None:  # a missing value, or a column the split's file lacked
        raise BenchmarkError(f"{source}: dialogue {dialogue_id!r} is listed in a split but has no labels")
    values = np.asarray(labels[dialogue_id])
    if values.size == 0:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} is empty (no utterances): drop it from its split"
        )
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise BenchmarkError(
            f"{source}: labels of dialogue {dialogue_id!r} are not a list of integer class ids"
        )
    if values.min() < 0 or values.max() >= n_classes:
        bad = int(values[(values < 0) | (values >= n_classes)][0])
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has label {bad}, outside 0..{n_classes - 1}: "
            "check the file is for this dataset"
        )
    return values.astype(int).tolist()


def _aligned(source: str, dialogue_id: str, what: str, values: Mapping, n: int) -> list:
    if values.get(dialogue_id) is None:
        raise BenchmarkError(f"{source}: dialogue {dialogue_id!r} has labels but no {what}")
    items = list(values[dialogue_id])
    if len(items) != n:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has {n} labels but {len(items)} {what}: "
            "they must align one per utterance"
        )
    return items


def _speakers(source: str, dialogue_id: str, speakers: Mapping, n: int, max_speakers: int | None) -> list:
    ids = _aligned(source, dialogue_id, "speakers", speakers, n)
    if any(int(s) < 0 for s in ids):
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has a negative speaker id: number speakers 0, 1, ..."
        )
    if max_speakers is not None and len(set(ids)) > max_speakers:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has {len(set(ids))} speakers, more than the {max_speakers} "
            "a dialogue of this dataset has: fix the speaker or dialogue ids (or import it under the other dataset)"
        )
    return ids


def _feature_array(source: str, dialogue_id: str, modality: str, values: Mapping, n: int) -> np.ndarray:
    if values.get(dialogue_id) is None:
        raise BenchmarkError(f"{source}: dialogue {dialogue_id!r} has labels but no {modality} features")
    try:
        array = np.asarray(values[dialogue_id])
        if np.iscomplexobj(array):
            raise BenchmarkError(
                f"{source}: dialogue {dialogue_id!r} has complex {modality} features: features are real numbers; "
                "store their magnitude (or real and imaginary parts as separate dims) before importing"
            )
        array = array.astype(np.float64)
    except (ValueError, TypeError):
        if len({np.size(vector) for vector in values[dialogue_id]}) > 1:
            raise BenchmarkError(
                f"{source}: dialogue {dialogue_id!r} has {modality} feature vectors of different dims across "
                "utterances: every utterance needs the same dim"
            ) from None
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has non-numeric values in its {modality} features: "
            "a feature column holds numbers only; check which column was exported there"
        ) from None
    if array.ndim != 2:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} {modality} features have shape {array.shape}, expected "
            "[utterances, dim]"
        )
    if array.shape[0] != n:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has {n} labels but {array.shape[0]} {modality} feature vectors: "
            "they must align one per utterance"
        )
    if not np.isfinite(array).all():
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has NaN or infinite {modality} features: re-extract or "
            "impute them before importing"
        )
    largest, ceiling = float(np.abs(array).max(initial=0.0)), float(np.finfo(np.float32).max)
    if largest > ceiling:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue_id!r} has a {modality} feature of {largest:.3g}, beyond the float32 range "
            f"(±{ceiling:.3g}) features are stored in, where it would become infinite: rescale "
            "or standardise the features before importing"
        )
    return array.astype(np.float32)
