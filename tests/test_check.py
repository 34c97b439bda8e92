"""The regression gate: an untouched reference passes, a planted regression fails by name."""

from __future__ import annotations

import dataclasses
import json

import pytest

from benchmark.commands.cli import main as cli_main
from benchmark.home import REFERENCE_DIR, Home
from benchmark.report import regression_gate
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.training.environment import machine_fingerprint

NARROW = ["--model", "text-teacher", "--dataset", "synthetic-meld"]
ENTRY = "synthetic-meld/text-teacher"


@pytest.fixture
def reference_copy(tmp_path):
    path = tmp_path / "smoke.json"
    path.write_text((REFERENCE_DIR / "smoke.json").read_text())
    return path


def test_untouched_reference_passes(reference_copy, capsys):
    assert cli_main(["check", "--reference", str(reference_copy), *NARROW]) == 0
    assert "0 of 3 checks failed" in capsys.readouterr().out


def test_planted_regression_fails_naming_model_dataset_and_metric(reference_copy, capsys):
    reference = json.loads(reference_copy.read_text())
    reference["entries"][ENTRY]["metrics"]["weighted_f1"] += 0.3
    reference_copy.write_text(json.dumps(reference))
    assert cli_main(["check", "--reference", str(reference_copy), *NARROW]) == 1
    out = capsys.readouterr().out
    failing = [line for line in out.splitlines() if "FAIL" in line]
    assert len(failing) == 1 and ENTRY in failing[0] and "weighted_f1" in failing[0]


def test_the_gate_never_replaces_a_users_record_and_says_where_it_trained(reference_copy, tmp_path, capsys):
    """A home's record made under other settings (here: other data) was retrained and replaced by the gate."""
    from tests.test_report import fixture_record

    user = Home(tmp_path / "user-home")
    seed = json.loads(reference_copy.read_text())["gate_seed"]
    key = RunKey("text-teacher", "none", "synthetic-meld", "smoke", seed)
    stored = RunStore(user).write(dataclasses.replace(fixture_record("summer", seed), key=key))
    before = stored.read_bytes()
    assert cli_main(["check", "--reference", str(reference_copy), *NARROW, "--home", str(user.root)]) == 0
    said = capsys.readouterr()
    assert stored.read_bytes() == before and "0 of 3 checks failed" in said.out
    gate_runs = user.results / "cache" / "gate" / "runs"
    assert f"the gate trains in {gate_runs} " in said.err and (gate_runs / key.relative_path()).is_file()


def test_committed_reference_covers_every_registered_variant_and_states_its_rule():
    from benchmark.experiment.catalog import MODELS
    from benchmark.training.runner import DEFAULT_DATASETS, plan

    reference = regression_gate.read_reference(REFERENCE_DIR / "smoke.json")
    expected = {regression_gate.entry_name(k) for k in plan(MODELS.names(), DEFAULT_DATASETS, "smoke", [0])}
    assert set(reference.entries) == expected
    assert "3 x sample std" in reference.tolerance_rule
    for entry in reference.entries.values():
        assert len(entry.spread["seeds"]) >= 2
        assert all(
            entry.tolerance[m] >= regression_gate.TOLERANCE_FLOOR for m in regression_gate.GATED_METRICS
        )


def _record_like(weighted_f1: float):
    from types import SimpleNamespace

    from benchmark.store.records import RunKey

    test = SimpleNamespace(weighted_f1=weighted_f1, accuracy=0.5, macro_f1=0.4)
    return SimpleNamespace(key=RunKey("summer", "none", "synthetic-iemocap", "smoke", 0), test=test)


def _reference(deterministic_on: dict, tolerance: float | None = 0.02) -> regression_gate.Reference:
    """A reference of one entry, synthetic-iemocap/summer at weighted-F1 0.6 (none when tolerance is None)."""
    entry = regression_gate.ReferenceEntry(
        key=regression_gate.EntryKey("summer", "none", "synthetic-iemocap"),
        config_hash="0" * 16,
        metrics={"weighted_f1": 0.6, "accuracy": 0.5, "macro_f1": 0.4},
        spread={},
        tolerance=dict.fromkeys(regression_gate.GATED_METRICS, tolerance),
    )
    return regression_gate.Reference(
        schema_version=regression_gate.REFERENCE_SCHEMA_VERSION,
        profile="smoke",
        gate_seed=0,
        metrics=list(regression_gate.GATED_METRICS),
        tolerance_rule="",
        deterministic_on=deterministic_on,
        entries={} if tolerance is None else {"synthetic-iemocap/summer": entry},
    )


def test_exact_equality_on_the_reference_machine_tolerance_elsewhere():
    fingerprint = machine_fingerprint(2)
    reference = _reference(fingerprint)
    nudged = [_record_like(0.6 + 1e-9)]
    assert any(f.failed for f in regression_gate.compare(reference, nudged, fingerprint))
    elsewhere = dataclasses.replace(reference, deterministic_on=fingerprint | {"cpu": "another"})
    assert not any(f.failed for f in regression_gate.compare(elsewhere, nudged, fingerprint))
    assert any(f.failed for f in regression_gate.compare(elsewhere, [_record_like(0.65)], fingerprint))


def test_a_model_missing_from_the_reference_fails():
    reference = _reference({}, tolerance=None)
    findings = regression_gate.compare(reference, [_record_like(0.6)], machine_fingerprint(2))
    assert findings[0].failed and "not in the reference" in findings[0].reason


def test_tolerance_is_bounded_away_from_the_reference_machine():
    fingerprint = machine_fingerprint(2)
    wide = _reference(fingerprint | {"cpu": "another"}, tolerance=0.136)
    findings = regression_gate.compare(wide, [_record_like(0.6 - 0.13)], fingerprint)
    assert [f.metric for f in findings if f.failed] == ["weighted_f1"]
    assert all(f.tolerance == regression_gate.TOLERANCE_CEILING for f in findings)
    assert not any(f.failed for f in regression_gate.compare(wide, [_record_like(0.6 - 0.04)], fingerprint))


def test_the_gate_prints_percent_like_the_reports():
    reference = _reference({})
    findings = regression_gate.compare(reference, [_record_like(0.55)], machine_fingerprint(2))
    table = regression_gate.findings_markdown(findings, exact=False)
    assert "| synthetic-iemocap/summer | weighted_f1 | 60.00 | 55.00 | -5.0000 | 2.00 | **FAIL**" in table
