"""The data layer: every source, on the real files and on small files written in each real layout."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark import data
from benchmark.data import synthetic
from benchmark.data.collate import IGNORE_LABEL, collate_dialogues, dialogues_from_split
from benchmark.data.pickles import load_pickle_source
from benchmark.data.safe_pickle import load_pickle
from benchmark.errors import BenchmarkError

DIMS = {
    "mmgcn-iemocap": (100, 1582, 342),
    "mmgcn-meld": (600, 300, 342),
    "roberta": (1024, 1582, 342),
}  # per layout


def write_feature_pickle(path: Path, layout: str, n_dialogues: int = 12, corrupt=None) -> Path:
    """A small pickle in the exact tuple layout of the public loaders (see benchmark/data/pickles.py)."""
    rng = np.random.default_rng(0)
    text_dim, audio_dim, visual_dim = DIMS[layout]
    ids = [f"Ses0{i}" for i in range(n_dialogues)]
    lengths = {d: int(rng.integers(2, 7)) for d in ids}
    meld = layout == "mmgcn-meld"
    speakers = {
        d: [list(np.eye(9)[i % 3].astype(int)) if meld else "MF"[i % 2] for i in range(n)]
        for d, n in lengths.items()
    }
    labels = {d: rng.integers(0, 7 if meld else 6, n).tolist() for d, n in lengths.items()}
    text = {d: rng.standard_normal((n, text_dim)).astype(np.float32) for d, n in lengths.items()}
    audio = {d: rng.standard_normal((n, audio_dim)).astype(np.float32) for d, n in lengths.items()}
    visual = {d: rng.standard_normal((n, visual_dim)).astype(np.float32) for d, n in lengths.items()}
    sentences = {d: [f"utterance {i}" for i in range(n)] for d, n in lengths.items()}
    video_ids = {d: [f"{d}_{i}" for i in range(n)] for d, n in lengths.items()}
    train, test = ids[: n_dialogues - 3], ids[n_dialogues - 3 :]
    items = {"labels": labels, "text": text, "audio": audio, "visual": visual, "speakers": speakers}
    if corrupt:
        corrupt(items)
    if layout == "roberta":
        content = (
            video_ids,
            items["speakers"],
            items["labels"],
            items["text"],
            text,
            text,
            text,
            items["audio"],
            items["visual"],
            sentences,
            train,
            test,
        )
    else:
        content = [
            video_ids,
            items["speakers"],
            items["labels"],
            items["text"],
            items["audio"],
            items["visual"],
            sentences,
            train,
            test,
        ]
        if meld:
            content.append(train[-2:])  # MELD's trailing item: here an id list inside train (a dev split)
        content = tuple(content)
    path.write_bytes(pickle.dumps(content, protocol=2))
    return path


# --- the real files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family, counts",
    [
        ("iemocap", {"train": (108, 5163), "validation": (12, 647), "test": (31, 1623)}),
        ("meld", {"train": (1038, 9989), "validation": (114, 1109), "test": (280, 2610)}),
    ],
)
def test_real_transcripts_import_with_official_splits_and_absent_modalities(
    shared_data, home, family, counts
):
    dataset = data.load(family, home, str(shared_data / "cosmic" / f"{family}.pkl"))
    summary = data.summarize(dataset)
    assert {s: (v["dialogues"], v["utterances"]) for s, v in summary["splits"].items()} == counts
    assert dataset.meta.source_kind == "transcripts"
    assert dataset.meta.absent_modalities == ("text", "audio", "visual")
    assert "audio" not in dataset.splits["train"].column_names  # absent, not zero-filled
    assert dataset.meta.n_speakers == (2 if family == "iemocap" else 9)
    assert data.load(family, home).meta.fingerprint == dataset.meta.fingerprint  # remembered import


def test_committed_synthetic_statistics_match_the_real_files(shared_data, home):
    iemocap = data.load("iemocap", home, str(shared_data / "cosmic" / "iemocap.pkl"))
    meld = data.load("meld", home, str(shared_data / "cosmic" / "meld.pkl"))
    assert synthetic.statistics_from_transcripts(iemocap, meld) == synthetic.split_statistics()


# --- feature pickles in each lineage's layout ---------------------------------------------------------------


def test_mmgcn_iemocap_layout_carves_a_recorded_validation_split(tmp_path):
    dataset = load_pickle_source(
        write_feature_pickle(tmp_path / "IEMOCAP_features.pkl", "mmgcn-iemocap"), "iemocap", "iemocap"
    )
    assert dataset.meta.source_kind == "feature-pickle:mmgcn"
    assert dataset.meta.feature_dims == {"text": 100, "audio": 1582, "visual": 342}
    assert [len(dataset.splits[s]) for s in ("train", "validation", "test")] == [8, 1, 3]
    carved = dataset.splits["validation"]["dialogue_id"][0]
    assert any(carved in note and "carved" in note for note in dataset.meta.notes)
    assert dataset.meta.n_speakers == 2


def test_mmgcn_meld_layout_uses_the_dev_split_and_one_hot_speakers(tmp_path):
    dataset = load_pickle_source(
        write_feature_pickle(tmp_path / "MELD_features_raw1.pkl", "mmgcn-meld"), "meld", "meld"
    )
    assert dataset.meta.feature_dims == {"text": 600, "audio": 300, "visual": 342}
    assert sorted(dataset.splits["validation"]["dialogue_id"]) == ["Ses07", "Ses08"]
    assert set(np.concatenate(dataset.splits["train"]["speakers"]).tolist()) == {0, 1, 2}


def test_roberta_layout_is_detected_by_its_text_dim(tmp_path):
    dataset = load_pickle_source(
        write_feature_pickle(tmp_path / "iemocap_multi.pkl", "roberta"), "iemocap", "iemocap"
    )
    assert dataset.meta.source_kind == "feature-pickle:roberta"
    assert dataset.meta.feature_dims["text"] == 1024


# --- local datasets folders and the hub -------------------------------------------------------------------------


def test_saved_datasets_folder_and_split_files_round_trip(tmp_path, home):
    original = load_pickle_source(
        write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap"), "iemocap", "iemocap"
    )
    original.splits.save_to_disk(str(tmp_path / "saved"))
    from_folder = data.load("iemocap", home, str(tmp_path / "saved"))
    assert from_folder.meta.source_kind == "datasets-folder"
    files = tmp_path / "files"
    files.mkdir()
    for split, rows in original.splits.items():
        rows.to_parquet(str(files / f"{split}.parquet"))
    from_files = data.import_source(str(files), "iemocap", "iemocap")
    for loaded in (from_folder, from_files):
        first = loaded.splits["test"].with_format("numpy")[0]
        assert np.array_equal(first["audio"], original.splits["test"].with_format("numpy")[0]["audio"])


def test_hub_without_network_says_how_to_use_local_files(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BenchmarkError, match="pass the local folder or a .pkl file"):
        data.import_source("someone/iemocap-features@v1", "iemocap", "iemocap")
    with pytest.raises(BenchmarkError, match="no revision"):
        data.import_source("someone/iemocap-features", "iemocap", "iemocap")


# --- bad input ---------------------------------------------------------------------------------------------------


def _nan(items):
    items["audio"]["Ses00"][0, 0] = np.nan


def _label(items):
    items["labels"]["Ses00"][0] = 9


def _short(items):
    items["labels"]["Ses00"] = items["labels"]["Ses00"][:-1]


def _dims(items):
    items["visual"]["Ses01"] = items["visual"]["Ses01"][:, :10]


def _ragged(items):
    items["text"]["Ses00"] = [np.zeros(100), np.zeros(99)] + [np.zeros(100)] * (
        len(items["labels"]["Ses00"]) - 2
    )


def _empty(items):
    for key in items:
        items[key]["Ses00"] = items[key]["Ses00"][:0]


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (_nan, "NaN or infinite audio"),
        (_label, "label 9, outside 0..5"),
        (_short, "labels but"),
        (_dims, "visual features of dim 10"),
        (_ragged, "different dims across utterances"),
        (_empty, "is empty"),
    ],
)
def test_bad_feature_pickles_fail_with_one_line_naming_file_and_dialogue(tmp_path, corrupt, message):
    path = write_feature_pickle(tmp_path / "bad.pkl", "mmgcn-iemocap", corrupt=corrupt)
    with pytest.raises(BenchmarkError, match=message) as caught:
        load_pickle_source(path, "iemocap", "iemocap")
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_dialogue_in_two_splits_and_unknown_layouts_are_refused(tmp_path, home):
    path = write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap")
    content = list(load_pickle(path))
    content[8] = list(content[8]) + [content[7][0]]
    path.write_bytes(pickle.dumps(tuple(content), protocol=2))
    with pytest.raises(BenchmarkError, match="is in both train and test"):
        load_pickle_source(path, "iemocap", "iemocap")
    path.write_bytes(pickle.dumps(([], {}, {}), protocol=2))
    with pytest.raises(BenchmarkError, match=r"unknown pickle layout \(3 items\)"):
        load_pickle_source(path, "iemocap", "iemocap")
    with pytest.raises(BenchmarkError, match="file not found"):
        data.load("iemocap", home, str(tmp_path / "missing.pkl"))


def test_real_dataset_not_imported_names_the_command(home):
    with pytest.raises(BenchmarkError, match="python -m benchmark data --dataset meld --source"):
        data.load("meld", home)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_unpickler_refuses_code_and_does_not_run_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x": _RunsCode()}, protocol=2))
    with pytest.raises(BenchmarkError, match=r"refusing to unpickle (posix|os)\.system"):
        load_pickle(path)
    assert not (tmp_path / "pwned").exists()


# --- the synthetic default, caching and collation ------------------------------------------------------------


def test_generator_is_deterministic_per_seed():
    first, again, other = (
        synthetic.generate("meld", 3),
        synthetic.generate("meld", 3),
        synthetic.generate("meld", 4),
    )
    rows = lambda d: d.splits["test"].with_format("numpy")[:5]  # noqa: E731
    for modality in ("text", "audio", "visual"):
        assert all(
            np.array_equal(a, b) for a, b in zip(rows(first)[modality], rows(again)[modality], strict=True)
        )
    assert not np.array_equal(rows(first)["text"][0], rows(other)["text"][0])
    assert first.meta.synthetic and first.meta.source_kind == "synthetic"


def test_synthetic_matches_real_sizes_dims_and_proportions(home):
    dataset = data.load("synthetic-iemocap", home)
    summary = data.summarize(dataset)
    stats = synthetic.split_statistics()["iemocap"]
    assert summary["splits"]["test"]["dialogues"] == 31 and summary["splits"]["test"]["utterances"] == 1623
    assert dataset.meta.feature_dims == {"text": 1024, "audio": 1582, "visual": 342}
    real = np.asarray(stats["train"]["class_counts"]) / sum(stats["train"]["class_counts"])
    made = np.asarray(list(summary["splits"]["train"]["class_counts"].values())) / 5163
    assert np.abs(real - made).max() < 0.05


def test_second_load_hits_the_cache(home, monkeypatch):
    data.load("synthetic-meld", home)
    monkeypatch.setattr(synthetic, "generate", lambda *a, **k: pytest.fail("regenerated despite the cache"))
    assert data.load("synthetic-meld", home).meta.name == "synthetic-meld"
    assert [p.name for p in home.dataset_cache.iterdir() if p.name.startswith(".incoming")] == []


def test_collate_pads_features_and_masks_labels(home):
    dataset = data.subsample(data.load("synthetic-iemocap", home), {"train": 4, "validation": 2, "test": 2})
    dialogues = dialogues_from_split(dataset.splits["train"], dataset.meta.modalities)
    batch = collate_dialogues(dialogues)
    lengths = [len(d.labels) for d in dialogues]
    assert batch.features["audio"].shape == (4, max(lengths), 1582)
    assert batch.mask.sum(1).tolist() == lengths
    assert (batch.labels[~batch.mask] == IGNORE_LABEL).all()
    assert torch.equal(batch.features["text"][0, : lengths[0]], dialogues[0].features["text"])
    assert json.dumps(data.summarize(dataset))  # JSON-able for records
