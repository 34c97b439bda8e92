"""Run records of older schema versions still load: version 1 (free-dict sections, fields later versions
added missing) and version 2 (no convergence section) are verified as written, then upgraded to the
current typed sections, and reported as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.report import write_reports
from benchmark.store.records import (
    NOT_RECORDED,
    RECORD_SCHEMA_VERSION,
    ModalityScore,
    RunConfig,
    RunKey,
    config_hash,
    results_checksum,
)
from benchmark.store.runs import RunStore
from tests.test_report import fixture_record


def version_1_layout(variant: str, seed: int) -> dict:
    """A record as version 1 wrote it: the same JSON layout, schema_version 1, a config without the
    ablation's origin, the profile's subsample and the precision, an environment of three fields."""
    raw = version_2_body(variant, seed)
    raw["schema_version"] = 1
    raw["config"] = {
        k: v for k, v in raw["config"].items() if k not in ("ablation_origin", "max_dialogues", "precision")
    }
    raw["config_hash"] = config_hash(raw["config"])
    raw["environment"] = {"git_commit": "abc123", "torch": "2.13.0+cpu", "python": "3.11.7"}
    return raw | {"checksum": results_checksum(raw)}


def version_2_body(variant: str, seed: int) -> dict:
    """A record as version 2 wrote it, unstamped: without the convergence section."""
    raw = fixture_record(variant, seed).to_json()
    del raw["convergence"]
    return raw | {"schema_version": 2}


def version_2_layout(variant: str, seed: int) -> dict:
    raw = version_2_body(variant, seed)
    return raw | {"checksum": results_checksum(raw)}


def store_raw(home, raw: dict) -> Path:
    record_path = RunStore(home).path(RunKey(**raw["key"]))
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(raw))
    return record_path


def test_a_version_1_record_loads_upgraded(home):
    raw = version_1_layout("summer-no-ikd", 0)
    store_raw(home, raw)
    record = RunStore(home).read(fixture_record("summer-no-ikd", 0).key)
    assert RECORD_SCHEMA_VERSION == 3 and record.schema_version == 3
    assert isinstance(record.config, RunConfig) and record.config.ablation_label == "w/o IKD"
    assert (record.config.ablation_origin, record.config.max_dialogues, record.config.precision) == (
        None,
        None,
        "fp32",
    )
    environment = record.environment
    assert (environment.device, environment.device_name, environment.precision) == ("cpu", "cpu", "fp32")
    assert environment.deterministic and environment.threads is None and environment.numpy == NOT_RECORDED
    assert environment.git_commit == "abc123"
    assert all(isinstance(score, ModalityScore) for score in record.missing_modalities.values())
    assert record.config_hash == raw["config_hash"]  # the stored identity, as written
    assert record.convergence == fixture_record("summer-no-ikd", 0).convergence


@pytest.mark.parametrize(("best", "still_improving"), [(3, True), (2, False)])
def test_a_version_2_record_gets_its_convergence_from_its_curves(home, best, still_improving):
    """Cap 3, no patience: the window is one epoch, so only a best validation epoch at the last one is
    still improving. The stored checksum and config hash stay valid: they are verified as written."""
    raw = version_2_body("tfn", 0) | {"best_epoch": best}
    store_raw(home, raw | {"checksum": results_checksum(raw)})
    record = RunStore(home).read(fixture_record("tfn", 0).key)
    assert record.schema_version == 3 and record.config_hash == raw["config_hash"]
    assert (record.convergence.best_epoch, record.convergence.last_epoch) == (best, 3)
    assert (record.convergence.epoch_cap, record.convergence.window) == (3, 1)
    assert record.convergence.still_improving is still_improving


def test_older_records_report_as_current_records_do(tmp_path):
    """The same runs stored as version 1, 2 and 3 give the same report."""
    layouts = {1: version_1_layout, 2: version_2_layout}
    reports = []
    for version in (1, 2, 3):
        home = Home(tmp_path / f"v{version}")
        for variant in ("summer", "summer-no-ikd", "tfn"):
            for seed in (0, 1):
                if version in layouts:
                    store_raw(home, layouts[version](variant, seed))
                else:
                    RunStore(home).write(fixture_record(variant, seed))
        write_reports(home, resamples=50)
        reports.append((home.reports / "synthetic-iemocap-fast" / "report.md").read_text())
    assert reports[0] == reports[1] == reports[2]


def test_an_edited_version_1_record_is_refused(home):
    raw = version_1_layout("tfn", 0)
    raw["config"]["ablation_label"] = "edited"
    store_raw(home, raw)
    with pytest.raises(BenchmarkError, match="its config does not hash to its config_hash"):
        RunStore(home).read(fixture_record("tfn", 0).key)


def test_a_newer_version_says_to_upgrade_and_never_to_overwrite(home):
    path = store_raw(home, version_1_layout("tfn", 0) | {"schema_version": 4})
    written = path.read_text()
    with pytest.raises(BenchmarkError) as raised:
        RunStore(home).read(fixture_record("tfn", 0).key)
    message = str(raised.value)
    assert message.startswith(f"{path}: written by a newer version of summer-bench (record schema 4")
    assert "upgrade summer-bench" in message and "--force" not in message and "\n" not in message
    assert path.read_text() == written
