"""Pickle sources: the real COSMIC transcripts, every feature lineage's layout, bad input, unsafe pickles."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from benchmark import data
from benchmark.data.pickles import load_pickle_source
from benchmark.data.safe_pickle import load_pickle
from benchmark.errors import BenchmarkError
from tests.data_fixtures import DIMS, write_feature_pickle

TRANSCRIPTS = data.ImportOptions(text_encoder=None)  # the sentences as they are, no encoder

# --- the real transcript pickles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family, counts, n_speakers",
    [
        ("iemocap", {"train": (108, 5163), "validation": (12, 647), "test": (31, 1623)}, 2),
        ("meld", {"train": (1038, 9989), "validation": (114, 1109), "test": (280, 2610)}, 9),
    ],
)
def test_real_transcripts_keep_official_splits_and_sentences_without_features(
    shared_data, home, family, counts, n_speakers
):
    dataset = data.load(family, home, str(shared_data / "cosmic" / f"{family}.pkl"), TRANSCRIPTS)
    summary = data.summarize(dataset)
    assert {s: (v["dialogues"], v["utterances"]) for s, v in summary["splits"].items()} == counts
    assert dataset.meta.source_kind == "transcripts" and summary["lineage"] == {}
    assert dataset.meta.feature_dims == {}
    assert dataset.meta.absent_modalities == ("text", "audio", "visual")
    assert dataset.splits["train"].column_names == ["dialogue_id", "speakers", "labels", "sentences"]
    first = dataset.splits["test"][0]
    assert len(first["sentences"]) == len(first["labels"]) and isinstance(first["sentences"][0], str)
    assert dataset.meta.n_speakers == n_speakers
    assert data.load(family, home).meta.fingerprint == dataset.meta.fingerprint  # the remembered import


def test_a_file_of_the_other_family_names_the_right_dataset(shared_data):
    with pytest.raises(BenchmarkError, match="a MELD file, not IEMOCAP: import it with --dataset meld"):
        load_pickle_source(shared_data / "cosmic" / "meld.pkl", "iemocap", "iemocap")


# --- feature pickles in each lineage's layout --------------------------------------------------------------


@pytest.mark.parametrize(
    "layout, lineage",
    [
        ("mmgcn-iemocap", "mmgcn"),
        ("mmgcn-meld", "mmgcn"),
        ("sdt-iemocap", "sdt"),
        ("sdt-meld", "sdt"),
        ("bclstm-meld", "bclstm"),
        ("cosmic-iemocap", "cosmic-roberta"),
        ("cosmic-meld", "cosmic-roberta"),
    ],
)
def test_each_feature_layout_is_detected_with_its_lineage_and_dims(tmp_path, layout, lineage):
    family = layout.split("-")[1]
    path = write_feature_pickle(tmp_path / f"{layout}.pkl", layout)
    dataset = load_pickle_source(path, family, family)
    assert dataset.meta.source_kind == f"feature-pickle:{lineage}"
    assert set(dataset.meta.lineage) == set(dataset.meta.feature_dims)  # stated by the layout, per modality
    expected = dict(zip(("text", "audio", "visual"), DIMS[layout], strict=True))
    assert dataset.meta.feature_dims == {m: d for m, d in expected.items() if d}
    assert sum(len(dataset.splits[s]) for s in dataset.splits) == 12
    raw = load_pickle(path)
    text = raw[2] if layout.startswith("cosmic") and family == "iemocap" else raw[3]
    row = dataset.splits["test"].with_format("numpy")[0]
    assert np.array_equal(row["text"], text[row["dialogue_id"]])  # layer 1 of RoBERTa, not another item
    speakers = np.concatenate(dataset.splits["train"]["speakers"])
    assert set(speakers.tolist()) == ({0, 1, 2} if family == "meld" else {0, 1})
    if layout.startswith("cosmic"):
        assert dataset.meta.absent_modalities == ("audio", "visual")
        assert sorted(dataset.splits["validation"]["dialogue_id"]) == ["d00", "d01"]  # official


@pytest.mark.parametrize("layout", ["mmgcn-iemocap", "mmgcn-meld", "sdt-iemocap"])
def test_files_without_a_validation_split_carve_a_recorded_seeded_tenth(tmp_path, layout):
    family = layout.split("-")[1]
    path = write_feature_pickle(tmp_path / "f.pkl", layout, n_dialogues=23)
    dataset = load_pickle_source(path, family, family)
    carved = dataset.splits["validation"]["dialogue_id"]
    assert [len(dataset.splits[s]) for s in ("train", "validation", "test")] == [18, 2, 3]
    note = next(n for n in dataset.meta.notes if "carved" in n)
    assert all(d in note for d in carved)
    assert load_pickle_source(path, family, family).splits["validation"]["dialogue_id"] == carved


def test_sdt_meld_trailing_id_list_is_used_as_the_official_dev_split(tmp_path):
    path = write_feature_pickle(tmp_path / "meld.pkl", "sdt-meld", meld_dev=["d07", "d08"])
    dataset = load_pickle_source(path, "meld", "meld")
    assert dataset.splits["validation"]["dialogue_id"] == ["d07", "d08"]
    assert "d07" not in dataset.splits["train"]["dialogue_id"]
    assert any("official dev split" in n for n in dataset.meta.notes)


# --- bad input ---------------------------------------------------------------------------------------------


def _nan(items):
    items["audio"]["d00"][0, 0] = np.nan


def _inf(items):
    items["text"]["d02"][1, 3] = np.inf


def _label(items):
    items["labels"]["d00"][0] = 9


def _short(items):
    items["labels"]["d00"] = items["labels"]["d00"][:-1]


def _dims(items):
    items["visual"]["d01"] = items["visual"]["d01"][:, :10]


def _ragged(items):
    rows = len(items["labels"]["d00"])
    items["text"]["d00"] = [np.zeros(100), np.zeros(99)] + [np.zeros(100)] * (rows - 2)


def _empty(items):
    for key in items:
        items[key]["d00"] = items[key]["d00"][:0]


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (_nan, "dialogue 'd00' has NaN or infinite audio features"),
        (_inf, "dialogue 'd02' has NaN or infinite text features"),
        (_label, "dialogue 'd00' has label 9, outside 0..5"),
        (_short, r"dialogue 'd00' has \d labels but \d+ speakers"),
        (_dims, "dialogue 'd01' has visual features of dim 10, others have 342"),
        (_ragged, "dialogue 'd00' has text feature vectors of different dims across utterances"),
        (_empty, "dialogue 'd00' is empty"),
    ],
)
def test_bad_feature_pickles_fail_with_one_line_naming_file_dialogue_and_problem(tmp_path, corrupt, message):
    path = write_feature_pickle(tmp_path / "bad.pkl", "mmgcn-iemocap", corrupt=corrupt)
    with pytest.raises(BenchmarkError, match=message) as caught:
        load_pickle_source(path, "iemocap", "iemocap")
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_dialogue_in_two_splits_unknown_layouts_and_missing_files_are_refused(tmp_path, home):
    path = write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap")
    content = list(load_pickle(path))
    content[8] = [*content[8], content[7][0]]
    path.write_bytes(pickle.dumps(tuple(content), protocol=2))
    with pytest.raises(BenchmarkError, match=f"{path}: dialogue 'd00' is in both train and test"):
        load_pickle_source(path, "iemocap", "iemocap")
    path.write_bytes(pickle.dumps(([], {}, {}), protocol=2))
    with pytest.raises(BenchmarkError, match=rf"{path}: unknown pickle layout \(3 items\)"):
        load_pickle_source(path, "iemocap", "iemocap")
    content[3] = {d: np.ones((len(v), 300), dtype=np.float32) for d, v in content[2].items()}
    path.write_bytes(pickle.dumps(tuple(content[:8]) + (content[8][:-1],), protocol=2))
    assert load_pickle_source(path, "iemocap", "iemocap").meta.feature_dims["text"] == 300  # any dim imports
    path.write_bytes(b"not a pickle")
    with pytest.raises(BenchmarkError, match=f"{path}: not a readable pickle"):
        load_pickle_source(path, "iemocap", "iemocap")
    with pytest.raises(BenchmarkError, match="missing.pkl: file not found"):
        data.load("iemocap", home, str(tmp_path / "missing.pkl"))


# --- the restricted unpickler ------------------------------------------------------------------------------


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_unpickler_refuses_code_naming_the_class_and_does_not_run_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x": _RunsCode()}, protocol=2))
    with pytest.raises(BenchmarkError, match=rf"{path}: refusing to unpickle (posix|os)\.system"):
        load_pickle(path)
    assert not (tmp_path / "pwned").exists()


def test_unpickler_admits_containers_numbers_strings_and_arrays_of_python2_era_pickles(tmp_path):
    path = tmp_path / "plain.pkl"
    value = ({"a": [1, 2.5, "x", b"raw"]}, {3, 4}, np.arange(6, dtype=np.float32).reshape(2, 3), np.int64(7))
    path.write_bytes(pickle.dumps(value, protocol=2))
    loaded = load_pickle(path)
    assert loaded[0] == value[0] and loaded[1] == value[1] and loaded[3] == 7
    assert np.array_equal(loaded[2], value[2]) and loaded[2].dtype == np.float32
