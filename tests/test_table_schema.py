"""Bad per-utterance tables, round three: every table is checked against its layout's declarative schema
(benchmark/data/table_schema.py), a word is never a missing value, content that carries no data is
refused, and the import cache is keyed by every setting that changes what is read. Each refusal is one
line naming the file, the row, the column and the fix, and the earlier import stays the current one."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import datasets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data.class_weighting import INVERSE_FREQUENCY, inverse_train_validation_frequency
from benchmark.data.utterances import TableOptions, UtteranceColumns
from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.report.tables import mean_std, variants_of
from benchmark.training.metrics import split_metrics
from tests.data_fixtures import write_feature_pickle
from tests.test_bad_tables import NAMES, _with, _write
from tests.test_data_errors import earlier, refused  # noqa: F401 (earlier: a fixture)
from tests.test_data_tables import USER_TABLE, write_meld_release
from tests.test_report import fixture_record

TRANSCRIPTS = data.ImportOptions(text_encoder=None)


def _options(**table) -> data.ImportOptions:
    return data.ImportOptions(text_encoder=None, table=TableOptions(**table))


def _sentences(dataset, split: str = "train") -> dict[str, list[str]]:
    rows = dataset.splits[split]
    return dict(zip(rows["dialogue_id"], rows["sentences"], strict=True))


# --- words that look like missing values, ids that look like numbers ------------------------------------


def test_none_na_and_null_in_a_csv_are_the_words_they_are(tmp_path, home):
    rows = _with(0, 3, "NA")
    rows[1] = ("d1", 0, "ben", "None", "happy", "train")
    rows[2] = ("d2", 0, "NA", "null", "neutral", "train")
    dataset = data.load("iemocap", home, _write(tmp_path / "t.csv", rows), TRANSCRIPTS)
    assert _sentences(dataset) == {"d1": ["None", "NA"], "d2": ["null"]}
    assert dataset.splits["train"]["speakers"] == [[0, 1], [0]]  # the speaker named NA is a speaker


def test_dialogue_ids_00_and_0_are_two_dialogues(tmp_path, home):
    rows = [
        ("00", 0, "ann", "first", "sad", "train"),
        ("0", 0, "ben", "second", "happy", "train"),
        *((d.removeprefix("d"), *rest) for d, *rest in USER_TABLE[2:]),  # every id a number
    ]
    dataset = data.load("iemocap", home, _write(tmp_path / "t.csv", rows), TRANSCRIPTS)
    assert _sentences(dataset) == {"00": ["first"], "0": ["second"], "2": ["hi"]}


def _meld_release(folder):
    dialogue = [("Hi.", "Ross", "joy"), ("No.", "Rachel", "anger")]
    write_meld_release(folder, {split: [dialogue, dialogue] for split in ("train", "validation", "test")})
    return folder


def test_a_meld_dialogue_id_that_is_not_a_whole_number_is_refused(tmp_path, home):
    folder = _meld_release(tmp_path / "MELD")
    good = data.load("meld", home, str(folder), TRANSCRIPTS).meta.fingerprint
    train = folder / "train_sent_emo.csv"
    lines = train.read_text().splitlines()
    cells = lines[3].split(",")
    cells[5] = "1a"  # Dialogue_ID of the third utterance: "1a" once became a fifth dialogue
    lines[3] = ",".join(cells)
    train.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchmarkError) as caught:
        data.load("meld", home, str(folder), TRANSCRIPTS)
    assert str(caught.value) == (
        f"{folder}: row 2 of the train table has dialogue id '1a', not a whole number (column 'Dialogue_ID'): "
        "fix the dialogue column (or name another with --columns dialogue=COLUMN)"
    )
    assert data.load("meld", home).meta.fingerprint == good


# --- content that is no data --------------------------------------------------------------------------


def test_a_table_of_one_class_is_refused(tmp_path, home, earlier):  # noqa: F811
    rows = [(*r[:4], "sad", r[5]) for r in USER_TABLE]
    path = _write(tmp_path / "t.csv", rows)
    refused(home, path, f"{path}: every training utterance has the same class \\(sad\\): a classifier", earlier,
            TRANSCRIPTS)  # fmt: skip


def test_a_class_missing_from_training_is_advised_with_a_fix_that_exists(tmp_path, home):
    dataset = data.load("iemocap", home, _write(tmp_path / "t.csv"), TRANSCRIPTS)  # no excited in training
    with pytest.raises(BenchmarkError, match="class 'excited' has no utterance") as caught:
        inverse_train_validation_frequency(dataset, INVERSE_FREQUENCY)
    assert "class_weighting 'none'" not in str(caught.value)  # no option sets it
    assert "re-import the data with utterances of every class in its training split" in str(caught.value)


def test_a_test_split_missing_classes_is_a_warning(tmp_path, home):
    dataset = data.load("iemocap", home, _write(tmp_path / "t.csv"), TRANSCRIPTS)
    assert (
        "warning: the test split holds 2 of the 6 classes (none of happy, sad, neutral, angry): their test F1 "
        "is undefined, the report marks them absent and averages macro-F1 over the others"
    ) in dataset.meta.notes


def test_the_data_command_prints_the_warning_as_a_warning(tmp_path, home, capsys):
    path = _write(tmp_path / "t.csv")
    arguments = ["data", "--dataset", "iemocap", "--source", path, "--text-encoder", "none"]
    assert cli_main([*arguments, "--home", str(home.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("warning: the test split holds 2 of the 6 classes") for line in lines)


def test_classes_absent_from_the_test_split_are_marked_absent_not_scored_zero():
    labels, predicted = np.array([4, 5, 4, 5]), np.array([4, 5, 0, 5])
    metrics = split_metrics(labels, predicted, ["happy", "sad", "neutral", "angry", "excited", "frustrated"])
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 1) / 2)  # over the two classes the split holds
    records = [dataclasses.replace(fixture_record("summer", seed), test=metrics) for seed in (0, 1)]
    variant = variants_of(records)[0]
    assert mean_std(variant.values("happy")) == "absent"
    assert mean_std(variant.values("excited")) == "66.67 ± 0.00"


def _canonical_folder(folder, text: np.ndarray):
    folder.mkdir()
    for split in ("train", "validation", "test"):
        rows = {"dialogue_id": [split], "speakers": [[0, 1]], "labels": [[0, 1]], "text": [text]}
        datasets.Dataset.from_dict(rows).to_parquet(str(folder / f"{split}.parquet"))
    return folder


def test_a_finite_feature_beyond_float32_is_named_not_called_nan(tmp_path, home, earlier):  # noqa: F811
    folder = _canonical_folder(tmp_path / "files", np.array([[1e300, 1.0], [2.0, 3.0]]))
    refused(home, folder, f"{folder}: dialogue 'train' has a text feature of 1e\\+300, beyond the float32 range",
            earlier)  # fmt: skip


def test_complex_features_are_refused(tmp_path, home, earlier):  # noqa: F811
    def complex_text(items):
        items["text"]["d00"] = items["text"]["d00"] + 1j

    path = write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap", corrupt=complex_text)
    refused(
        home, path, f"{path}: dialogue 'd00' has complex text features: features are real numbers", earlier
    )


def test_an_all_zero_modality_is_imported_as_absent_and_said(tmp_path, home):
    def silent_audio(items):
        items["audio"] = {d: np.zeros_like(v) for d, v in items["audio"].items()}

    path = write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap", corrupt=silent_audio)
    dataset = data.load("iemocap", home, str(path))
    assert dataset.meta.absent_modalities == ("audio",)
    assert "audio" not in dataset.splits["train"].column_names and "audio" not in dataset.meta.lineage
    assert (
        "warning: every audio feature is zero, the way a source writes a modality it lacks: imported as absent"
        in dataset.meta.notes
    )


def test_labels_that_are_lists_are_one_line(tmp_path, home, earlier):  # noqa: F811
    rows = [(*r[:4], [r[4], "sad"], r[5]) for r in USER_TABLE]
    path = _write(tmp_path / "t.parquet", rows)
    refused(home, path, f"{path}: row 0 of the train table has label a list of 2 values, not one class name or "
            "integer \\(column 'label'\\)", earlier, TRANSCRIPTS)  # fmt: skip


def test_a_struct_text_column_is_named_a_struct(tmp_path, home, earlier):  # noqa: F811
    rows = [(*r[:3], {"en": r[3], "lang": "en"}, *r[4:]) for r in USER_TABLE]
    path = _write(tmp_path / "t.parquet", rows)
    refused(home, path, f"{path}: row 0 of the train table has text a struct with fields en, lang, not a "
            "sentence \\(column 'text'\\): give one sentence per row", earlier, TRANSCRIPTS)  # fmt: skip


# --- the import cache -----------------------------------------------------------------------------------

ORDER = ("happy", "sad", "neutral", "angry", "excited", "frustrated")


def test_a_table_read_with_other_settings_is_another_import(tmp_path, home):
    rows = [(*r[:4], str(ORDER.index(r[4])), r[5]) for r in USER_TABLE]
    path = _write(tmp_path / "t.csv", rows)
    wrong = data.load("iemocap", home, path, _options(label_order=tuple(reversed(ORDER))))
    right = data.load("iemocap", home, path, _options(label_order=ORDER))
    assert wrong.meta.fingerprint != right.meta.fingerprint
    assert right.splits["train"][0]["labels"] == [0, 1]  # d1: happy (turn 0), sad (turn 1)
    assert wrong.splits["train"][0]["labels"] == [5, 4]  # happy read as frustrated, sad as excited
    assert data.load("iemocap", home).meta.fingerprint == right.meta.fingerprint
    as_text = data.load(
        "iemocap", home, path, _options(columns=UtteranceColumns.parse(["text=label"]), label_order=ORDER)
    )
    assert _sentences(as_text)["d1"] == ["0", "1"]  # the mapping read, not the cached import
    again = data.load("iemocap", home, path, _options(label_order=ORDER))
    assert again.meta.fingerprint == right.meta.fingerprint  # the same settings find their cache


def test_default_table_settings_keep_the_fingerprint_imports_had():
    assert TableOptions().identity() == {}
    assert TableOptions(drop_labels=("xxx",)).identity() == {"drop_labels": ("xxx",)}


# --- any table: the clean content, or one line ----------------------------------------------------------

# Per column: cells a reader may get wrong though they are valid, and cells that are not
NA_WORDS = ("NA", "None", "null", "NaN", "nan", "n/a", "#N/A", "NULL", "0", "007")
TRICKY = (
    ("0", "00", "007"),
    ("01", " 3", "2.0"),
    NA_WORDS,
    NA_WORDS,
    ("Sad", "hap", "HAPPY ", "neu"),
    ("Test", "val"),
)
INVALID = ((" ", "", "1.5"), ("x", "2.5", ""), ("", " "), ("", "  "), ("joyful", "3", ""), ("holdout", ""))


@st.composite
def tables(draw) -> list[tuple]:
    """USER_TABLE (a valid table, its ids all numbers or not) with some cells replaced by valid values
    readers get wrong (ids that look like integers, words that look like missing values), and at most one
    by an invalid value."""
    numeric = draw(st.booleans())
    rows = [[d.removeprefix("d") if numeric else d, *rest] for d, *rest in USER_TABLE]
    for row in rows:
        for column, values in enumerate(TRICKY):
            if draw(st.integers(0, 3)) == 0:
                row[column] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        row, column = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(NAMES) - 1))
        rows[row][column] = draw(st.sampled_from(INVALID[column]))
    return [tuple(row) for row in rows]


def _content(dataset) -> dict:
    """Per split, each dialogue's sentences, labels and speakers."""
    return {
        split: {row["dialogue_id"]: (row["sentences"], row["labels"], row["speakers"]) for row in rows}
        for split, rows in dataset.splits.items()
    }


def _import(rows, path: Path) -> dict | str:
    """The import's content, or its error (one line naming the file, the file's name then replaced)."""
    try:
        raw = data.import_source(str(path), "iemocap", "iemocap", Home(path.parent / f"home{path.suffix}"))
    except BenchmarkError as err:
        assert "\n" not in str(err) and str(err).startswith(f"{path}: "), str(err)
        return str(err).replace(str(path), "TABLE")
    written = [str(r[3]) for r in rows]
    sentences = [s for dialogues in _content(raw).values() for s, _, _ in dialogues.values()]
    assert sorted(s for dialogue in sentences for s in dialogue) == sorted(written)  # every row, as written
    ids = {str(r[0]) for r in rows}
    assert {d for dialogues in _content(raw).values() for d in dialogues} <= ids  # 00 is not 0
    return _content(raw)


def _same_as_typed(rows) -> None:
    """A CSV (all text) imports exactly as the same rows stored typed (parquet strings), or both refuse."""
    if not all(isinstance(r[1], int) for r in rows):
        rows = [(d, str(t), *rest) for d, t, *rest in rows]  # one type per column, as a file has it
    with tempfile.TemporaryDirectory() as folder:
        typed = _import(rows, Path(_write(Path(folder) / "t.parquet", rows, NAMES)))
        text = _import(rows, Path(_write(Path(folder) / "t.csv", rows, NAMES)))
    if isinstance(typed, str) and isinstance(text, str):
        return  # the same cell may read differently in each format (an empty CSV cell is missing): both refuse
    assert text == typed


# each example imports two files (a quarter of a second): the default lane draws ten, the slow lane 120
test_any_small_table_imports_as_its_typed_equivalent_or_refuses_in_one_line = settings(
    max_examples=10, deadline=None
)(given(tables())(_same_as_typed))
test_any_table_imports_as_its_typed_equivalent_or_refuses_in_one_line_slow = pytest.mark.slow(
    settings(max_examples=120, deadline=None)(given(tables())(_same_as_typed))
)
