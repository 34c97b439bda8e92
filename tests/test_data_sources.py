"""Non-pickle sources and the public API around them: saved `datasets` folders, split files in the hub's
layout, the hub itself (offline here), remembered imports and the dispatcher's errors."""

from __future__ import annotations

import json

import datasets
import huggingface_hub.constants
import numpy as np
import pytest

from benchmark import data
from benchmark.data import cache
from benchmark.data.pickles import load_pickle_source
from benchmark.errors import BenchmarkError
from tests.data_fixtures import write_feature_pickle


@pytest.fixture
def original(tmp_path):
    path = write_feature_pickle(tmp_path / "features.pkl", "mmgcn-iemocap")
    return load_pickle_source(path, "iemocap", "iemocap")


def _same_rows(a, b) -> bool:
    rows_a, rows_b = (d.splits["test"].with_format("numpy")[:] for d in (a, b))
    return list(rows_a["dialogue_id"]) == list(rows_b["dialogue_id"]) and all(
        np.array_equal(x, y)
        for m in ("text", "audio", "labels")
        for x, y in zip(rows_a[m], rows_b[m], strict=True)
    )


def test_saved_datasets_folder_imports_caches_and_is_remembered(tmp_path, home, original):
    original.splits.save_to_disk(str(tmp_path / "saved"))
    assert _same_rows(data.import_source(str(tmp_path / "saved"), "iemocap", "iemocap", home), original)
    imported = data.load("iemocap", home, str(tmp_path / "saved"))
    assert imported.meta.source_kind == "datasets-folder"
    train_text = np.concatenate(imported.splits["train"].with_format("numpy")["text"])
    assert np.allclose(train_text.mean(axis=0), 0, atol=1e-5)  # standardised with train-split statistics
    assert imported.meta.lineage["text"].endswith("standardised per dim with train-split mean and std")
    assert (cache.folder(home, imported.meta.fingerprint) / "meta.json").exists()
    assert data.load("iemocap", home).meta.fingerprint == imported.meta.fingerprint


@pytest.mark.parametrize("suffix, subfolder", [(".parquet", ""), (".jsonl", ""), (".parquet", "data")])
def test_split_files_in_hub_layout_load_through_load_dataset(tmp_path, home, original, suffix, subfolder):
    folder = tmp_path / "files" / subfolder
    folder.mkdir(parents=True)
    for split, rows in original.splits.items():
        if suffix == ".parquet":  # the hub shards parquet as <split>-00000-of-0000N.parquet
            rows.to_parquet(str(folder / f"{split}-00000-of-00001{suffix}"))
        else:  # written by hand: Dataset.to_json flattens a one-row split's 2-D columns
            lines = (json.dumps(row) for row in rows.to_list())
            (folder / f"{split}{suffix}").write_text("\n".join(lines) + "\n")
    loaded = data.import_source(str(tmp_path / "files"), "iemocap", "iemocap", home)
    assert loaded.meta.feature_dims == original.meta.feature_dims and _same_rows(loaded, original)


def test_split_files_missing_a_split_or_a_column_are_refused(tmp_path, home, original):
    folder = tmp_path / "files"
    folder.mkdir()
    original.splits["train"].to_parquet(str(folder / "train.parquet"))
    with pytest.raises(BenchmarkError, match=f"{folder}: no validation file"):
        data.import_source(str(folder), "iemocap", "iemocap", home)
    for split in ("validation", "test"):
        original.splits[split].remove_columns("speakers").to_parquet(str(folder / f"{split}.parquet"))
    with pytest.raises(BenchmarkError, match=f"{folder}: dialogue '.*' has labels but no speakers"):
        data.import_source(str(folder), "iemocap", "iemocap", home)
    original.splits["train"].remove_columns("speakers").to_parquet(str(folder / "train.parquet"))
    with pytest.raises(BenchmarkError, match="the train split has no 'speakers' column"):
        data.import_source(str(folder), "iemocap", "iemocap", home)


def test_hub_offline_fails_in_one_line_saying_how_to_use_local_files(monkeypatch, home):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(BenchmarkError, match="could not load someone/iemocap-features@v1") as caught:
        data.import_source("someone/iemocap-features@v1", "iemocap", "iemocap", home)
    assert "pass the local folder" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(
        BenchmarkError, match="not a hub id: check the path, or give a hub dataset as OWNER/NAME@REV"
    ):
        data.import_source("someone/iemocap-features", "iemocap", "iemocap", home)


def test_dispatcher_errors_name_the_source_and_the_fix(tmp_path, home):
    with pytest.raises(
        BenchmarkError, match="dataset 'meld' has not been imported: run `python -m benchmark data"
    ):
        data.load("meld", home)
    with pytest.raises(BenchmarkError, match="no such file or folder"):
        data.load("iemocap", home, str(tmp_path / "nowhere" / "data"))
    with pytest.raises(BenchmarkError, match="generated, it takes no --source"):
        data.load("synthetic-meld", home, "anything")
    single = tmp_path / "train.parquet"
    single.write_bytes(b"")
    with pytest.raises(BenchmarkError, match=f"{single}: an empty file: copy or write it again"):
        data.load("iemocap", home, str(single))
    with pytest.raises(BenchmarkError, match="unknown dataset"):
        data.load("iemocapp", home)
