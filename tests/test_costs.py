"""The plan's estimate: runs x epochs x measured cost per epoch, teachers once each, ablations costed as
their full model, what has no entry named; `run`'s line read from the table for its device."""

from __future__ import annotations

import json

from benchmark.experiment.profiles import PROFILES
from benchmark.training import costs
from benchmark.training.costs import estimate, plan_cost
from benchmark.training.device_settings import Execution
from benchmark.training.runner import plan, resolve_runs

CPU = "cpu-2-threads"


def _entry(variant: str, dataset: str, profile: str, seconds_per_epoch: float, device: str = CPU) -> dict:
    """A cost table's entry as scripts/run_cost.py writes it, measured on `device`."""
    return {
        "device": device,
        "variant": variant,
        "dataset": dataset,
        "profile": profile,
        "seconds_per_epoch": seconds_per_epoch,
        "cpu_seconds_per_epoch": seconds_per_epoch,
        "batches_timed": 3,
        "batches_per_epoch": 7,
        "date": "2026-11-26",
        "machine": "x86_64, 2 CPU cores",
        "command": "python scripts/run_cost.py",
    }


def _teacher_of(key) -> str | None:
    return "text-teacher" if key.model == "summer" and key.ablation != "ikd" else None


def test_the_estimate_adds_runs_times_epochs_times_cost_and_each_shared_teacher_once():
    keys = plan(["summer", "early-fusion"], ["synthetic-iemocap"], "smoke", seeds=[0, 1])
    table = {(CPU, "summer", "iemocap", "smoke"): 2.0, (CPU, "text-teacher", "iemocap", "smoke"): 0.5}
    figure = estimate([(key, _teacher_of(key)) for key in keys], CPU, table)
    epochs = 4  # the smoke profile's
    # 2 full SUMMER runs, 14 ablation runs at SUMMER's cost, one teacher per seed
    assert figure.seconds == epochs * (2 * 2.0 + 14 * 2.0 + 2 * 0.5)
    assert (figure.costed, figure.by_full_model) == (4, 14)
    assert figure.missing == ("early-fusion on iemocap at smoke",)
    line = figure.describe(CPU)
    assert line.startswith("estimate: up to 2 min of training on cpu-2-threads, one run at a time")
    assert "14 ablation runs costed as their full model" in line
    assert "left out: early-fusion on iemocap at smoke" in line
    assert (
        estimate([(keys[0], None)], "cuda:elsewhere", table)
        .describe("cuda:elsewhere")
        .startswith("estimate: no measured cost on cuda:elsewhere")
    )


def test_with_jobs_the_runs_are_laid_out_in_plan_order_on_the_first_free_worker():
    keys = plan(["summer", "early-fusion"], ["synthetic-iemocap"], "smoke", seeds=[0], ablations=["none"])
    summer, fusion = sorted(keys, key=lambda key: key.model != "summer")
    table = {
        (CPU, "summer", "iemocap", "smoke"): 3.0,
        (CPU, "text-teacher", "iemocap", "smoke"): 1.0,
        (CPU, "early-fusion", "iemocap", "smoke"): 0.5,
    }
    epochs = 4  # the smoke profile's
    runs = [(summer, "text-teacher"), (fusion, None), (fusion, None), (fusion, None)]
    # worker 1: SUMMER and its teacher (16 s); worker 2: the three early-fusion runs (6 s)
    assert estimate(runs, CPU, table, jobs=2).seconds == epochs * (3.0 + 1.0)
    assert estimate(runs, CPU, table, jobs=1).seconds == epochs * (3.0 + 1.0 + 3 * 0.5)
    # the short runs first: the second worker takes SUMMER after one of them
    assert estimate(runs[::-1], CPU, table, jobs=2).seconds == epochs * (0.5 + 3.0 + 1.0)
    assert (
        estimate(runs, CPU, table, jobs=2)
        .describe(CPU)
        .startswith("estimate: up to 16 s of training on cpu-2-threads, 2 runs at a time")
    )


def test_run_prints_the_estimate_for_its_device_from_the_table_without_training(home, tmp_path, monkeypatch):
    table = tmp_path / "costs.json"
    # at `fast`, one thread a run
    table.write_text(
        json.dumps({"entries": [_entry("early-fusion", "iemocap", "fast", 5.0, "cpu-1-threads")]})
    )
    monkeypatch.setattr(costs, "COSTS_PATH", table)
    keys = plan(["early-fusion"], ["synthetic-iemocap"], "fast", seeds=[0, 1])
    line = plan_cost([run.plan for run in resolve_runs(keys, home, Execution("cpu"))])
    assert (
        line == "estimate: up to 80 s of training on cpu-1-threads, one run at a time"
    )  # 2 runs x 8 epochs x 5 s
    assert not home.runs.exists() or not list(home.runs.rglob("*.json"))


def test_a_dry_run_prints_the_plan_and_the_estimate_and_trains_nothing(home, tmp_path, monkeypatch, capsys):
    from benchmark.commands.cli import main as cli_main

    table = tmp_path / "costs.json"
    entries = [_entry(v, "iemocap", "paper", s) for v, s in (("early-fusion", 2.0), ("sdt", 6.0))]
    table.write_text(json.dumps({"entries": entries}))
    monkeypatch.setattr(costs, "COSTS_PATH", table)
    argv = ["run", "--model", "early-fusion", "--model", "sdt", "--profile", "paper"]
    argv += ["--dataset", "synthetic-iemocap", "--seeds", "0", "1", "--device", "cpu", "--dry-run"]
    assert cli_main([*argv, "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "plan: 4 runs: early-fusion; sdt (0 stored, 4 to train)" in out
    # 2 seeds x 150 epochs x (2 s + 6 s) = 40 min
    assert "estimate: up to 40 min of training on cpu-2-threads, one run at a time" in out
    assert (list(home.runs.rglob("*.json")) if home.runs.exists() else []) == []
    assert not home.reports.exists()


def test_the_converged_profile_is_costed_as_fast_per_epoch_at_its_epoch_cap():
    keys = plan(["text-teacher"], ["synthetic-iemocap", "synthetic-meld"], "converged", seeds=[0])
    table = {(CPU, "text-teacher", "iemocap", "fast"): 1.0, (CPU, "text-teacher", "meld", "fast"): 2.0}
    figure = estimate([(key, None) for key in keys], CPU, table)
    caps = {f: PROFILES.get("converged").train[f].epochs for f in ("iemocap", "meld")}
    assert caps == {"iemocap": 60, "meld": 40}  # cap x fast's cost per epoch, per dataset
    assert figure.seconds == caps["iemocap"] * 1.0 + caps["meld"] * 2.0 and figure.missing == ()
    assert "converged costed per epoch as fast and at its epoch cap: an upper bound" in figure.describe(CPU)
    assert "upper bound" not in estimate(
        [(k, None) for k in plan(["text-teacher"], ["synthetic-meld"], "fast")], CPU, table
    ).describe(CPU)
