"""Every stored file read through one validating reader (benchmark/stored.py): each bad file, written in
the home's own layout, is one line naming it and the fix (a cache is rebuilt, and that is said), and the
rest of the home keeps working; a report never mixes records of two imports. The property tests feed the
readers every truncation and every JSON value in place of any field: each either reads exactly what the
file holds or raises one line naming the file."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.commands.cli import main as cli_main
from benchmark.data import cache
from benchmark.errors import BenchmarkError
from benchmark.home import REFERENCE_DIR, Home
from benchmark.report import calibration, regression_gate, write_reports
from benchmark.report.claims import ClaimsSummary
from benchmark.report.load import load_groups
from benchmark.store.records import RunKey, RunRecord, TeacherSummary
from benchmark.store.runs import RunStore, read_record, stored_runs, tsne_path
from benchmark.store.studies import read_study, study_path
from benchmark.stored import read_typed
from benchmark.training import costs
from benchmark.training.teachers import _cached_summary
from tests.test_crosscheck import tiny_dataset
from tests.test_report import fixture_record

RETRAIN_TFN = (
    "python -m benchmark run --model tfn --dataset synthetic-iemocap --profile fast --seeds 0 --force"
)


@pytest.fixture
def two_runs(home, monkeypatch) -> Home:
    """A home with full SUMMER's and TFN's run on seed 0, as `run` stores them."""
    monkeypatch.setattr(calibration, "CALIBRATION_PAGE", home.root / "no-calibration-page")
    for variant in ("summer", "tfn"):
        RunStore(home).write(fixture_record(variant, 0))
    return home


def _tfn_path(home: Home) -> Path:
    return RunStore(home).path(RunKey("tfn", "none", "synthetic-iemocap", "fast", 0))


def _report(home: Home, **narrowed) -> list[str]:
    lines: list[str] = []
    write_reports(home, resamples=20, warn=lines.append, **narrowed)
    return lines


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("null", "(null, expected an object (a run record))"),
        ('{"key": {"model": "tf', "(JSONDecodeError: Unterminated string"),
        ("", "(JSONDecodeError: Expecting value"),
    ],
)
def test_a_bad_record_is_skipped_with_the_command_that_retrains_it(two_runs, content, problem):
    path = _tfn_path(two_runs)
    path.write_text(content)
    groups, lines = load_groups(two_runs)
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith(f"skipping {path}: not a readable run record {problem}")
    assert lines[0].endswith(f"retrain it with `{RETRAIN_TFN}` (it is replaced), or delete it")
    assert [r.key.model for r in groups[("synthetic-iemocap", "fast")].records] == ["summer"]
    assert path.read_text() == content  # left as it was


def test_the_report_skips_a_record_holding_null_and_reports_the_others(two_runs):
    path = _tfn_path(two_runs)
    path.write_text("null")
    lines = _report(two_runs)
    assert lines == [f"skipping {path}: not a readable run record (null, expected an object (a run record)): "
                     f"retrain it with `{RETRAIN_TFN}` (it is replaced), or delete it"]  # fmt: skip
    report = (two_runs.reports / "synthetic-iemocap-fast" / "report.md").read_text()
    assert "runs: 1" in report  # SUMMER's record still reported
    assert "1 record file(s) skipped as unreadable" in (two_runs.reports / "index.md").read_text()


def test_a_field_of_the_wrong_type_is_named(two_runs):
    path = _tfn_path(two_runs)
    raw = json.loads(path.read_text())
    raw["test"]["weighted_f1"] = "high"
    path.write_text(json.dumps(raw))
    with pytest.raises(BenchmarkError) as raised:
        read_record(path)
    assert str(raised.value).startswith(
        f'{path}: not a readable run record (test.weighted_f1: "high", expected float)'
    )


def test_an_unreadable_run_store_is_one_line_naming_the_folder(two_runs, monkeypatch, capsys):
    runs = two_runs.runs
    listed = Path.iterdir

    def refused(folder: Path):  # as a folder without read permission answers (root ignores chmod)
        if folder == runs:
            raise PermissionError(13, "Permission denied", str(folder))
        return listed(folder)

    monkeypatch.setattr(Path, "iterdir", refused)
    assert cli_main(["report", "--home", str(two_runs.root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run records" not in err
    assert err.startswith(f"error: {runs}: the run store's folder cannot be read (Permission denied)")


def _with_data(variant: str, seed: int, dataset: str, fingerprint: str):
    record = fixture_record(variant, seed)
    key = dataclasses.replace(record.key, dataset=dataset)
    data = dataclasses.replace(record.data, name=dataset, fingerprint=fingerprint)
    return dataclasses.replace(record, key=key, data=data)


def test_a_report_uses_only_the_records_of_the_current_import(home, monkeypatch):
    monkeypatch.setattr(calibration, "CALIBRATION_PAGE", home.root / "no-calibration-page")
    old, new = "a" * 64, "b" * 64
    store = RunStore(home)
    for variant, seed, fingerprint in (("summer", 0, old), ("tfn", 0, old), ("summer", 1, new)):
        path = store.write(_with_data(variant, seed, "iemocap", fingerprint))
        os.utime(path, ns=(seed, seed))  # the old import's records written first
    # no current import known (a synthetic dataset, or none imported here): the newest record's import
    assert [r.key.seed for r in stored_runs(home, "iemocap", "fast").records] == [1]
    # the current import wins over the newest record
    cache.folder(home, old).mkdir(parents=True)
    cache.remember_import(home, "iemocap", old)
    groups, lines = load_groups(home)
    chosen = groups[("iemocap", "fast")]
    assert sorted(r.key.variant for r in chosen.records) == ["summer", "tfn"]
    assert {r.data.fingerprint for r in chosen.records} == {old}
    assert lines == [
        f"iemocap (fast): left out 1 record(s) of another import of iemocap than {old[:16]}: "
        "retrain them with `python -m benchmark run ...`"
    ]
    assert _report(home) == lines
    report = (home.reports / "iemocap-fast" / "report.md").read_text()
    assert "runs: 2" in report and "mixed data" not in report


def test_a_truncated_current_imports_file_names_its_fix_and_the_report_still_builds(two_runs):
    path = two_runs.dataset_cache / cache.CURRENT_IMPORTS
    path.parent.mkdir(parents=True)
    path.write_text('{"iemocap": "ab')
    with pytest.raises(BenchmarkError) as raised:
        cache.current_import(two_runs, "iemocap")
    message = str(raised.value)
    assert message.startswith(f"{path}: not a readable list of current imports (JSONDecodeError")
    assert "import iemocap again with `python -m benchmark data --dataset iemocap" in message
    lines = _report(two_runs)
    assert len(lines) == 1 and lines[0].startswith(f"{path}: not a readable list of current imports")
    assert (two_runs.reports / "synthetic-iemocap-fast" / "report.md").exists()


def test_the_next_import_rewrites_a_damaged_current_imports_file_and_says_so(home, capsys):
    path = home.dataset_cache / cache.CURRENT_IMPORTS
    path.parent.mkdir(parents=True)
    path.write_text("null")
    cache.remember_import(home, "meld", "c" * 64)
    assert json.loads(path.read_text()) == {"meld": "c" * 64}
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"{path}: not a readable list of current imports (null, expected an object)"
    )


def test_another_reports_truncated_claims_is_left_out_of_the_index_with_a_line(two_runs):
    other = two_runs.reports / "synthetic-meld-fast" / "claims.json"
    other.parent.mkdir(parents=True)
    other.write_text('{"dataset": "synthetic-meld", "prof')
    lines = _report(two_runs, datasets=["synthetic-iemocap"])
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith(f"leaving out of the index: {other}: not a readable report summary")
    assert lines[0].endswith(f"rewrite it with `python -m benchmark report`, or delete {other.parent}")
    index = (two_runs.reports / "index.md").read_text()
    assert "synthetic-iemocap, profile fast" in index and "synthetic-meld" not in index


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda raw: raw.pop("gate_seed"), "(no field 'gate_seed' (Reference))"),
        (
            lambda raw: raw["entries"]["synthetic-meld/tfn"]["metrics"].pop("accuracy"),
            "(entries.synthetic-meld/tfn.metrics has no accuracy)",
        ),  # fmt: skip
        (lambda raw: raw.update(entries=None), "(entries: null, expected an object)"),
    ],
)
def test_a_reference_of_another_shape_is_one_line(tmp_path, edit, problem):
    raw = json.loads((REFERENCE_DIR / "smoke.json").read_text())
    edit(raw)
    path = tmp_path / "smoke.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(BenchmarkError) as raised:
        regression_gate.read_reference(path)
    assert str(raised.value) == (
        f"{path}: not a readable regression-gate reference {problem}: restore it from git, or regenerate "
        "it with `python -m benchmark check --update`"
    )


def test_a_run_record_given_as_the_reference_is_one_line(two_runs):
    path = _tfn_path(two_runs)
    with pytest.raises(BenchmarkError, match=r"not a readable regression-gate reference \(unknown field"):
        regression_gate.read_reference(path)


def _teacher_files(home: Home) -> tuple[Path, Path, TeacherSummary]:
    summary = TeacherSummary(
        {"model": "text-teacher", "dims": [4, 2]}, "d" * 16, 3, 0.5, 0.25, cache_hit=True
    )
    weights = home.teacher_cache / "text-teacher-dddd.pt"
    weights.parent.mkdir(parents=True)
    torch.save({"weight": torch.arange(6.0)}, weights)
    raw = {k: v for k, v in summary.to_json().items() if k != "cache_hit"}
    weights.with_suffix(".json").write_text(json.dumps(raw))
    return weights, weights.with_suffix(".json"), summary


@pytest.mark.parametrize("damaged", ["summary", "weights"])
def test_a_truncated_teacher_cache_is_retrained_and_said_in_one_line(home, capsys, damaged):
    weights, summary_path, summary = _teacher_files(home)
    assert _cached_summary(summary_path, weights, summary.hash, summary.key)[0] == summary
    path = summary_path if damaged == "summary" else weights
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert _cached_summary(summary_path, weights, summary.hash, summary.key) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{path}: not a readable teacher cache")
    assert err.rstrip().endswith("the teacher is trained again and the cache entry replaced")


def test_another_teachers_summary_is_not_used(home, capsys):
    weights, summary_path, summary = _teacher_files(home)
    assert _cached_summary(summary_path, weights, "e" * 16, summary.key) is None
    assert "another teacher's" in capsys.readouterr().err


def test_a_truncated_cached_dataset_is_rebuilt_and_said_in_one_line(home, capsys):
    made = []

    def make():
        made.append(1)
        return tiny_dataset("iemocap")

    fingerprint = "c" * 64
    first = cache.cached(home, fingerprint, make)
    arrow = next(cache.folder(home, fingerprint).rglob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:-8])
    again = cache.cached(home, fingerprint, make)
    assert len(made) == 2
    assert again.splits["train"]["dialogue_id"] == first.splits["train"]["dialogue_id"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{cache.folder(home, fingerprint)}: not a readable cached dataset (ValueError: ")
    assert err.rstrip().endswith("it is made again from its source")


def test_a_truncated_tsne_study_is_named_in_the_report_which_still_builds(two_runs):
    path = tsne_path(two_runs, "synthetic-iemocap", "fast")
    path.parent.mkdir(parents=True)
    path.write_text('{"key": {"model": "summer", "abl')
    assert _report(two_runs) == []
    report = (two_runs.reports / "synthetic-iemocap-fast" / "report.md").read_text()
    assert f"Not shown: {path}: not a readable t-SNE study (JSONDecodeError: " in report
    assert "rerun `python -m benchmark study tsne`, which replaces it." in report


def test_a_cost_table_holding_null_is_one_line(tmp_path, monkeypatch):
    table = tmp_path / "costs.json"
    table.write_text('{"entries": null}')
    with pytest.raises(BenchmarkError) as raised:
        costs.read_costs(table)
    assert str(raised.value) == (
        f"{table}: not a readable table of measured costs (entries: null, expected a list): restore it from "
        "git, or measure again with `python scripts/run_cost.py`"
    )


def test_a_tuning_study_that_is_not_sqlite_is_one_line_and_the_report_uses_the_default_runs(two_runs):
    home = two_runs
    path = study_path(home, "synthetic-iemocap", "fast", "tfn")
    path.parent.mkdir(parents=True)
    path.write_text("not a database")
    with pytest.raises(BenchmarkError) as raised:
        read_study(home, "synthetic-iemocap", "fast", "tfn")
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: not a readable tuning study (")
    assert message.endswith("delete it and rerun `tune` for tfn")
    assert _report(home) == [f"{message} (reporting tfn's default runs meanwhile)"]
    assert "runs: 2" in (home.reports / "synthetic-iemocap-fast" / "report.md").read_text()


# ---- property tests: every stored-file reader, every truncation, any JSON value in place of any field

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


def _as_json(value) -> object:
    return json.loads(json.dumps(value))


def _record_reader(path: Path) -> object:
    return read_record(path).to_json()


def _reference_reader(path: Path) -> object:
    return regression_gate.read_reference(path).to_json()


def _claims_reader(path: Path) -> object:
    return read_typed(path, ClaimsSummary, "report summary", "rewrite it").to_json()


def _costs_reader(path: Path) -> object:
    return {"entries": [entry.__dict__ for entry in costs.read_costs(path)]}


def _current_reader(path: Path) -> object:
    return read_typed(path, dict[str, str], "list of current imports", "import again")


def _clean_files(folder: Path) -> dict[str, tuple[object, Path]]:
    """reader name -> (its reader, a clean file it reads), each file as the suite writes it."""
    home = Home(folder / "home")
    record = RunStore(home).write(fixture_record("summer-no-ikd", 1))
    two_runs_home = Home(folder / "reported")
    RunStore(two_runs_home).write(fixture_record("summer", 0))
    write_reports(two_runs_home, resamples=10, warn=lambda line: None)
    claims = two_runs_home.reports / "synthetic-iemocap-fast" / "claims.json"
    current = folder / "current.json"
    current.write_text(json.dumps({"iemocap": "a" * 64, "meld": "b" * 64}, indent=2) + "\n")
    return {
        "record": (_record_reader, record),
        "reference": (_reference_reader, REFERENCE_DIR / "smoke.json"),
        "claims": (_claims_reader, claims),
        "costs": (_costs_reader, costs.COSTS_PATH),
        "current imports": (_current_reader, current),
    }


@pytest.fixture(scope="module")
def clean_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    page = calibration.CALIBRATION_PAGE
    calibration.CALIBRATION_PAGE = folder / "no-calibration-page"
    try:
        return _clean_files(folder)
    finally:
        calibration.CALIBRATION_PAGE = page


def _paths_in(value, prefix=()) -> list[tuple]:
    """Every place in a JSON value: the key or index path to each object member and list item."""
    places = [prefix]
    if isinstance(value, dict):
        for name, inner in value.items():
            places += _paths_in(inner, (*prefix, name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            places += _paths_in(inner, (*prefix, index))
    return places


def _replaced(value, place: tuple, new):
    if not place:
        return new
    changed = copy.deepcopy(value)
    holder = changed
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = new
    return changed


def _reads_exactly_or_names_the_file(reader, path: Path, text: bytes, expected) -> None:
    path.write_bytes(text)
    try:
        content = reader(path)
    except BenchmarkError as err:
        message = str(err)
        assert str(path) in message and "\n" not in message
        return
    assert _as_json(content) == expected  # never a silent change


def _check_truncation(clean_files, name, tmp_path_factory, cut):
    reader, clean = clean_files[name]
    text = clean.read_bytes()
    copy_path = tmp_path_factory.mktemp("cut") / clean.name
    if name == "record":  # a record is read where the store keeps it: its layout is the run key
        copy_path = clean.parent / f"seed-{os.getpid()}-cut.json"
    try:
        expected = json.loads(text)
        cut_text = text[: cut % (len(text) + 1)]
        _reads_exactly_or_names_the_file(reader, copy_path, cut_text, expected)
    finally:
        copy_path.unlink(missing_ok=True)


def _check_replacement(clean_files, name, tmp_path_factory, data):
    reader, clean = clean_files[name]
    raw = json.loads(clean.read_bytes())
    place = data.draw(st.sampled_from(_paths_in(raw)))
    new = data.draw(JSON_VALUES)
    changed = _replaced(raw, place, new)
    copy_path = tmp_path_factory.mktemp("edited") / clean.name
    if name == "record":
        copy_path = clean.parent / f"seed-{os.getpid()}-edited.json"
    try:
        _reads_exactly_or_names_the_file(reader, copy_path, json.dumps(changed).encode(), changed)
    finally:
        copy_path.unlink(missing_ok=True)


READERS = ["record", "reference", "claims", "costs", "current imports"]
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MANY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", READERS)
@FEW
@given(cut=st.integers(min_value=0))
def test_any_truncation_reads_whole_or_names_the_file(clean_files, tmp_path_factory, name, cut):
    _check_truncation(clean_files, name, tmp_path_factory, cut)


@pytest.mark.parametrize("name", READERS)
@FEW
@given(data=st.data())
def test_any_json_value_in_any_field_reads_as_it_is_or_names_the_file(
    clean_files, tmp_path_factory, name, data
):
    _check_replacement(clean_files, name, tmp_path_factory, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", READERS)
@MANY
@given(cut=st.integers(min_value=0))
def test_many_truncations(clean_files, tmp_path_factory, name, cut):
    _check_truncation(clean_files, name, tmp_path_factory, cut)


@pytest.mark.slow
@pytest.mark.parametrize("name", READERS)
@MANY
@given(data=st.data())
def test_many_replacements(clean_files, tmp_path_factory, name, data):
    _check_replacement(clean_files, name, tmp_path_factory, data)


def test_the_committed_reference_and_a_stored_record_read_unchanged(clean_files):
    for name in READERS:
        reader, clean = clean_files[name]
        assert _as_json(reader(clean)) == json.loads(clean.read_bytes()), name


def test_a_re_import_then_run_then_report_reports_only_the_new_imports_runs(tmp_path, home, monkeypatch):
    from benchmark import data
    from benchmark.executors.local import run_key
    from tests.data_fixtures import write_feature_pickle

    monkeypatch.setattr(calibration, "CALIBRATION_PAGE", home.root / "no-calibration-page")
    teacher, fusion = (
        RunKey(model, "none", "iemocap", "smoke", 0) for model in ("text-teacher", "early-fusion")
    )
    data.load("iemocap", home, str(write_feature_pickle(tmp_path / "a.pkl", "mmgcn-iemocap")))
    for key in (teacher, fusion):
        run_key(key, home)
    second = tmp_path / "b.pkl"
    data.load("iemocap", home, str(write_feature_pickle(second, "mmgcn-iemocap", n_dialogues=14)))
    retrained = run_key(teacher, home)  # early fusion is not rerun: its record is of the first import
    lines = _report(home)
    assert lines == [
        f"iemocap (smoke): left out 1 record(s) of another import of iemocap than "
        f"{retrained.data.fingerprint[:16]}: retrain them with `python -m benchmark run ...`"
    ]
    report = (home.reports / "iemocap-smoke" / "report.md").read_text()
    assert "runs: 1" in report and retrained.data.fingerprint[:16] in report


def test_a_records_json_form_in_memory_reads_back_as_the_record():
    # as a worker hands its record to the parent process (executors/workers.py): tuples, not JSON's lists
    record = fixture_record("summer", 0)
    assert RunRecord.from_json(record.to_json()) == record


def test_the_current_imports_are_read_once_for_all_profiles_of_a_dataset(two_runs):
    fast = fixture_record("tfn", 0)
    RunStore(two_runs).write(dataclasses.replace(fast, key=dataclasses.replace(fast.key, profile="smoke")))
    path = two_runs.dataset_cache / cache.CURRENT_IMPORTS
    path.parent.mkdir(parents=True)
    path.write_text('{"synthetic-iemocap": "ab')
    groups, lines = load_groups(two_runs)
    assert set(groups) == {("synthetic-iemocap", "fast"), ("synthetic-iemocap", "smoke")}
    assert len([line for line in lines if line.startswith(f"{path}:")]) == 1  # not one per profile
