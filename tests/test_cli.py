"""The CLI's sharp edges, tried as a new user would: each ends in one line and a clean exit."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from benchmark.commands.cli import main as cli_main
from benchmark.commands.run import plan_summary
from benchmark.executors import local
from benchmark.files import atomic_write, exclusive
from benchmark.report.tables import mean_std
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.training import runner
from benchmark.training.runner import resolve_runs
from tests.test_report import fixture_record

SMOKE_TFN = ["--model", "tfn", "--dataset", "synthetic-iemocap", "--profile", "smoke", "--seeds", "0"]


def test_help_imports_no_torch():
    code = (
        "import sys\n"
        "from benchmark.commands.cli import build_parser\n"
        "for command in ([], ['run'], ['tune'], ['report'], ['ablate'], ['check'], ['list'], ['data']):\n"
        "    try:\n"
        "        build_parser().parse_args([*command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'pandas', 'matplotlib', 'datasets', 'sklearn') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ctrl_c_during_training_is_one_line_and_leaves_no_lock(home, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "train_run", interrupted)
    assert cli_main(["run", *SMOKE_TFN, "--home", str(home.root)]) == 130
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("interrupted: what was finished is kept") and "Traceback" not in error
    assert not list(home.runs.rglob("*.lock")) and not list(home.runs.rglob("*.json"))


def test_a_failed_run_leaves_no_lock(home, monkeypatch):
    def fails(*args, **kwargs):
        raise RuntimeError("diverged")

    monkeypatch.setattr(runner, "train_run", fails)
    with pytest.raises(RuntimeError):
        local.run_key(RunKey("tfn", "none", "synthetic-iemocap", "smoke", 0), home)
    assert home.runs.exists() and not list(home.runs.rglob("*.lock"))


def test_the_lock_is_removed_and_can_be_taken_again(tmp_path):
    target = tmp_path / "record.json"
    for _ in range(2):
        with exclusive(target):
            assert (tmp_path / "record.json.lock").exists()
        assert not (tmp_path / "record.json.lock").exists()


def test_an_unwritable_home_is_one_line(tmp_path, capsys):
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file where the home should be")
    assert cli_main(["report", "--home", str(not_a_folder)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "--home" in error


def test_list_never_cuts_names_when_piped(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli_main(["list"]) == 0
    shown = capsys.readouterr().out
    assert "synthetic-iemocap" in shown and "…" not in shown


def test_a_typo_in_report_is_did_you_mean_and_keeps_the_index(home, capsys):
    RunStore(home).write(fixture_record("summer", 0))
    assert cli_main(["report", "--home", str(home.root), "--resamples", "20"]) == 0
    index = (home.reports / "index.md").read_text()
    assert "1 runs" in index
    assert cli_main(["report", "--home", str(home.root), "--dataset", "synthetic-iemocapp"]) == 2
    assert "Did you mean 'synthetic-iemocap'?" in capsys.readouterr().err
    assert (home.reports / "index.md").read_text() == index


def test_away_from_a_terminal_each_finished_run_prints_a_line(home, monkeypatch):
    keys = [RunKey("summer", "none", "synthetic-iemocap", "fast", s) for s in (0, 1)]
    monkeypatch.setattr(
        local, "stored_or_trained", lambda run, *a, **k: (fixture_record("summer", run.plan.key.seed), False)
    )
    written = io.StringIO()
    local.run_keys(
        resolve_runs(keys, home), home, console=Console(file=written, force_terminal=False, width=200)
    )
    lines = [line for line in written.getvalue().splitlines() if "done:" in line]
    assert [line.split(":")[0] for line in lines] == ["run 1/2 done", "run 2/2 done"]
    assert lines[0].endswith("%")


def test_one_seed_shows_no_spread():
    assert mean_std([70.34]) == "70.34"
    assert mean_std([70.0, 72.0]) == "71.00 ± 1.41"


def test_run_summer_says_it_trains_its_ablations(capsys):
    keys = runner.plan(["summer", "tfn"], ["synthetic-iemocap"], "smoke", [0])
    summary = plan_summary(keys)
    assert summary.startswith(f"plan: {len(keys)} runs: summer (full, without ")
    assert all(f"without {name}" in summary for name in runner.ablations_of("summer"))
    assert summary.endswith("; tfn")
    with pytest.raises(SystemExit):
        cli_main(["run", "--help"])
    assert "also trains each of SUMMER's registered ablations" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "out.txt", lambda temporary: temporary.write_text("x"))
    finally:
        os.umask(previous)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == mode


def test_list_shows_each_rivals_published_numbers_with_their_source(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    assert cli_main(["list"]) == 0
    rows: dict[str, str] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.count("│") > 3:  # the models table comes first; the named sources' table reuses some names
            rows.setdefault(line.split("│")[1].strip(), line)
    assert "iemocap 72.84, meld 66.74" in rows["multiemo"] and "Shi and Huang" in rows["multiemo"]
    assert "iemocap 74.08" in rows["sdt"] and "—" in rows["tfn"]
