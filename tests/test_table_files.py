"""Table files as spreadsheets and other tools save them (issue 32): each is written byte for byte as that
tool lays it out. What can be detected reliably imports exactly what the clean comma-separated UTF-8 file
imports; the rest is one line naming the file, what it is and the fix, and the earlier import stays the
current one."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import tempfile
import zipfile
from pathlib import Path

import datasets
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark import data
from benchmark.data.table_files import read_tables
from benchmark.errors import BenchmarkError
from tests.data_fixtures import write_feature_pickle
from tests.test_data_errors import earlier, refused  # noqa: F401 (earlier: a fixture)
from tests.test_data_tables import USER_TABLE

TRANSCRIPTS = data.ImportOptions(text_encoder=None)
NAMES = ("dialogue_id", "turn", "speaker", "text", "label", "split")
WITH_CAFE = [r if i != 2 else (*r[:3], "café", *r[4:]) for i, r in enumerate(USER_TABLE)]


def _csv(rows=USER_TABLE, separator: str = ",", names=NAMES) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(names)
    writer.writerows(rows)
    return out.getvalue()


def _content(dataset) -> dict:
    columns = ["dialogue_id", "speakers", "labels", "sentences"]
    return {split: table.select_columns(columns).to_dict() for split, table in dataset.splits.items()}


def _clean(tmp_path, home, rows=USER_TABLE) -> dict:
    path = tmp_path / "clean.csv"
    path.write_text(_csv(rows), encoding="utf-8", newline="")
    return _content(data.load("iemocap", home, str(path), TRANSCRIPTS))


def _records(rows=USER_TABLE) -> list[dict]:
    return [dict(zip(NAMES, row, strict=True)) for row in rows]


def _zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


XLSX = _zip("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")  # an .xlsx's layout


READABLE = {  # name -> (file name, bytes, rows it holds)
    "utf-16 (Excel's Unicode Text)": ("t.csv", _csv(WITH_CAFE).encode("utf-16"), WITH_CAFE),
    "utf-8 with a byte-order mark": ("t.csv", codecs.BOM_UTF8 + _csv(WITH_CAFE).encode(), WITH_CAFE),
    "tab-separated": ("t.csv", _csv(separator="\t").encode(), USER_TABLE),
    "tab-separated .tsv": ("t.tsv", _csv(separator="\t").encode(), USER_TABLE),
    "semicolon-separated": ("t.csv", _csv(separator=";").encode(), USER_TABLE),
    "space-separated": ("t.csv", _csv(separator=" ").encode(), USER_TABLE),
    "Excel's sep=, line": ("t.csv", ("sep=,\r\n" + _csv()).encode(), USER_TABLE),
    "Excel's sep=; line": ("t.csv", ("sep=;\r\n" + _csv(separator=";")).encode(), USER_TABLE),
    "gzip-compressed csv": ("t.csv.gz", gzip.compress(_csv().encode()), USER_TABLE),
    "json records under one key": ("t.json", json.dumps({"data": _records()}).encode(), USER_TABLE),
    "json lines with a byte-order mark": (
        "t.jsonl",
        codecs.BOM_UTF8 + "\n".join(json.dumps(r) for r in _records(WITH_CAFE)).encode(),
        WITH_CAFE,
    ),
    "json records under one key, with a byte-order mark": (
        "t.json",
        codecs.BOM_UTF8 + json.dumps({"data": _records(WITH_CAFE)}).encode(),
        WITH_CAFE,
    ),
    "indented json records under one key": (
        "t.json",
        json.dumps({"version": 2, "data": _records()}, indent=2).encode(),
        USER_TABLE,
    ),
}


@pytest.mark.parametrize("case", list(READABLE))
def test_a_table_saved_another_way_imports_what_the_clean_file_imports(tmp_path, home, case):
    name, content, rows = READABLE[case]
    clean = _clean(tmp_path, home, rows)
    path = tmp_path / name
    path.write_bytes(content)
    imported = data.load("iemocap", home, str(path), TRANSCRIPTS)
    assert _content(imported) == clean
    assert data.load("iemocap", home).meta.fingerprint == imported.meta.fingerprint


def test_a_one_megabyte_transcript_is_read_not_called_a_stray_quote(tmp_path, home):
    rows = [r if i != 2 else (*r[:3], "word " * 200_000, *r[4:]) for i, r in enumerate(USER_TABLE)]
    path = tmp_path / "long.csv"
    path.write_text(_csv(rows), encoding="utf-8", newline="")
    imported = data.load("iemocap", home, str(path), TRANSCRIPTS)
    assert imported.splits["train"]["sentences"][1] == ["word " * 200_000]
    assert csv.field_size_limit() == 131072  # the csv module's own limit is back for everyone else


def test_a_compressed_pickle_imports_what_the_pickle_imports(tmp_path, home):
    plain = write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap")
    compressed = tmp_path / "f.pkl.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    unpacked, original = (data.load("iemocap", home, str(p)) for p in (compressed, plain))
    for split, table in original.splits.items():
        assert unpacked.splits[split].data.table.equals(table.data.table)


REFUSED = {  # name -> (file name, bytes, the message after the path)
    "Windows-1252 (cp1252)": (
        "t.csv",
        _csv(WITH_CAFE).encode("cp1252"),
        r"line 4 is not UTF-8 \(byte 0xe9\): it reads as Windows-1252 \(cp1252\) text \('d2,0,ben,café,"
        r"neutral,train'\), which Excel and older editors write: re-save it as UTF-8",
    ),
    "an .xlsx renamed .csv": (
        "t.csv",
        XLSX,
        r"an Excel workbook \(\.xlsx\), not a csv file: export the sheet from Excel with Save As > CSV UTF-8",
    ),
    "a zip archive named .csv": (
        "t.csv",
        _zip("notes.txt", "t.csv"),
        r"a zip archive \(notes.txt, t.csv\), not a csv file: unzip it and pass the table inside",
    ),
    "a legacy .xls renamed .csv": (
        "t.csv",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        r"a legacy Office file \(an Excel \.xls workbook\?\), not a csv file: export the sheet",
    ),
    "gzip under a .csv name": (
        "t.csv",
        gzip.compress(_csv().encode()),
        r"gzip-compressed under a \.csv name: name it t\.csv\.gz \(it is then read decompressed\)",
    ),
    "a .gz name on plain text": ("t.csv.gz", _csv().encode(), "named .gz but not gzip-compressed"),
    "utf-16 without a byte-order mark": (
        "t.csv",
        _csv().encode("utf-16-le"),
        "UTF-16 text without a byte-order mark: re-save it as UTF-8",
    ),
    "utf-16 json": ("t.jsonl", json.dumps(_records()[0]).encode("utf-16"), "JSON in UTF-16: re-save it"),
    "json with two lists of records": (
        "t.json",
        json.dumps({"train": _records()[:3], "test": _records()[3:]}).encode(),
        r"one JSON object holding several lists of records \('train', 'test'\): write one list of records",
    ),
    "a csv named .json": ("t.json", _csv().encode(), r"not JSON records: it starts with .* name it \.csv"),
    "a csv named .parquet": (
        "t.parquet",
        _csv().encode(),
        r"not a parquet file \(it starts with 'dialogue_id",
    ),
    "binary data": (
        "t.csv",
        b"a,b\n\x81\x8d\x01\x02\n",
        r"line 2 is not UTF-8 \(byte 0x81\), nor text in Windows-1252: binary data, or an encoding to name",
    ),
    "a header and no rows": (
        "t.csv",
        _csv([]).encode(),
        "only a header and no rows: write one row per utterance",
    ),
    "an empty list of records": ("t.json", b"[ ]\n", "an empty list, no records"),
    "a truncated .csv.gz": (
        "t.csv.gz",
        gzip.compress(_csv(USER_TABLE * 500).encode())[:300],
        r"a damaged gzip file \(Compressed file ended before the end-of-stream marker was reached\)",
    ),
    "unquoted spaces in a space-separated file": (
        "t.csv",
        _csv(separator=" ").replace('"', "").replace("second", "the second").encode(),
        r"row 0 \(line 2\) has 7 cells where the header has 6 \(the file is space-separated UTF-8\): quote a "
        "cell that holds a space",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_file_that_is_not_what_its_name_says_is_named_with_the_fix(tmp_path, home, earlier, case):  # noqa: F811
    name, content, message = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(content)
    refused(home, path, f"{path}: {message}", earlier, TRANSCRIPTS)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.xlsx", XLSX, r"an Excel workbook \(\.xlsx\), not a pickle file: export the sheet"),
        ("t.pkl", XLSX, r"an Excel workbook \(\.xlsx\), not a pickle file"),
        ("t.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "a legacy Office file"),
    ],
)
def test_a_workbook_under_any_name_is_named(tmp_path, home, earlier, name, content, message):  # noqa: F811
    path = tmp_path / name
    path.write_bytes(content)
    refused(home, path, f"{path}: {message}", earlier, TRANSCRIPTS)


def test_a_pickle_named_csv_is_named(tmp_path, home, earlier):  # noqa: F811
    path = tmp_path / "t.csv"
    path.write_bytes(write_feature_pickle(tmp_path / "f.pkl", "mmgcn-iemocap").read_bytes())
    refused(home, path, f"{path}: a Python pickle under a .csv name: name it .pkl", earlier, TRANSCRIPTS)


def test_a_parquet_file_named_csv_is_named(tmp_path, home, earlier):  # noqa: F811
    parquet = tmp_path / "t.parquet"
    datasets.Dataset.from_list(_records()).to_parquet(str(parquet))
    path = tmp_path / "t.csv"
    path.write_bytes(parquet.read_bytes())
    refused(home, path, f"{path}: a parquet file under a .csv name: name it .parquet", earlier, TRANSCRIPTS)


def _split_folder(folder: Path, names: dict[str, str]) -> Path:
    """The user table's rows as one csv per split, under the file names given (split -> name)."""
    folder.mkdir()
    for split, name in names.items():
        wanted = "dev" if split == "validation" else split
        (folder / name).write_text(_csv([r for r in USER_TABLE if r[5] == wanted]), encoding="utf-8")
    return folder


def test_a_folder_of_train_dev_test_csv_imports_dev_as_validation(tmp_path, home):
    folder = _split_folder(
        tmp_path / "splits", {"train": "train.csv", "validation": "dev.csv", "test": "test.csv"}
    )
    imported = data.load("iemocap", home, str(folder), TRANSCRIPTS)
    assert imported.splits["validation"]["sentences"] == [["yo"]]
    assert imported.splits["test"]["sentences"] == [["ok", "no"]]


def test_a_folder_without_a_validation_file_names_what_it_found(tmp_path, home, earlier):  # noqa: F811
    folder = _split_folder(tmp_path / "splits", {"train": "train.csv", "test": "test.csv"})
    refused(
        home, folder, rf"{folder}: no validation file \(found test.csv, train.csv\): expected validation "
        r"\(or valid, val, dev\)\.parquet, \.jsonl or \.csv", earlier, TRANSCRIPTS,
    )  # fmt: skip
    (folder / "dev.csv").write_text(_csv(USER_TABLE[3:4]), encoding="utf-8")
    (folder / "validation.csv").write_text(_csv(USER_TABLE[3:4]), encoding="utf-8")
    refused(
        home, folder, f"{folder}: both validation.* and dev.* files: keep one of them as the validation split",
        earlier, TRANSCRIPTS,
    )  # fmt: skip


def test_split_files_saved_differently_are_named(tmp_path, home, earlier):  # noqa: F811
    folder = _split_folder(
        tmp_path / "splits", {"train": "train.csv", "validation": "dev.csv", "test": "test.csv"}
    )
    (folder / "test.csv").write_text(_csv(USER_TABLE[4:], separator=";"), encoding="utf-8")
    refused(
        home, folder, f"{folder}: the split files are saved differently .*test.csv is semicolon-separated UTF-8",
        earlier, TRANSCRIPTS,
    )  # fmt: skip


# --- the property: any small table, in any of the encodings and separators a tool may choose ---

# [choice] Letters whose Windows-1252 byte is a UTF-8 lead byte (0xC0-0xFF): a cp1252 file holding one is
# never valid UTF-8. A cp1252 file whose bytes happen to be valid UTF-8 ("Ã©" is "é") cannot be told
# from a UTF-8 file by any reader, so the property does not claim it.
ALPHABET = "abcXYZ019 ,;\t\"'-_.!?éèêüçñàöÉß"
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252")
cells = st.text(ALPHABET, max_size=12)
rows = st.lists(
    st.tuples(cells, st.integers(0, 99), cells, cells, st.sampled_from(["happy", "sad"]), cells),
    min_size=1,
    max_size=5,
)


def _read_once(folder: Path, name: str, content: bytes):
    path = folder / name
    path.write_bytes(content)
    return read_tables(path, {"train": [path]}, folder / "cache")["train"]


def _same_content_or_named(table_rows, encoding: str, separator: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        clean = _read_once(folder, "clean.csv", _csv(table_rows).encode("utf-8"))
        try:
            saved = _read_once(folder, "saved.csv", _csv(table_rows, separator).encode(encoding))
        except BenchmarkError as err:
            message = str(err)
            assert "\n" not in message and "cp1252" in message, message
            assert encoding == "cp1252" and not _csv(table_rows).isascii()
            return
        assert saved.features == clean.features
        assert saved.to_pandas().equals(clean.to_pandas())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.sampled_from(ENCODINGS), st.sampled_from([",", ";", "\t"]))
def test_any_table_in_any_encoding_and_separator_reads_the_same_or_names_the_encoding(
    table_rows, encoding, separator
):
    _same_content_or_named(table_rows, encoding, separator)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.sampled_from(ENCODINGS), st.sampled_from([",", ";", "\t"]))
def test_many_tables_in_any_encoding_and_separator_read_the_same_or_name_the_encoding(
    table_rows, encoding, separator
):
    _same_content_or_named(table_rows, encoding, separator)
