"""Per-utterance tables: the official MELD CSV release, an IEMOCAP copy in the AbstractTTS/IEMOCAP hub
layout, and user tables with named columns, labels by name and stated integer orders. The files are
written here in the exact real layouts."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections import Counter

import datasets
import numpy as np
import pytest

from benchmark import data
from benchmark.data.safe_pickle import load_pickle
from benchmark.data.utterances import TableOptions, UtteranceColumns
from benchmark.errors import BenchmarkError

TRANSCRIPTS = data.ImportOptions(text_encoder=None)
MELD_HEADER = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
               "Season", "Episode", "StartTime", "EndTime"]  # fmt: skip
MELD_CLASSES = ("neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger")


def write_meld_release(folder, splits: dict[str, list[list[tuple[str, str, str]]]]) -> dict[str, Counter]:
    """The three CSVs of the MELD release; `splits`: split -> dialogues -> (utterance, speaker, emotion).
    Returns the emotion counts per split as the CSVs hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {"train": "train_sent_emo.csv", "validation": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
    counts = {}
    for split, dialogues in splits.items():
        counts[split] = Counter()
        with open(folder / names[split], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(MELD_HEADER)
            row = 1
            for dialogue_id, turns in enumerate(dialogues):  # ids restart at 0 in each file
                for utterance_id, (text, speaker, emotion) in enumerate(turns):
                    writer.writerow([row, text, speaker, emotion, "neutral", dialogue_id, utterance_id, 1, 1,
                                     "00:00:01,000", "00:00:02,000"])  # fmt: skip
                    counts[split][emotion] += 1
                    row += 1
    return counts


def test_meld_csv_release_of_the_real_dialogues_imports_with_the_official_counts(shared_data, tmp_path, home):
    """The real MELD utterances and labels (from the shared COSMIC copy), written as the release's CSVs."""
    content = load_pickle(shared_data / "cosmic" / "meld.pkl")
    _, labels, _, sentences, train, test, valid = content[:7]
    speakers = content[0]
    splits = {
        split: [
            [
                (text, f"Friend {int(max(range(9), key=lambda i: who[i]))}", MELD_CLASSES[label])
                for text, who, label in zip(sentences[d], speakers[d], labels[d], strict=True)
            ]  # fmt: skip
            for d in ids
        ]
        for split, ids in (("train", train), ("validation", valid), ("test", test))
    }
    csv_counts = write_meld_release(tmp_path / "MELD.Raw", splits)
    dataset = data.load("meld", home, str(tmp_path / "MELD.Raw"), TRANSCRIPTS)
    summary = data.summarize(dataset)
    shape = {s: (v["dialogues"], v["utterances"]) for s, v in summary["splits"].items()}
    assert shape == {"train": (1038, 9989), "validation": (114, 1109), "test": (280, 2610)}
    for split, row in summary["splits"].items():
        assert row["class_counts"] == {name: csv_counts[split][name] for name in MELD_CLASSES}
    assert dataset.meta.source_kind == "meld-csv"
    first = dataset.splits["train"][0]
    assert first["dialogue_id"] == "train_0" and first["sentences"] == [t for t, _, _ in splits["train"][0]]


def test_meld_turns_follow_utterance_ids_and_speakers_are_numbered_per_dialogue(tmp_path, home):
    dialogues = [[("Hi.", "Ross", "joy"), ("What?", "Rachel", "surprise"), ("Oh no.", "Ross", "sadness")]]
    write_meld_release(
        tmp_path / "meld", {"train": dialogues * 3, "validation": dialogues, "test": dialogues}
    )
    dataset = data.load("meld", home, str(tmp_path / "meld"), TRANSCRIPTS)
    row = dataset.splits["test"][0]
    assert row["dialogue_id"] == "test_0" and row["speakers"] == [0, 1, 0] and row["labels"] == [4, 1, 3]


def test_columns_given_for_the_meld_csv_release_are_refused(tmp_path, home):
    dialogues = [[("Hi.", "Ross", "joy"), ("What?", "Rachel", "surprise")]]
    folder = tmp_path / "meld"
    write_meld_release(folder, {"train": dialogues * 3, "validation": dialogues, "test": dialogues})
    options = data.ImportOptions(
        text_encoder=None, table=TableOptions(columns=UtteranceColumns(text="Sr No."))
    )
    with pytest.raises(BenchmarkError, match=r"MELD's CSV release is always read with its own columns "
                       r"\(Dialogue_ID, Utterance_ID, Speaker, Utterance, Emotion, audio\): leave --columns out"):  # fmt: skip
        data.load("meld", home, str(folder), options)


IEMOCAP_ROWS = [  # (file, transcription, major_emotion) as AbstractTTS/IEMOCAP has them, in a shuffled order
    ("Ses01F_impro01_M001", "What do you mean?", "frustrated"),
    ("Ses01F_impro01_F000", "Excuse me.", "neutral"),
    ("Ses01F_impro01_M000", "Do you have your forms?", "frustrated"),
    ("Ses01F_impro01_F001", "Yeah.", "surprise"),  # outside the six classes: dropped and counted
    ("Ses02M_script01_1_F000", "I'm so happy.", "happy"),
    ("Ses02M_script01_1_M000", "Me too!", "excited"),
    ("Ses03F_impro02_F000", "I miss him.", "sad"),
    ("Ses03F_impro02_M000", "Calm down!", "angry"),
    ("Ses04M_impro03_F000", "Fine.", "neutral"),
    ("Ses04M_impro03_M000", "Whatever.", "other"),
    ("Ses04M_impro03_M001", "Great news!", "excited"),
    ("Ses05F_impro01_F000", "Hello.", "neutral"),
    ("Ses05F_impro01_M000", "Get out!", "angry"),
]


def write_abstracttts_parquet(path, rows=IEMOCAP_ROWS) -> None:
    """The columns of AbstractTTS/IEMOCAP (audio left out here: its tests make their own audio)."""
    emotions = ("frustrated", "angry", "sad", "disgust", "excited", "fear", "neutral", "surprise", "happy")
    table = {"file": [r[0] for r in rows]}
    table |= {e: [float(r[2] == e) for r in rows] for e in emotions}
    table |= {"EmoAct": [2.5] * len(rows), "EmoVal": [2.5] * len(rows), "EmoDom": [2.5] * len(rows)}
    table |= {"gender": [r[0].split("_")[-1][0] for r in rows], "transcription": [r[1] for r in rows]}
    table |= {"major_emotion": [r[2] for r in rows], "speaking_rate": [3.0] * len(rows)}
    table |= {"pitch_mean": [200.0] * len(rows), "pitch_std": [20.0] * len(rows), "volume": [0.1] * len(rows)}
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(table).to_parquet(str(path))


def test_iemocap_in_the_abstracttts_layout_gives_dialogues_turns_classes_and_sessions(tmp_path, home):
    write_abstracttts_parquet(tmp_path / "iemocap" / "data" / "train-00000-of-00001.parquet")
    dataset = data.load("iemocap", home, str(tmp_path / "iemocap" / "data" / "train-00000-of-00001.parquet"),
                        TRANSCRIPTS)  # fmt: skip
    rows = {
        d: (s, y, t)
        for split in ("train", "validation", "test")
        for d, s, y, t in zip(
            *(dataset.splits[split][c] for c in ("dialogue_id", "speakers", "labels", "sentences")),
            strict=True,
        )  # fmt: skip
    }
    # turn order from the utterance numbers, F000 / M000 / M001; 'surprise' and 'other' dropped
    assert rows["Ses01F_impro01"] == (
        [0, 1, 1],
        [2, 5, 5],
        ["Excuse me.", "Do you have your forms?", "What do you mean?"],
    )
    assert rows["Ses04M_impro03"] == ([0, 1], [2, 4], ["Fine.", "Great news!"])
    assert dataset.splits["test"]["dialogue_id"] == ["Ses05F_impro01"]  # session 5 is the test split
    assert len(dataset.splits["validation"]) == 1 and len(dataset.splits["train"]) == 3  # carved, seed fixed
    assert any(
        "dropped 2 utterances outside the 6 classes: other 1, surprise 1" in n for n in dataset.meta.notes
    )


USER_TABLE = [  # dialogue, turn, speaker, text, label, split
    ("d1", 1, "anna", "second", "sad", "train"), ("d1", 0, "ben", "first", "happy", "train"),
    ("d2", 0, "ben", "hi", "neutral", "train"), ("d3", 0, "cy", "yo", "angry", "dev"),
    ("d4", 0, "cy", "ok", "excited", "test"), ("d4", 1, "dee", "no", "frustrated", "test"),
]  # fmt: skip


def _user_table(names=("conv", "idx", "who", "utt", "emo", "part"), rows=USER_TABLE) -> dict:
    return {name: [r[i] for r in rows] for i, name in enumerate(names)}


@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl", "save_to_disk"])
def test_a_user_table_with_named_columns_imports_from_each_file_kind(tmp_path, home, kind):
    table = datasets.Dataset.from_dict(_user_table())
    path = tmp_path / f"table.{kind}"
    {"csv": table.to_csv, "parquet": table.to_parquet, "jsonl": table.to_json, "save_to_disk": table.save_to_disk}[kind](str(path))  # fmt: skip
    columns = UtteranceColumns.parse(["dialogue=conv,turn=idx", "speaker=who,text=utt,label=emo,split=part"])
    options = data.ImportOptions(text_encoder=None, table=TableOptions(columns=columns))
    dataset = data.load("iemocap", home, str(path), options)
    first = dataset.splits["train"][0]
    assert (
        first["dialogue_id"] == "d1"
        and first["sentences"] == ["first", "second"]
        and first["labels"] == [0, 1]
    )
    assert (
        dataset.splits["validation"]["dialogue_id"] == ["d3"]
        and dataset.meta.source_kind == "utterance-table"
    )


def test_unknown_label_names_are_listed_and_integer_labels_need_their_order(tmp_path, home):
    rows = [(*r[:4], "joyful" if i == 0 else r[4], r[5]) for i, r in enumerate(USER_TABLE)]
    names = ("dialogue_id", "turn", "speaker", "text", "label", "split")
    datasets.Dataset.from_dict(_user_table(names, rows)).to_parquet(str(tmp_path / "t.parquet"))
    with pytest.raises(
        BenchmarkError, match=r"label names joyful are not iemocap classes .*--drop-labels joyful"
    ):
        data.load("iemocap", home, str(tmp_path / "t.parquet"), TRANSCRIPTS)
    integers = [(*r[:4], i % 6, r[5]) for i, r in enumerate(USER_TABLE)]
    datasets.Dataset.from_dict(_user_table(names, integers)).to_parquet(str(tmp_path / "i.parquet"))
    with pytest.raises(
        BenchmarkError, match="labels are integers, whose class order the table does not state"
    ):
        data.load("iemocap", home, str(tmp_path / "i.parquet"), TRANSCRIPTS)
    order = ("neutral", "happy", "sad", "angry", "excited", "frustrated")
    options = data.ImportOptions(text_encoder=None, table=TableOptions(label_order=order))
    dataset = data.load("iemocap", home, str(tmp_path / "i.parquet"), options)
    assert dataset.splits["train"][0]["labels"] == [
        0,
        2,
    ]  # turn 0 has label 1 (happy), turn 1 label 0 (neutral)


def test_rows_in_no_split_and_repeated_turns_are_errors_not_drops(tmp_path, home):
    names = ("dialogue_id", "turn", "speaker", "text", "label", "split")
    rows = [*USER_TABLE[:-1], ("d4", 1, "dee", "no", "frustrated", "holdout")]
    datasets.Dataset.from_dict(_user_table(names, rows)).to_parquet(str(tmp_path / "t.parquet"))
    with pytest.raises(
        BenchmarkError, match="row 5 of the train table is in split 'holdout', which is none of train"
    ):
        data.load("iemocap", home, str(tmp_path / "t.parquet"), TRANSCRIPTS)
    rows = [*USER_TABLE[:-1], ("d4", 0, "dee", "no", "frustrated", "test")]
    datasets.Dataset.from_dict(_user_table(names, rows)).to_parquet(str(tmp_path / "t.parquet"))
    with pytest.raises(BenchmarkError, match="dialogue 'd4' has turn 0 twice in the test split"):
        data.load("iemocap", home, str(tmp_path / "t.parquet"), TRANSCRIPTS)


@pytest.fixture
def spoken(tmp_path):
    """Short real speech made here with espeak-ng (never downloaded): one WAV per IEMOCAP_ROWS row."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("SUMMER_BENCH_REQUIRE_SHARED") == "1":
            pytest.fail("espeak-ng is missing: .ci/run installs it, the audio tests are mandatory in CI")
        pytest.skip("espeak-ng is not installed")
    paths = []
    for i, (_, text, _) in enumerate(IEMOCAP_ROWS):
        path = tmp_path / f"utterance{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(path), "-s", str(140 + 10 * i), text], check=True)
        paths.append(path)
    return paths


def test_an_audio_column_gets_opensmile_features_per_utterance(tmp_path, home, spoken):
    path = tmp_path / "iemocap.parquet"
    write_abstracttts_parquet(path)
    table = datasets.Dataset.from_parquet(str(path))
    audio = [{"bytes": p.read_bytes(), "path": p.name} for p in spoken]
    table = table.add_column("audio", audio).cast_column("audio", datasets.Audio(decode=False))
    table.to_parquet(str(path))
    dataset = data.load("iemocap", home, str(path), TRANSCRIPTS)
    assert dataset.meta.feature_dims == {"audio": 88}  # eGeMAPSv02 functionals
    assert dataset.meta.lineage["audio"].startswith("openSMILE eGeMAPSv02 functionals")
    rows = dataset.splits["test"].with_format("numpy")[0]["audio"]
    assert rows.shape == (2, 88) and np.isfinite(rows).all() and not np.allclose(rows[0], rows[1])
