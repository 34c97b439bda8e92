"""Bad per-utterance tables, round two: each was once accepted in silence (or told the wrong thing). Each
is one line naming the file, the row and the fix, and the earlier import stays the current one."""

from __future__ import annotations

import csv

import datasets
import numpy as np
import pytest

from benchmark import data
from benchmark.data.utterances import TableOptions, UtteranceColumns
from tests.test_data_errors import earlier, refused  # noqa: F401 (earlier: a fixture)
from tests.test_data_tables import IEMOCAP_ROWS, USER_TABLE, write_abstracttts_parquet

TRANSCRIPTS = data.ImportOptions(text_encoder=None)
NAMES = ("dialogue_id", "turn", "speaker", "text", "label", "split")


def _write(path, rows=USER_TABLE, names=NAMES) -> str:
    table = datasets.Dataset.from_dict({name: [r[i] for r in rows] for i, name in enumerate(names)})
    {".csv": table.to_csv, ".parquet": table.to_parquet, ".jsonl": table.to_json}[path.suffix](str(path))
    return str(path)


def _with(index: int, column: int, value) -> list[tuple]:
    rows = [list(r) for r in USER_TABLE]
    rows[index][column] = value
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("suffix", "cell"),
    [(".parquet", ""), (".parquet", "   "), (".parquet", None), (".csv", "")],
)
def test_one_empty_blank_or_missing_text_cell_is_named(tmp_path, home, earlier, suffix, cell):  # noqa: F811
    path = _write(tmp_path / f"t{suffix}", _with(2, 3, cell))
    refused(
        home, path, f"{path}: row 2 of the train table has no text .*--columns text=", earlier, TRANSCRIPTS
    )


def test_a_text_column_that_does_not_exist_is_refused_and_dropping_text_is_said(tmp_path, home, earlier):  # noqa: F811
    path = _write(tmp_path / "t.parquet")
    missing = TableOptions(columns=UtteranceColumns.parse(["text=utterance"]))
    refused(
        home, path, "has no column 'utterance' for the text .*--columns text=COLUMN, or import without text",
        earlier, data.ImportOptions(text_encoder=None, table=missing),
    )  # fmt: skip
    dropped = TableOptions(columns=UtteranceColumns.parse(["text="]))
    refused(
        home, path, "neither text nor audio", earlier, data.ImportOptions(text_encoder=None, table=dropped)
    )


def test_a_non_numeric_turn_is_refused_and_numeric_turns_order_as_numbers(tmp_path, home, earlier):  # noqa: F811
    rows = [(d, str(turn), *rest) for d, turn, *rest in _with(0, 1, "5a")]
    path = _write(tmp_path / "t.csv", rows)
    refused(
        home,
        path,
        f"{path}: row 0 of the train table has turn '5a', not a whole number",
        earlier,
        TRANSCRIPTS,
    )
    rows = [
        ("d1", turn, "anna" if turn % 2 else "ben", f"u{turn}", "sad", "train") for turn in (10, 2, 1, 0, 11)
    ]
    path = _write(tmp_path / "order.csv", rows + list(USER_TABLE[2:]))
    dataset = data.load("iemocap", home, path, TRANSCRIPTS)
    assert dataset.splits["train"]["sentences"][0] == ["u0", "u1", "u2", "u10", "u11"]


def test_a_test_row_of_a_training_dialogue_is_refused(tmp_path, home, earlier):  # noqa: F811
    rows = [*USER_TABLE, ("d1", 2, "anna", "third", "sad", "test")]
    path = _write(tmp_path / "t.parquet", rows)
    refused(
        home, path, f"{path}: dialogue 'd1' has rows in train \\(row 0 of the train table\\) and in test "
        "\\(row 6 of the train table\\): a dialogue belongs to one split", earlier, TRANSCRIPTS,
    )  # fmt: skip


def test_three_speakers_in_an_iemocap_dialogue_are_refused(tmp_path, home, earlier):  # noqa: F811
    path = _write(tmp_path / "t.parquet", [*USER_TABLE, ("d1", 2, "cy", "third", "sad", "train")])
    refused(
        home, path, "dialogue 'd1' has 3 speakers, more than the 2 a dialogue of this dataset has",
        earlier, TRANSCRIPTS,
    )  # fmt: skip
    rows = [*USER_TABLE, ("d1", 2, "cy", "third", "sad", "train")]
    meld = [(*r[:4], ("joy", "anger")[i % 2], r[5]) for i, r in enumerate(rows)]
    # a MELD scene may have more than two speakers
    data.load("meld", home, _write(tmp_path / "meld.parquet", meld), TRANSCRIPTS)


def test_stray_quotes_that_merge_csv_rows_are_refused(tmp_path, home, earlier):  # noqa: F811
    path = tmp_path / "t.csv"
    _write(path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(",first,", ',"first,')  # opens a quoted cell ...
    lines[4] = lines[4].replace(",yo,", ',yo",')  # ... closed two rows later: three rows in one cell
    path.write_text("\n".join(lines) + "\n")
    with open(path, newline="") as handle:
        assert len(list(csv.reader(handle))) == len(lines) - 2  # what a lenient reader makes of it
    refused(
        home,
        path,
        f"{path}: row 1 \\(lines 3-5\\) has a line break inside a quoted cell",
        earlier,
        TRANSCRIPTS,
    )
    path.write_text("\n".join([*lines[:2], lines[2].replace(',"first,', ',"first" x,')]) + "\n")
    refused(home, path, f"{path}: line 3 is not valid CSV", earlier, TRANSCRIPTS)


def test_a_table_with_no_label_column_is_told_so(tmp_path, home, earlier):  # noqa: F811
    names = ("dialogue_id", "turn", "speaker", "text", "emotion", "split")
    for suffix in (".csv", ".parquet"):
        path = _write(tmp_path / f"t{suffix}", names=names)
        refused(home, path, f"{path}: no label column 'label' .*--columns label=COLUMN", earlier, TRANSCRIPTS)
    folder = tmp_path / "files"
    folder.mkdir()
    for split in ("train", "validation", "test"):
        _write(folder / f"{split}.parquet", names=names)
    refused(home, folder, f"{folder}: no label column 'label'", earlier, TRANSCRIPTS)


def _tone(path, hertz: float) -> None:
    import soundfile

    seconds = np.arange(16000) / 16000
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * hertz * seconds)).astype(np.float32), 16000)


def test_an_audio_column_of_file_paths_gets_opensmile_features(tmp_path, home, earlier):  # noqa: F811
    pytest.importorskip("opensmile")
    path = tmp_path / "iemocap.parquet"
    write_abstracttts_parquet(path)
    (tmp_path / "wav").mkdir()
    for i in range(len(IEMOCAP_ROWS)):
        _tone(tmp_path / "wav" / f"{i}.wav", 110.0 * (i + 1))
    table = datasets.Dataset.from_parquet(str(path))
    table = table.add_column("audio", [f"wav/{i}.wav" for i in range(len(IEMOCAP_ROWS))])
    table.to_parquet(str(path))
    dataset = data.load("iemocap", home, str(path), TRANSCRIPTS)
    assert dataset.meta.feature_dims == {"audio": 88}
    rows = dataset.splits["test"].with_format("numpy")[0]["audio"]
    assert rows.shape == (2, 88) and np.isfinite(rows).all() and not np.allclose(rows[0], rows[1])
    (tmp_path / "wav" / "0.wav").unlink()
    refused(
        home,
        path,
        f"{path}: the audio of row 0 of the train table \\(.*0.wav\\) could not be read",
        dataset.meta.fingerprint,
        TRANSCRIPTS,
    )
    table.remove_columns("audio").add_column("audio", list(range(len(IEMOCAP_ROWS)))).to_parquet(str(path))
    refused(
        home,
        path,
        "the audio column 'audio' holds .*, not audio: give file paths",
        dataset.meta.fingerprint,
        TRANSCRIPTS,
    )


def test_float_labels_are_the_integers_they_hold_and_nan_is_a_missing_label(tmp_path, home, earlier):  # noqa: F811
    order = ("neutral", "happy", "sad", "angry", "excited", "frustrated")
    options = data.ImportOptions(text_encoder=None, table=TableOptions(label_order=order))
    rows = [(*r[:4], float(i % 6), r[5]) for i, r in enumerate(USER_TABLE)]
    dataset = data.load("iemocap", home, _write(tmp_path / "f.parquet", rows), options)
    assert dataset.splits["train"][0]["labels"] == [0, 2]  # turn 0: 1.0 (happy), turn 1: 0.0 (neutral)
    rows[3] = (*rows[3][:4], float("nan"), rows[3][5])
    path = _write(tmp_path / "nan.parquet", rows)
    refused(home, path, f"{path}: row 3 of the train table has no label", dataset.meta.fingerprint, options)


def _canonical_folder(folder, speakers: list[int]):
    folder.mkdir()
    for split in ("train", "validation", "test"):
        rows = {"dialogue_id": [split], "speakers": [speakers], "labels": [[0] * len(speakers)]}
        rows["text"] = [np.zeros((len(speakers), 4), dtype=np.float32)]
        datasets.Dataset.from_dict(rows).to_parquet(str(folder / f"{split}.parquet"))
    return folder


def test_canonical_speakers_negative_or_three_in_iemocap_are_refused(tmp_path, home, earlier):  # noqa: F811
    folder = _canonical_folder(tmp_path / "negative", [0, -1])
    refused(home, folder, f"{folder}: dialogue 'train' has a negative speaker id", earlier)
    folder = _canonical_folder(tmp_path / "three", [0, 1, 2])
    refused(home, folder, f"{folder}: dialogue 'train' has 3 speakers, more than the 2", earlier)


def test_truncated_json_lines_and_a_hub_id_without_revision_are_one_line(tmp_path, home, earlier):  # noqa: F811
    path = tmp_path / "t.jsonl"
    path.write_text('{"dialogue_id": "d1", "turn": 0, "spea')
    refused(home, path, f"{path}: could not be read as json files", earlier, TRANSCRIPTS)
    refused(home, "AbstractTTS/IEMOCAP", "not a hub id: .*give a hub dataset as OWNER/NAME@REVISION", earlier)
