"""A stored run record is what was computed: its config hash is recomputed from its config and its
checksum over its results, both when `run` would reuse it and when `report` reads it. A record that
fails is refused in one line naming it and the fix (`--force`), and is never overwritten by the refusal."""

from __future__ import annotations

import errno
import json
import shutil

import pytest
import torch

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.executors.local import run_key
from benchmark.home import Home
from benchmark.report.load import load_records
from benchmark.store.records import RunKey, results_checksum
from benchmark.store.runs import RunStore
from tests.data_fixtures import write_feature_pickle

KEY = RunKey("text-teacher", "none", "iemocap", "smoke", 0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Home:
    """One smoke run on an imported feature pickle, trained once for the module."""
    folder = tmp_path_factory.mktemp("trained")
    home = Home(folder / "home")
    data.load("iemocap", home, str(write_feature_pickle(folder / "a.pkl", "mmgcn-iemocap")))
    run_key(KEY, home)
    return home


@pytest.fixture
def home(trained, tmp_path) -> Home:
    """Each test's own copy of the trained home: the tests edit, truncate and replace its record."""
    shutil.copytree(trained.root, tmp_path / "home")
    return Home(tmp_path / "home")


@pytest.fixture
def stored(home):
    """The trained run's record path."""
    return RunStore(home).path(KEY)


def _run(home, capsys, *extra) -> tuple[int, str]:
    code = cli_main(
        ["run", "--model", "text-teacher", "--dataset", "iemocap", "--profile", "smoke", "--seeds", "0",
         "--home", str(home.root), *extra]
    )  # fmt: skip
    return code, capsys.readouterr().err.strip()


def _edit(path, change) -> str:
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))
    return path.read_text()


def test_a_stored_record_carries_the_checksum_of_its_results(stored):
    raw = json.loads(stored.read_text())
    assert raw["checksum"] == results_checksum(raw)


def test_a_hand_edited_result_is_refused_by_run_and_report_until_retrained(stored, home, capsys):
    edited = _edit(stored, lambda raw: raw["test"].update(weighted_f1=0.99))
    code, err = _run(home, capsys)
    assert code == 2 and "\n" not in err
    assert err.startswith(f"error: {stored}: its results do not match its checksum")
    assert (
        "python -m benchmark run --model text-teacher --dataset iemocap --profile smoke --seeds 0 --force"
        in err
    )
    assert stored.read_text() == edited  # refused, not overwritten
    records, skipped = load_records(home)
    assert records == [] and skipped == [f"skipping {err.removeprefix('error: ')}"]
    code, _ = _run(home, capsys, "--force")
    assert code == 0 and RunStore(home).read(KEY).test.weighted_f1 != 0.99


def test_an_edited_config_with_its_old_hash_is_refused(stored, home, capsys):
    def more_epochs(raw):
        raw["config"]["train"]["epochs"] = 400
        raw["checksum"] = results_checksum(raw)  # even with a matching checksum, the hash must match

    edited = _edit(stored, more_epochs)
    code, err = _run(home, capsys)
    assert code == 2 and "its config does not hash to its config_hash" in err and "--force" in err
    assert stored.read_text() == edited


def test_a_record_written_before_checksums_is_verified_by_its_config_hash(stored, home):
    first = RunStore(home).read(KEY)
    _edit(stored, lambda raw: raw.pop("checksum"))
    assert run_key(KEY, home).train_seconds == first.train_seconds  # reused, not retrained


def test_a_truncated_record_is_one_line_and_force_replaces_it(stored, home, capsys):
    stored.write_text(stored.read_text()[:100])
    code, err = _run(home, capsys)
    assert code == 2 and "\n" not in err
    assert err.startswith(f"error: {stored}: not a readable run record (JSONDecodeError")
    assert err.endswith("--force` (it is replaced), or delete it")
    code, _ = _run(home, capsys, "--force")
    assert code == 0 and RunStore(home).read(KEY) is not None


def test_a_disk_filling_while_weights_are_saved_keeps_the_earlier_run(stored, home, capsys, monkeypatch):
    weights = RunStore(home).weights_path(KEY)
    before = {p: p.read_bytes() for p in (stored, weights)}
    save = torch.save

    class FullDisk:
        """A file on a disk that fills after the first few kilobytes."""

        def __init__(self, handle) -> None:
            self.handle, self.written = handle, 0

        def write(self, chunk) -> int:
            self.written += len(chunk)
            if self.written > 4096:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(chunk)

        def flush(self) -> None:
            self.handle.flush()

    monkeypatch.setattr(torch, "save", lambda obj, handle: save(obj, FullDisk(handle)))
    code, err = _run(home, capsys, "--force")
    err = err.splitlines()[-1]  # after the progress display's lines, one line says why
    assert code == 2
    assert err.startswith(
        "error: No space left on device: free some space, or choose a folder on another disk"
    )
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in stored.parent.iterdir()) == sorted(p.name for p in before)


def test_a_resumed_sweep_says_what_is_stored_and_what_will_train(stored, home, capsys):
    code = cli_main(
        ["run", "--model", "text-teacher", "--dataset", "iemocap", "--profile", "smoke", "--seeds", "0", "1",
         "--home", str(home.root)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("plan: 2 runs: text-teacher (1 stored, 1 to train); 1 at a time on cpu")
    assert "run 1/2 stored: text-teacher on iemocap seed 0" in err
    assert "run 2/2 done: text-teacher on iemocap seed 1" in err
