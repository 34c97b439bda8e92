"""Bad places, round two: homes the suite did not make, paths that are not files, a read-only home, an
unreachable hub, a saved folder that points outside itself, bad counts on the command line, and what
killed commands leave behind. Each is one line (or handled and said), and what was there survives."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time

import datasets
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.commands.housekeeping import tidy
from benchmark.files import INCOMING_PREFIX, exclusive, owned_folder
from benchmark.home import HOME_MARKER, PROJECT_ROOT, resolve_home
from tests.test_data_errors import earlier, refused  # noqa: F401 (earlier: a fixture)
from tests.test_data_tables import USER_TABLE

TRANSCRIPTS = data.ImportOptions(text_encoder=None)
NAMES = ("dialogue_id", "turn", "speaker", "text", "label", "split")


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_the_filesystem_root_and_a_folder_of_other_files_are_refused_as_homes(tmp_path, capsys):
    assert cli_main(["report", "--home", "/"]) == 2
    assert _error(capsys).startswith("error: --home /: this folder holds files summer-bench did not make")
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("mine")
    assert cli_main(["report", "--home", str(mine)]) == 2
    assert "(thesis.tex): choose a new or empty folder with --home" in _error(capsys)
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]  # nothing was written there


def test_a_new_or_empty_folder_becomes_a_home_even_with_spaces_and_unicode(tmp_path, capsys):
    empty = tmp_path / "my results é 日本"
    empty.mkdir()
    assert cli_main(["report", "--home", str(empty), "--resamples", "10"]) == 0
    assert (empty / HOME_MARKER).is_file() and (empty / "reports" / "index.md").is_file()
    assert cli_main(["report", "--home", str(empty)]) == 0  # its own reports/ do not make it foreign
    made_before_the_marker = tmp_path / "old"
    (made_before_the_marker / "results" / "runs").mkdir(parents=True)
    assert resolve_home(made_before_the_marker).root == made_before_the_marker.resolve()
    assert resolve_home(None).root == PROJECT_ROOT and not (PROJECT_ROOT / HOME_MARKER).exists()


@pytest.mark.parametrize("resolve", ["device", "fifo", "loop", "dangling"])
def test_a_path_that_is_not_a_regular_file_is_named_as_such(tmp_path, home, earlier, resolve):  # noqa: F811
    path = tmp_path / "source.csv"
    if resolve == "device":
        path = "/dev/zero"
        message = "/dev/zero: not a regular file or folder"
    elif resolve == "fifo":
        os.mkfifo(path)
        message = f"{path}: not a regular file or folder"
    elif resolve == "loop":
        path.symlink_to(tmp_path / "other.csv")
        (tmp_path / "other.csv").symlink_to(path)
        message = f"{path}: cannot be opened \\(Too many levels of symbolic links\\)"
    else:
        path.symlink_to(tmp_path / "gone.csv")
        message = f"{path}: a symbolic link to .*gone.csv, which does not exist"
    refused(home, path, message, earlier, TRANSCRIPTS)


def test_a_read_only_home_is_blamed_not_the_table(tmp_path, home, earlier, monkeypatch):  # noqa: F811
    path = tmp_path / "t.csv"
    datasets.Dataset.from_dict({n: [r[i] for r in USER_TABLE] for i, n in enumerate(NAMES)}).to_csv(str(path))
    real_mkdir = type(home.root).mkdir

    def read_only(self, *args, **kwargs):
        if self.is_relative_to(home.root) and not self.exists():
            raise PermissionError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    if (home.dataset_cache / "hf-datasets").exists():
        import shutil

        shutil.rmtree(home.dataset_cache / "hf-datasets")
    monkeypatch.setattr(type(home.root), "mkdir", read_only)
    refused(
        home, path, f"the home {home.root} is not writable \\(Read-only file system", earlier, TRANSCRIPTS
    )


def test_an_unreachable_hub_is_one_line_within_seconds(home, earlier, monkeypatch):  # noqa: F811
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    refused(
        home,
        "AbstractTTS/IEMOCAP@9f1696a1",
        "could not load AbstractTTS/IEMOCAP@9f1696a1 .*offline\\?",
        earlier,
    )
    assert time.monotonic() - started < 10


def _saved_folder(tmp_path):
    folder = tmp_path / "saved"
    rows = {n: [r[i] for r in USER_TABLE] for i, n in enumerate(NAMES)}
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows)}).save_to_disk(str(folder))
    return folder


def test_a_saved_folder_never_reads_outside_itself(tmp_path, home, earlier):  # noqa: F811
    folder = _saved_folder(tmp_path)
    arrow = next(folder.rglob("*.arrow"))
    outside = tmp_path / "outside.arrow"
    arrow.rename(outside)
    arrow.symlink_to(outside)
    refused(
        home,
        folder,
        f"{folder}: train/{arrow.name} is a symbolic link to {outside}, outside the folder",
        earlier,
    )

    folder = _saved_folder(tmp_path / "second")
    state = folder / "train" / "state.json"
    content = json.loads(state.read_text())
    content["_data_files"][0]["filename"] = "../../outside.arrow"
    state.write_text(json.dumps(content))
    refused(home, folder, f"{state}: names the data file '../../outside.arrow', outside {folder}", earlier)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--resamples", "0"], "argument --resamples: 0 is below 1"),
        (["report", "--resamples", "-5"], "argument --resamples: -5 is below 1"),
        (["run", "--model", "tfn", "--seeds", "-1"], "argument --seeds: -1 is below 0"),
        (["run", "--model", "tfn", "--threads", "0"], "argument --threads: 0 is below 1"),
    ],
)
def test_counts_out_of_range_are_one_line_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)


def test_what_killed_commands_leave_is_cleaned_by_the_next_one(tmp_path, home, capsys):
    record = home.runs / "synthetic-iemocap" / "smoke" / "tfn" / "seed-0.json"
    killed = subprocess.run(
        [sys.executable, "-c", "import sys, pathlib; from benchmark.files import exclusive\n"
         "with exclusive(pathlib.Path(sys.argv[1])): import os; os._exit(9)", str(record)],
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)}, check=False,
    )  # fmt: skip
    assert killed.returncode == 9 and record.with_name("seed-0.json.lock").exists()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    left = home.dataset_cache / f"{INCOMING_PREFIX}{socket.gethostname()}-{int(dead.stdout)}-abc123"
    left.mkdir(parents=True)
    filling = owned_folder(home.dataset_cache, INCOMING_PREFIX)  # this process's: still being filled
    partial = home.dataset_cache / "hf-datasets" / "csv" / "default-1" / "0.0.0" / "abc.incomplete"
    partial.mkdir(parents=True)
    held = home.runs / "synthetic-meld" / "smoke" / "tfn" / "seed-0.json"
    with exclusive(held):
        assert cli_main(["report", "--home", str(home.root), "--resamples", "10"]) == 0
        assert held.with_name("seed-0.json.lock").exists()  # a running process's lock is kept
    assert not record.with_name("seed-0.json.lock").exists()
    assert not left.exists() and filling.exists() and not partial.exists()
    assert tidy(home) == []
