"""Every user table file (csv, tsv, parquet, json, json lines, each optionally gzip-compressed) is opened
here: `sniff` looks at its bytes before any reader does, and `read_tables` hands `datasets` the format it
found.

A table saved by a spreadsheet or another tool is often not the comma-separated UTF-8 a reader assumes:
UTF-16 or Windows-1252 text, tab/semicolon/space separators, Excel's `sep=,` first line, a workbook or a
gzip file under a .csv name, JSON records wrapped in an object. Read blindly, each surfaces later as a
wrong complaint (no label column, a stray quote, a pickle error). What can be detected reliably is read
as it is (a byte-order mark names the encoding, the header line names the separator, a `sep=` line is
skipped, one list of records inside an object is taken); what cannot (a byte that is not UTF-8) is one
line naming the file, what was found and the fix.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import json
import re
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import datasets

from benchmark.errors import BenchmarkError

# Table files by suffix, and the `datasets` builder that reads each; NAME.SUFFIX.gz is read decompressed.
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json"}
GZIP_SUFFIX = ".gz"

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office files: Excel's .xls
PARQUET_MAGIC = b"PAR1"  # at both ends of a complete parquet file
PICKLE_MAGIC, PICKLE_PROTOCOLS = b"\x80", (b"\x02", b"\x03", b"\x04", b"\x05")  # PROTO opcode, version
# Byte-order marks, longest first (UTF-32's little-endian mark begins with UTF-16's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}
EXCEL_SEPARATOR_LINE = re.compile(r'^"?sep=(.)"?$')  # Excel's first line naming the separator
HEAD_BYTES = 1 << 16  # what is sniffed: enough for the header line and the first rows
SAVE_AS_UTF8 = "re-save it as UTF-8 (in Excel: Save As > CSV UTF-8)"


@dataclass(frozen=True)
class TableFormat:
    """How one table file is read: the builder, and for text files the encoding, the separator, the lines
    before the header (Excel's `sep=` line) and, for JSON, the field of an object holding the records."""

    builder: str
    encoding: str = "utf-8"
    separator: str = ","
    lines_before_header: int = 0
    field: str | None = None

    def builder_options(self) -> dict:
        """The keyword arguments of `datasets.load_dataset` that differ from the builder's defaults (a plain
        UTF-8 comma file is read exactly as before)."""
        options: dict = {"encoding": self.encoding} if self.encoding != "utf-8" else {}
        if self.builder == "csv":
            options |= {"sep": self.separator} if self.separator != "," else {}
            options |= {"skiprows": self.lines_before_header} if self.lines_before_header else {}
        if self.field is not None:
            options["field"] = self.field
        return options

    def describe(self) -> str:
        if self.builder != "csv":
            return f"{self.builder}{f' (records under {self.field!r})' if self.field else ''}"
        return f"{SEPARATORS[self.separator]}-separated {ENCODING_NAMES[self.encoding]}"


def table_builder(path: Path) -> str | None:
    """The builder for a file named as a table (`.csv`, `.csv.gz`, ...), None for any other name."""
    suffixes = path.suffixes[-2:] if path.suffix == GZIP_SUFFIX else path.suffixes[-1:]
    return TABLE_SUFFIXES.get(suffixes[0]) if suffixes else None


def read_tables(where: Path, data_files: dict[str, list[Path]], cache_dir: Path) -> datasets.DatasetDict:
    """The splits of `data_files` (split -> its files), every file sniffed first; files read together must
    share one format."""
    formats = {path: _sniff_and_check(path) for paths in data_files.values() for path in paths}
    if len(set(formats.values())) > 1:
        found = ", ".join(f"{path.name} is {found.describe()}" for path, found in formats.items())
        raise BenchmarkError(
            f"{where}: the split files are saved differently ({found}): save them alike (comma-separated "
            "UTF-8 csv, or one of parquet and json lines)"
        )
    found = next(iter(formats.values()))
    files = {split: [str(p) for p in paths] for split, paths in data_files.items()}
    return read_or_explain(
        where,
        f"{found.builder} files",
        lambda: datasets.load_dataset(
            found.builder,
            data_files=files,
            cache_dir=str(cache_dir),
            **found.builder_options(),
            **_as_text(next(iter(formats)), found),
        ),
    )


def _as_text(path: Path, found: TableFormat) -> dict:
    """A CSV's cells as the text they are (benchmark/data/table_schema.py types them): `00` stays apart
    from `0`, and `NA`, `None` or `null` are words; only an empty cell is missing."""
    if found.builder != "csv":
        return {}
    with open_text(path, found.encoding) as handle:
        for _ in range(found.lines_before_header):
            handle.readline()
        header = next(csv.reader(handle, delimiter=found.separator), [])
    return {
        "keep_default_na": False,
        "na_values": [""],
        "features": datasets.Features({name: datasets.Value("string") for name in header}),
    }


def read_or_explain(where: Path, what: str, read):
    """`read()`, with any `datasets`/Arrow failure as one line naming the file, what it should be and the fix."""
    try:
        return read()
    except BenchmarkError:
        raise
    except Exception as err:
        detail = " ".join(str(err).split())[:200] or type(err).__name__
        raise BenchmarkError(
            f"{where}: could not be read as {what} ({type(err).__name__}: {detail}): check every file is complete "
            "and every split has the same columns, or write the files again"
        ) from None


def _sniff_and_check(path: Path) -> TableFormat:
    try:
        found = sniff(path)
        if found.builder == "csv":
            check_csv_rows(path, found)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:  # raised only while decompressing
        raise BenchmarkError(f"{path}: a damaged gzip file ({err}): compress or copy it again") from None
    return found


def sniff(path: Path) -> TableFormat:
    """The format of the table file `path`, or one line naming what the file is instead and the fix."""
    builder = table_builder(path)
    if builder is None:
        raise BenchmarkError(
            f"{path}: not named as a table: name it .csv, .tsv, .parquet, .json or .jsonl (optionally .gz)"
        )
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    compressed = path.suffix == GZIP_SUFFIX
    if compressed != head.startswith(GZIP_MAGIC):
        raise BenchmarkError(
            f"{path}: named .gz but not gzip-compressed: remove the .gz from its name"
            if compressed
            else f"{path}: gzip-compressed under a {path.suffix} name: name it {path.name}.gz (it is then read "
            "decompressed), or decompress it with gunzip"
        )
    if compressed:
        head = _decompressed_head(path)
    if not head:
        raise BenchmarkError(f"{path}: an empty file: copy or write it again")
    refuse_other_kinds(path, head, builder)
    if builder == "parquet":
        _check_parquet(path, head)
        return TableFormat("parquet")
    encoding = _encoding(path, head)
    _check_decodes(path, encoding)
    text = head.decode(encoding, errors="ignore").removeprefix("\ufeff")
    if builder == "json":
        if encoding not in ("utf-8", "utf-8-sig"):  # the json lines reader splits lines on bytes
            raise BenchmarkError(f"{path}: JSON in {ENCODING_NAMES[encoding]}: {SAVE_AS_UTF8}")
        return TableFormat("json", encoding, field=_records_field(path, text, encoding))
    return _csv_format(text, encoding)


def open_text(path: Path, encoding: str):
    """The file as text (decompressed when named .gz), newlines kept for the csv module."""
    if path.suffix == GZIP_SUFFIX:
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _decompressed_head(path: Path) -> bytes:
    with gzip.open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)


def refuse_other_kinds(path: Path, head: bytes, expected: str) -> None:
    """A workbook, an archive, or one format under another's name (`expected`: the format the name says)."""
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
        if any(n.startswith("xl/") for n in names):
            raise BenchmarkError(
                f"{path}: an Excel workbook (.xlsx), not a {expected} file: export the sheet from Excel with "
                "Save As > CSV UTF-8 (Comma delimited) and pass that file"
            )
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise BenchmarkError(
            f"{path}: a zip archive ({shown or 'unreadable'}), not a {expected} file: unzip it and pass the "
            "table inside"
        )
    if head.startswith(OLE_MAGIC):
        raise BenchmarkError(
            f"{path}: a legacy Office file (an Excel .xls workbook?), not a {expected} file: export the sheet "
            "from Excel with Save As > CSV UTF-8 (Comma delimited) and pass that file"
        )
    if expected != "parquet" and head.startswith(PARQUET_MAGIC):
        raise BenchmarkError(f"{path}: a parquet file under a {path.suffix} name: name it .parquet")
    if expected != "pickle" and head[:1] == PICKLE_MAGIC and head[1:2] in PICKLE_PROTOCOLS:
        raise BenchmarkError(f"{path}: a Python pickle under a {path.suffix} name: name it .pkl")


def _check_parquet(path: Path, head: bytes) -> None:
    if not head.startswith(PARQUET_MAGIC):
        text = head[:40].decode("utf-8", errors="replace")
        raise BenchmarkError(
            f"{path}: not a parquet file (it starts with {text!r}): give a text table its own suffix "
            "(.csv, .tsv, .json, .jsonl)"
        )
    if path.suffix != GZIP_SUFFIX:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - len(PARQUET_MAGIC)))
            if handle.read() != PARQUET_MAGIC:
                raise BenchmarkError(f"{path}: a truncated parquet file (no footer): copy or write it again")


def _encoding(path: Path, head: bytes) -> str:
    """The encoding a byte-order mark states, else UTF-8; NUL bytes without one are UTF-16 without its mark
    (every other byte NUL in ASCII text) or no text at all."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        sample = head[:1000]
        alternate = sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
        what = "UTF-16 text without a byte-order mark" if alternate else "binary data (NUL bytes), not text"
        raise BenchmarkError(f"{path}: {what}: {SAVE_AS_UTF8}")
    return "utf-8"


def _check_decodes(path: Path, encoding: str) -> None:
    """Every byte decodes: a text editor's or Excel's legacy encoding is named with the first line it breaks
    (never replaced by U+FFFD, which would import a changed transcript)."""
    if encoding in ("utf-8", "utf-8-sig"):
        opener = gzip.open if path.suffix == GZIP_SUFFIX else open
        with opener(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode(encoding)
                except UnicodeDecodeError as err:
                    raise BenchmarkError(f"{path}: line {number} {_not_utf8(line, err)}") from None
        return
    try:
        with open_text(path, encoding) as handle:
            while handle.read(HEAD_BYTES):
                pass
    except UnicodeDecodeError as err:
        raise BenchmarkError(
            f"{path}: not valid {ENCODING_NAMES[encoding]} though its byte-order mark says so ({err.reason}): "
            f"{SAVE_AS_UTF8}"
        ) from None


def _not_utf8(line: bytes, err: UnicodeDecodeError) -> str:
    """What a line that is not UTF-8 holds, and the encoding it reads in."""
    bad = line[err.start]
    around = slice(max(0, err.start - 20), err.start + 20)
    try:
        legacy = line[around].decode("cp1252").strip()
    except UnicodeDecodeError:
        legacy = ""
    if not legacy or not all(c.isprintable() or c.isspace() for c in legacy):
        return (
            f"is not UTF-8 (byte 0x{bad:02x}), nor text in Windows-1252: binary data, or an encoding to name "
            f"yourself: {SAVE_AS_UTF8}"
        )
    return (
        f"is not UTF-8 (byte 0x{bad:02x}): it reads as Windows-1252 (cp1252) text ({legacy!r}), which "
        f"Excel and older editors write: {SAVE_AS_UTF8}"
    )


def _records_field(path: Path, head: str, encoding: str) -> str | None:
    """Where the records are: None for json lines or a list of records, the key of the one list of records
    in a file holding one object (`{"data": [...]}`)."""
    start = head.lstrip()
    if re.fullmatch(r"\[\s*\]\s*", start):
        raise BenchmarkError(f"{path}: an empty list, no records: write one record per utterance")
    if not start or start[0] == "[":
        return None
    if start[0] != "{":
        looks = " (a comma-separated table? name it .csv)" if "," in start.split("\n", 1)[0] else ""
        raise BenchmarkError(f"{path}: not JSON records: it starts with {start[:40]!r}{looks}")
    first, _, rest = start.partition("\n")
    try:
        json.loads(first)
        if rest.strip():
            return None  # one object per line: json lines
    except ValueError:
        pass
    try:
        with open_text(path, encoding) as handle:
            content = json.load(handle)
    except ValueError:
        return None  # neither json lines nor one JSON value: the reader names where it breaks
    if not isinstance(content, dict):
        return None
    lists = [
        key
        for key, value in content.items()
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
    ]
    if len(lists) > 1:
        raise BenchmarkError(
            f"{path}: one JSON object holding several lists of records ({', '.join(map(repr, lists))}): write "
            "one list of records with a split column, or one file per split in a folder"
        )
    return lists[0] if lists else None


def _csv_format(text: str, encoding: str) -> TableFormat:
    """The separator Excel's `sep=` first line names, else the one that splits the header line into the
    most cells (a comma on ties); a space only when nothing else splits it."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    stated = EXCEL_SEPARATOR_LINE.match(first)
    if stated is not None and stated[1] in SEPARATORS:
        return TableFormat("csv", encoding, stated[1], lines_before_header=1)
    cells = {separator: _cell_count(first, separator) for separator in SEPARATORS}
    best = max((s for s in SEPARATORS if s != " "), key=cells.__getitem__)
    separator = best if cells[best] > 1 else " " if cells[" "] > 1 else ","
    return TableFormat("csv", encoding, separator)


def _cell_count(line: str, separator: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=separator), []))
    except csv.Error:
        return 0


@contextlib.contextmanager
def _any_field_size():
    """Python's csv refuses a cell over 128 KiB (a long transcript is not an error); the limit is lifted
    while a table is checked and restored after."""
    before = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def check_csv_rows(path: Path, found: TableFormat) -> None:
    """Refuse a CSV whose quoting merges lines into one cell (a stray double quote opens a quoted cell that
    swallows the following rows, their labels with them, without any parser complaining) or whose row
    has more or fewer cells than its header (a separator inside an unquoted cell)."""
    separator = SEPARATORS[found.separator]
    with open_text(path, found.encoding) as handle, _any_field_size():
        for _ in range(found.lines_before_header):
            handle.readline()
        skipped = found.lines_before_header
        reader = csv.reader(handle, delimiter=found.separator, strict=True)
        row, end, width = -1, 0, None
        try:
            for row, cells in enumerate(reader, start=-1):  # row -1 is the header
                start, end = end + 1, reader.line_num
                lines = f"lines {start + skipped}-{end + skipped}"
                if any("\n" in cell or "\r" in cell for cell in cells):
                    raise BenchmarkError(
                        f"{path}: row {row} ({lines}) has a line break inside a quoted cell, "
                        "which merges rows: look for a stray double quote there (write a quote inside a cell "
                        'as "" in a quoted cell), or remove the line break'
                    )
                width = len(cells) if width is None else width
                if cells and len(cells) != width:
                    raise BenchmarkError(
                        f"{path}: row {row} (line {end + skipped}) has {len(cells)} cells where the header has "
                        f"{width} (the file is {found.describe()}): quote a cell that holds a {separator} "
                        '("..."), or fill the missing cells'
                    )
        except csv.Error as err:
            raise BenchmarkError(
                f"{path}: line {reader.line_num + skipped} is not valid CSV ({err}): look for a stray double "
                'quote (write a quote inside a cell as "" in a quoted cell)'
            ) from None
    if row < 0 or not width:
        what = "only a header" if width else "no header"
        raise BenchmarkError(f"{path}: {what} and no rows: write one row per utterance under a header line")
