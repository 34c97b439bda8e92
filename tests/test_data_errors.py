"""Bad input, as a new user gives it: one line naming the file, the problem and the fix, and the earlier
import still the current one afterwards. Also: stale run records, re-imports from a new path, the
`datasets` cache under the suite's home."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data import cache, features
from benchmark.data.safe_pickle import load_pickle
from benchmark.errors import BenchmarkError
from benchmark.executors.local import run_key
from benchmark.store.runs import RunStore
from tests.data_fixtures import write_feature_pickle
from tests.test_data_tables import USER_TABLE, write_meld_release


@pytest.fixture
def earlier(home, imported_home):
    """A good import done before the bad one: it must stay the current import, untouched. The home starts
    as a copy of one where it was made, rather than making it again."""
    shutil.copytree(imported_home.root, home.root, dirs_exist_ok=True)
    return data.load("iemocap", home).meta.fingerprint


def refused(home, source, message, earlier, options=None) -> str:
    with pytest.raises(BenchmarkError, match=message) as caught:
        data.load("iemocap", home, str(source), options)
    text = str(caught.value)
    assert "\n" not in text
    assert data.load("iemocap", home).meta.fingerprint == earlier  # the earlier import survived
    return text


def test_a_csv_given_as_a_pickle_says_it_is_a_text_table(tmp_path, home, earlier):
    path = tmp_path / "meld.pkl"
    path.write_text("Sr No.,Utterance,Speaker,Emotion\n1,hi,Ross,joy\n")
    refused(home, path, f"{path}: not a readable pickle .*: it is a text table", earlier)
    write_meld_release(tmp_path / "MELD", {"train": [[("Hi.", "Ross", "joy")]]})
    one = tmp_path / "MELD" / "train_sent_emo.csv"
    refused(home, one, f"{one}: one file of the MELD release: pass the folder", earlier)


def _split_files(folder, rows_by_split) -> None:
    folder.mkdir()
    for split, rows in rows_by_split.items():
        datasets.Dataset.from_dict(rows).to_parquet(str(folder / f"{split}.parquet"))


def _user_rows(label_column="label"):
    names = ("dialogue_id", "turn", "speaker", "text", label_column, "split")
    return {name: [r[i] for r in USER_TABLE] for i, name in enumerate(names)}


def test_a_column_wrong_in_one_split_is_one_line(tmp_path, home, earlier):
    rows = _user_rows()
    _split_files(tmp_path / "files", {"train": rows, "validation": rows, "test": _user_rows("emotion")})
    refused(home, tmp_path / "files", f"{tmp_path / 'files'}: could not be read as parquet files", earlier)


def test_truncated_and_empty_parquet_files_are_one_line(tmp_path, home, earlier):
    path = tmp_path / "table.parquet"
    datasets.Dataset.from_dict(_user_rows()).to_parquet(str(path))
    path.write_bytes(path.read_bytes()[:200])
    refused(home, path, f"{path}: a truncated parquet file \\(no footer\\): copy or write it again", earlier)
    path.write_bytes(b"")
    refused(home, path, f"{path}: an empty file: copy or write it again", earlier)


def test_corrupt_arrow_and_dataset_dict_json_are_one_line(tmp_path, home, earlier):
    folder = tmp_path / "saved"
    datasets.DatasetDict({s: datasets.Dataset.from_dict(_user_rows()) for s in ("train",)}).save_to_disk(
        str(folder)
    )
    (folder / "dataset_dict.json").write_text("{not json")
    refused(home, folder, f"{folder}: could not be read as a save_to_disk folder", earlier)
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": ["train"]}))
    arrow = next(folder.rglob("*.arrow"))
    arrow.write_bytes(b"garbage" * 10)
    refused(home, folder, f"{folder}: could not be read as a save_to_disk folder", earlier)


def test_speaker_names_in_the_canonical_schema_are_refused(tmp_path, home, earlier):
    rows = {
        "dialogue_id": ["a"],
        "speakers": [["Ross", "Rachel"]],
        "labels": [[0, 1]],
        "text": [np.zeros((2, 4))],
    }
    _split_files(
        tmp_path / "files", {s: rows | {"dialogue_id": [s]} for s in ("train", "validation", "test")}
    )
    refused(
        home,
        tmp_path / "files",
        "the train split has speakers \\['Ross', 'Rachel'\\], not integer ids",
        earlier,
    )


def test_a_none_speaker_and_a_speaker_outside_iemocap_are_refused(tmp_path, home, earlier):
    def none_speaker(items):
        items["speakers"]["d01"] = [None] * len(items["speakers"]["d01"])

    path = write_feature_pickle(tmp_path / "none.pkl", "mmgcn-iemocap", corrupt=none_speaker)
    refused(home, path, f"{path}: dialogue 'd01' has an utterance with no speaker \\(None\\)", earlier)

    def third_speaker(items):
        items["speakers"]["d02"] = ["X"] * len(items["speakers"]["d02"])

    path = write_feature_pickle(tmp_path / "x.pkl", "mmgcn-iemocap", corrupt=third_speaker)
    refused(home, path, f"{path}: dialogue 'd02' has speaker 'X', outside IEMOCAP's F, M", earlier)


def test_text_in_a_feature_column_is_not_reported_as_different_dims(tmp_path, home, earlier):
    def words(items):
        rows = len(items["labels"]["d00"])
        items["text"]["d00"] = [["a"] * 100 for _ in range(rows)]

    path = write_feature_pickle(tmp_path / "words.pkl", "mmgcn-iemocap", corrupt=words)
    refused(home, path, f"{path}: dialogue 'd00' has non-numeric values in its text features", earlier)


def test_a_duplicate_dialogue_in_one_split_is_named_as_such(tmp_path, home, earlier):
    path = write_feature_pickle(tmp_path / "dup.pkl", "mmgcn-iemocap")
    content = list(load_pickle(path))
    content[7] = [*content[7], content[7][0]]
    path.write_bytes(pickle.dumps(tuple(content), protocol=2))
    refused(home, path, f"{path}: dialogue 'd00' appears twice in the train split", earlier)


def test_missing_relative_paths_and_bare_words_are_not_hub_ids(tmp_path, home, earlier, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(home, "data/meld", "data/meld: no such file or folder .*not a hub id", earlier)
    refused(home, "meld_csvs", "meld_csvs: no such file or folder", earlier)


def test_ctrl_c_during_an_import_is_one_line_and_keeps_the_earlier_import(
    shared_data, home, earlier, monkeypatch, capsys
):
    def interrupted(self, sentences, on_batch):
        raise KeyboardInterrupt

    monkeypatch.setattr(features.TextEncoder, "encode", interrupted)
    source = str(shared_data / "cosmic" / "iemocap.pkl")
    assert cli_main(["data", "--dataset", "iemocap", "--source", source, "--home", str(home.root)]) == 130
    err = capsys.readouterr().err
    assert (
        err.strip()
        == "interrupted: what was finished is kept, nothing was half-written; the same command resumes"
    )
    assert data.load("iemocap", home).meta.fingerprint == earlier
    assert not list(home.dataset_cache.glob(".incoming-*"))  # no half-written cache folder is left


def test_the_same_content_from_a_new_path_records_the_new_path(tmp_path, home, earlier):
    first = data.load("iemocap", home)
    moved = tmp_path / "elsewhere" / "moved.pkl"
    moved.parent.mkdir()
    moved.write_bytes(Path(first.meta.source).read_bytes())
    again = data.load("iemocap", home, str(moved))
    assert again.meta.fingerprint == first.meta.fingerprint and again.meta.source == str(moved)
    assert data.load("iemocap", home).meta.source == str(moved)


def test_split_file_imports_keep_their_datasets_cache_under_the_home(tmp_path, home):
    path = tmp_path / "table.parquet"
    datasets.Dataset.from_dict(_user_rows()).to_parquet(str(path))
    data.load("iemocap", home, str(path), data.ImportOptions(text_encoder=None))
    assert any((home.dataset_cache / "hf-datasets").iterdir())


def test_a_new_import_under_the_same_name_makes_the_next_run_retrain(tmp_path, home):
    from benchmark.store.records import RunKey

    data.load("iemocap", home, str(write_feature_pickle(tmp_path / "a.pkl", "mmgcn-iemocap")))
    key = RunKey("text-teacher", "none", "iemocap", "smoke", 0)
    first = run_key(key, home)
    assert run_key(key, home).train_seconds == first.train_seconds  # same data and config: reused
    data.load("iemocap", home, str(write_feature_pickle(tmp_path / "b.pkl", "mmgcn-iemocap", n_dialogues=14)))
    retrained = run_key(key, home)
    assert retrained.data.fingerprint == cache.current_import(home, "iemocap")
    assert retrained.data.fingerprint != first.data.fingerprint
    assert RunStore(home).read(key).data.fingerprint == retrained.data.fingerprint
