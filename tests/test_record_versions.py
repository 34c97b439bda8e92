"""Run records of schema version 1 (free-dict sections, fields later versions added missing) still load:
verified as written, then upgraded to version 2's typed sections, and reported as before."""

from __future__ import annotations

import json

import pytest

from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.profiles import config_hash
from benchmark.report import write_reports
from benchmark.store.records import (
    NOT_RECORDED,
    RECORD_SCHEMA_VERSION,
    ModalityScore,
    RunConfig,
    RunKey,
    results_checksum,
)
from benchmark.store.runs import RunStore
from tests.test_report import fixture_record


def version_1_layout(variant: str, seed: int) -> dict:
    """A record as version 1 wrote it: the same JSON layout, schema_version 1, a config without the
    ablation's origin, the profile's subsample and the precision, an environment of three fields."""
    raw = fixture_record(variant, seed).to_json()
    raw["schema_version"] = 1
    raw["config"] = {
        k: v for k, v in raw["config"].items() if k not in ("ablation_origin", "max_dialogues", "precision")
    }
    raw["config_hash"] = config_hash(raw["config"])
    raw["environment"] = {"git_commit": "abc123", "torch": "2.13.0+cpu", "python": "3.11.7"}
    return raw | {"checksum": results_checksum(raw)}


def store_raw(home, raw: dict) -> None:
    record_path = RunStore(home).path(RunKey(**raw["key"]))
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(raw))


def test_a_version_1_record_loads_upgraded(home):
    raw = version_1_layout("summer-no-ikd", 0)
    store_raw(home, raw)
    record = RunStore(home).read(fixture_record("summer-no-ikd", 0).key)
    assert RECORD_SCHEMA_VERSION == 2 and record.schema_version == 2
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


def test_version_1_records_report_as_version_2_records_do(tmp_path):
    """The same runs stored as version 1 and as version 2 give the same report."""
    reports = []
    for version, name in ((1, "v1"), (2, "v2")):
        home = Home(tmp_path / name)
        for variant in ("summer", "summer-no-ikd", "tfn"):
            for seed in (0, 1):
                if version == 1:
                    store_raw(home, version_1_layout(variant, seed))
                else:
                    RunStore(home).write(fixture_record(variant, seed))
        write_reports(home, resamples=50)
        reports.append((home.reports / "synthetic-iemocap-fast" / "report.md").read_text())
    assert reports[0] == reports[1]


def test_an_edited_version_1_record_is_refused(home):
    raw = version_1_layout("tfn", 0)
    raw["config"]["ablation_label"] = "edited"
    store_raw(home, raw)
    with pytest.raises(BenchmarkError, match="its config does not hash to its config_hash"):
        RunStore(home).read(fixture_record("tfn", 0).key)


def test_an_unknown_version_is_one_line(home):
    store_raw(home, version_1_layout("tfn", 0) | {"schema_version": 3})
    with pytest.raises(BenchmarkError, match=r"schema_version 3, expected 2 \(or 1\).*--force"):
        RunStore(home).read(fixture_record("tfn", 0).key)
