"""A run's device settings are resolved once, at the command boundary, before any data loads, and ride in
its plan to wherever it trains; the store answers "is there a reusable record for this plan" in one place;
`run` rewrites the reports of what it ran; `study tsne` reads the stored weights."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from benchmark import data
from benchmark.commands.cli import main
from benchmark.data import synthetic
from benchmark.errors import BenchmarkError
from benchmark.executors import local
from benchmark.executors.workers import store_result
from benchmark.store.runs import RunStore, tsne_path
from benchmark.training import device_settings, runner
from benchmark.training.device_settings import Execution

SMOKE = ["--dataset", "synthetic-iemocap", "--profile", "smoke", "--seeds", "0"]
CPU_ONE_THREAD = Execution("cpu", threads=1)


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--model", "early-fusion"],
        ["ablate", "--drop", "ikd"],
        ["study", "modality"],
        ["study", "tsne"],
        ["tune", "--model", "tfn", "--trials", "1"],
    ],
)
def test_a_device_this_machine_lacks_is_one_line_before_any_data_loads(command, home, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    touched = []
    monkeypatch.setattr(data, "load", lambda *a, **k: touched.append("load"))
    monkeypatch.setattr(synthetic, "generate", lambda *a, **k: touched.append("generate"))
    code = main([*command, "--device", "cuda", "--home", str(home.root)])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.count("\n") == 0 and "no CUDA device" in error
    assert touched == [] and not home.runs.exists()


@pytest.fixture
def resolutions(monkeypatch) -> list[Execution]:
    """Every `Execution.resolved` call, by the settings it resolved."""
    calls: list[Execution] = []
    resolve = Execution.resolved

    def counted(self):
        calls.append(self)
        return resolve(self)

    monkeypatch.setattr(device_settings.Execution, "resolved", counted)
    return calls


def test_run_resolves_its_device_settings_once_and_rewrites_only_the_reports_it_ran(
    home, smaller_smoke, resolutions, monkeypatch
):
    from benchmark.report import write_reports
    from tests.test_report import fixture_record

    RunStore(home).write(fixture_record("summer", 0))  # a synthetic-iemocap fast run, reported already
    (other_report,) = [p for p in write_reports(home, resamples=20) if p.name == "report.md"]
    before = other_report.stat().st_mtime_ns
    planned = []
    resolve_runs = runner.resolve_runs
    monkeypatch.setattr(
        runner, "resolve_runs", lambda *a, **k: planned.extend(resolve_runs(*a, **k)) or planned
    )
    command = ["run", "--model", "early-fusion", *SMOKE, "--device", "cpu", "--threads", "1"]
    assert main([*command, "--home", str(home.root)]) == 0
    assert (
        len(resolutions) == 1
    )  # at the command boundary; not again for the plan line, the sweep or the cost
    (run,) = planned
    assert run.plan.execution == Execution("cpu", "fp32", True, 1)  # carried in the plan, resolved
    record = RunStore(home).read(run.plan.key)
    assert record.environment.device == "cpu" and record.config.train["threads"] == 1
    assert (home.reports / "synthetic-iemocap-smoke" / "report.md").exists()
    assert other_report.stat().st_mtime_ns == before  # the fast profile was not part of this run


def test_the_store_reuses_a_record_only_for_the_same_data_and_config(home, smaller_smoke):
    run = runner.resolve_run(runner.plan(["early-fusion"], ["synthetic-iemocap"], "smoke", [0])[0], home)
    store = RunStore(home)
    assert store.reusable(run.plan) is None
    record, stored = local.stored_or_trained(run, home)
    assert not stored and store.reusable(run.plan) == record
    assert local.stored_or_trained(run, home) == (record, True)
    other_config = dataclasses.replace(run.plan, config_hash="0" * 16)
    other_data = dataclasses.replace(run.plan, data=dataclasses.replace(run.plan.data, fingerprint="f" * 64))
    assert store.reusable(other_config) is None and store.reusable(other_data) is None


def test_a_workers_result_does_not_replace_a_record_stored_meanwhile_unless_forced(home, smaller_smoke):
    run = runner.resolve_run(runner.plan(["early-fusion"], ["synthetic-iemocap"], "smoke", [0])[0], home)
    first, weights = runner.record_run(run, home)
    store = RunStore(home)
    stored = store_result(store, run.plan, first.to_json(), weights)  # the sweep found none: stored
    later = dataclasses.replace(first, train_seconds=first.train_seconds + 1)  # another worker's copy
    assert store_result(store, run.plan, later.to_json(), weights) == stored
    assert store.read(run.plan.key).train_seconds == first.train_seconds
    store_result(store, run.plan, later.to_json(), weights, force=True)
    assert store.read(run.plan.key).train_seconds == later.train_seconds


@pytest.mark.slow  # trains a SUMMER run and embeds it
def test_study_tsne_reads_the_stored_weights_and_honours_its_device_options(
    home, smaller_smoke, monkeypatch, capsys
):
    key = runner.plan(["summer"], ["synthetic-iemocap"], "smoke", [0], ["none"])[0]
    local.run_key(key, home, execution=CPU_ONE_THREAD)

    def trains(*args, **kwargs):
        raise RuntimeError("trained")

    monkeypatch.setattr(runner, "train_run", trains)
    command = ["study", "tsne", *SMOKE, "--home", str(home.root), "--device", "cpu"]
    assert main([*command, "--threads", "1"]) == 0
    study = json.loads(tsne_path(home, "synthetic-iemocap", "smoke").read_text())
    assert study["key"] == key.to_json() and len(study["fused"]) == len(study["labels"]) > 0
    # other settings are another run (threads are part of its config): trained, not read from the store
    with pytest.raises(RuntimeError, match="trained"):
        main([*command, "--threads", "2"])
    with pytest.raises(RuntimeError, match="trained"):
        main([*command, "--threads", "1", "--force"])
    capsys.readouterr()
    assert main([*command, "--executor", "ray"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "drop --executor ray" in error


def test_the_stored_model_is_refused_in_one_line_when_the_store_lacks_it(home):
    run = runner.resolve_run(runner.plan(["early-fusion"], ["synthetic-iemocap"], "smoke", [0])[0], home)
    with pytest.raises(BenchmarkError, match="no stored weights of early-fusion on synthetic-iemocap"):
        runner.stored_model(run, home)
