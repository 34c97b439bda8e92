"""One run = one resolution of its inputs and one build of its model, whichever executor trains it; the
plan's config hash is the one records were stored under before plans existed."""

from __future__ import annotations

import collections
import dataclasses
import json
import queue

import pytest
import torch

from benchmark import data
from benchmark.errors import BenchmarkError
from benchmark.executors import Placement, ray_cluster, run_sweep
from benchmark.executors.workers import pending_runs, split_stored
from benchmark.home import PROJECT_ROOT
from benchmark.models.contract import ModelSpec
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.training import runner
from benchmark.training.device_settings import Execution

KEY = RunKey("summer", "none", "synthetic-iemocap", "smoke", 0)  # a student: it asks for a teacher
ON_ONE_THREAD = Placement(Execution("cpu", threads=1), jobs=1)


@pytest.fixture
def counted(monkeypatch):
    """Counts of run resolutions, data loads and model builds (real and on the meta device) by model."""
    counts: collections.Counter = collections.Counter()
    resolve, load, build_from = runner.resolve_run, data.load, ModelSpec.build_from

    def counting_resolve(key, *args, **kwargs):
        counts["resolutions"] += 1
        return resolve(key, *args, **kwargs)

    def counting_load(*args, **kwargs):
        counts["loads"] += 1
        return load(*args, **kwargs)

    def counting_build(spec, config, meta):
        model = build_from(spec, config, meta)
        on_meta = next(model.parameters()).device.type == "meta"
        counts[f"{spec.name} {'meta' if on_meta else 'real'} builds"] += 1
        return model

    monkeypatch.setattr(runner, "resolve_run", counting_resolve)
    monkeypatch.setattr(data, "load", counting_load)
    monkeypatch.setattr(ModelSpec, "build_from", counting_build)
    return counts


def test_the_local_executor_resolves_and_builds_a_run_once(home, smaller_smoke, counted):
    run_sweep(runner.resolve_runs([KEY], home, ON_ONE_THREAD.execution), home, ON_ONE_THREAD)
    assert counted == {
        "resolutions": 1,
        "loads": 1,
        "summer real builds": 1,
        "text-teacher meta builds": 1,  # the teacher's cache identity, resolved with the plan
        "text-teacher real builds": 1,  # trained and cached by the run that asks for it
    }


def test_the_workers_get_the_plan_and_resolve_nothing_again(home, smaller_smoke, counted, monkeypatch):
    """What the processes executor and the Ray tasks run, in this process: the parent resolves and
    schedules the teacher, one worker trains the teacher, another the run, where the plan says."""
    (resolved,) = runner.resolve_runs([KEY], home, ON_ONE_THREAD.execution)
    stored, pending = split_stored([resolved], home)
    (run,) = pending_runs(pending)
    events: queue.Queue = queue.Queue()
    monkeypatch.setattr(Execution, "resolved", lambda self: pytest.fail("a worker resolved the device again"))
    ray_cluster._teacher_task(run.plan, str(home.root), events)
    raw, weights = ray_cluster._run_task(run.plan, str(home.root), events, None)
    assert raw["environment"]["threads"] == 1 and raw["environment"]["device"] == "cpu"
    assert not stored and run.teacher is not None and raw["config_hash"] == run.plan.config_hash
    assert counted == {
        "resolutions": 1,
        "loads": 3,  # the parent's, then each worker reloads the planned data by name
        "summer real builds": 1,
        "text-teacher meta builds": 1,  # the plan's teacher identity, which schedules it once
        "text-teacher real builds": 2,  # trained by its worker, loaded from the cache by the run's
    }


def test_a_worker_refuses_data_other_than_the_plans(home):
    (resolved,) = runner.resolve_runs([KEY], home, ON_ONE_THREAD.execution)
    elsewhere = dataclasses.replace(resolved.plan.data, fingerprint="0" * 64)
    plan = dataclasses.replace(resolved.plan, data=elsewhere)
    with pytest.raises(BenchmarkError, match="synthetic-iemocap changed while the sweep was running"):
        ray_cluster._run_task(plan, str(home.root), queue.Queue())
    assert RunStore(home).read(KEY) is None


def test_the_model_config_and_teacher_come_from_the_registry_without_a_real_build(home, counted):
    (full, without_ikd) = runner.resolve_runs([KEY, dataclasses.replace(KEY, ablation="ikd")], home)
    assert full.plan.teacher is not None and without_ikd.plan.teacher is None
    assert full.plan.config.model_config["width"] == full.plan.profile.dims.width
    # only the teacher's shapes, on the meta device, for its cache identity
    assert [name for name in counted if name.endswith("builds")] == ["text-teacher meta builds"]
    with torch.device("meta"):
        model = ModelSpec.build_from(runner.MODELS.get("summer"), full.plan.model_config, full.dataset.meta)
    assert model.teacher_request() == full.plan.teacher.request


def test_every_gate_run_resolves_to_the_config_hash_of_the_committed_reference(home):
    """The reference was made before runs had plans: the same hashes mean stored records are reused."""
    reference = json.loads((PROJECT_ROOT / "results" / "reference" / "smoke.json").read_text())
    keys = [
        RunKey(e["key"]["model"], e["key"]["ablation"], e["key"]["dataset"], "smoke", reference["gate_seed"])
        for e in reference["entries"].values()
    ]
    hashes = {run.plan.key: run.plan.config_hash for run in runner.resolve_runs(keys, home)}
    expected = {key: e["config_hash"] for key, e in zip(keys, reference["entries"].values(), strict=True)}
    assert len(hashes) == len(expected) > 30
    assert hashes == expected
