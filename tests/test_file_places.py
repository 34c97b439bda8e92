"""Where a file the suite reads or writes is not what it should be (issue 32): a folder where a file
belongs, a read-only home, a non-UTF-8 locale with a non-ASCII home. Each is one line naming the path
and what is actually wrong, never "choose a writable folder" for a folder, nor a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from benchmark import files
from benchmark.commands.cli import main as cli_main
from benchmark.files import atomic_write_json, describe_os_error
from benchmark.home import PROJECT_ROOT
from tests.test_table_files import _csv


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_a_folder_where_a_written_file_belongs_is_named_not_its_temporary(tmp_path):
    record = tmp_path / "runs" / "key.json"
    record.mkdir(parents=True)
    with pytest.raises(IsADirectoryError) as caught:
        atomic_write_json(record, {"a": 1})
    assert describe_os_error(caught.value) == (
        f"Is a directory: {record}: a folder stands where a file belongs: move that folder away (or pass a "
        "file, not a folder)"
    )
    assert record.is_dir() and [p.name for p in record.parent.iterdir()] == ["key.json"]  # no temporary left


def test_report_names_an_index_that_is_a_folder(tmp_path, capsys):
    index = tmp_path / "home" / "reports" / "index.md"
    index.mkdir(parents=True)
    assert cli_main(["report", "--home", str(tmp_path / "home")]) == 2
    assert _error(capsys) == (
        f"error: Is a directory: {index}: a folder stands where a file belongs: move that folder away (or pass "
        "a file, not a folder)"
    )
    assert index.is_dir()


@pytest.mark.parametrize(
    ("code", "strerror", "fix"),
    [
        (
            errno.EROFS,
            "Read-only file system",
            "it is on a read-only file system: choose a home on a writable disk",
        ),
        (errno.EACCES, "Permission denied", "you may not read or write it: give yourself access"),
    ],
)
def test_report_in_a_read_only_home_says_so(tmp_path, capsys, monkeypatch, code, strerror, fix):
    home = tmp_path / "home"
    (home / "reports").mkdir(parents=True)

    def refuse(*args, dir, **kwargs):  # what a read-only mount (or another owner's folder) answers root too
        raise OSError(code, strerror, os.path.join(dir, ".index.md.abc123.tmp"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    assert cli_main(["report", "--home", str(home)]) == 2
    assert _error(capsys).startswith(f"error: {strerror}: {home / 'reports'}: {fix}")


def test_check_names_a_reference_that_is_a_folder(tmp_path, capsys):
    assert cli_main(["check", "--reference", str(tmp_path), "--home", str(tmp_path / "home")]) == 2
    assert _error(capsys).startswith(
        f"error: Is a directory: {tmp_path}: a folder stands where a file belongs"
    )


def _under_the_c_locale(home, *command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmark", *command, "--home", str(home)],
        cwd=PROJECT_ROOT, env=os.environ | {"LC_ALL": "C", "PYTHONUTF8": "0"}, capture_output=True, text=True,
        encoding="utf-8", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.slow  # a second interpreter, importing the suite under the C locale: ~10 s for an empty report
def test_report_in_a_non_ascii_home_under_the_c_locale(tmp_path):
    _under_the_c_locale(tmp_path / "hömé", "report")
    assert (tmp_path / "hömé" / "reports" / "index.md").is_file()


@pytest.mark.slow
def test_an_import_into_a_non_ascii_home_under_the_c_locale(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(_csv(), encoding="utf-8")
    _under_the_c_locale(
        tmp_path / "hömé", "data", "--dataset", "iemocap", "--source", str(table), "--text-encoder", "none"
    )
    assert list((tmp_path / "hömé" / "results" / "cache" / "datasets").glob("*/meta.json"))
