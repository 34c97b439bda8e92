"""Trainer, run store and runner: determinism, selection, teacher cache, atomic records, locking, CLI."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import threading

import numpy as np
import pytest

from benchmark.commands.cli import main as cli_main
from benchmark.executors import local
from benchmark.experiment.profiles import TrainConfig
from benchmark.home import Home
from benchmark.store.records import RunKey, RunRecord
from benchmark.store.runs import RunStore
from benchmark.training import loop, runner, teachers
from tests.smoke_fixtures import use_smaller_smoke

SUMMER_KEY = RunKey("summer", "none", "synthetic-iemocap", "smoke", 0)


@dataclasses.dataclass(frozen=True)
class TrainedSummer:
    home: Home
    record: RunRecord  # SUMMER_KEY's, as its first training returned it
    teacher_trainings: int  # how many teachers that training trained


@pytest.fixture(scope="module")
def trained_summer(tmp_path_factory) -> TrainedSummer:
    """A home where SUMMER's smoke run of seed 0 is trained once, at the smaller smoke profile, for the
    tests that read it (they ask for `smaller_smoke` too, so that its stored record is reusable)."""
    home = Home(tmp_path_factory.mktemp("summer") / "home")
    with pytest.MonkeyPatch.context() as patch:
        use_smaller_smoke(patch)
        calls = []
        real_train = teachers.train_model
        patch.setattr(teachers, "train_model", lambda *a, **k: calls.append(1) or real_train(*a, **k))
        record = local.run_key(SUMMER_KEY, home)
    return TrainedSummer(home, record, len(calls))


def test_same_config_and_seed_give_bit_identical_records(trained_summer, smaller_smoke):
    first = local.run_key(SUMMER_KEY, trained_summer.home).to_json()
    again = local.run_key(SUMMER_KEY, trained_summer.home, force=True).to_json()
    # the checksum covers the whole record, timings included
    volatile = ("environment", "seconds_per_epoch", "train_seconds", "peak_rss_mb", "checksum")
    for record in (first, again):
        for field in volatile:
            record.pop(field)
        for epoch in record["curves"]:
            epoch.pop("seconds")
        record["teacher"].pop("cache_hit")
    assert first == again


def test_different_seeds_give_different_results(trained_summer, smaller_smoke):
    other = local.run_key(RunKey("summer", "none", "synthetic-iemocap", "smoke", 1), trained_summer.home)
    first = local.run_key(SUMMER_KEY, trained_summer.home)
    assert first.curves[0].train_loss != other.curves[0].train_loss
    assert first.predictions.predicted != other.predictions.predicted
    assert first.teacher.hash != other.teacher.hash  # the teacher is trained with the run's seed


def test_teacher_is_trained_once_and_reused(trained_summer, smaller_smoke, monkeypatch):
    calls = []
    real_train = teachers.train_model
    monkeypatch.setattr(teachers, "train_model", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    home, first = trained_summer.home, trained_summer.record
    second = local.run_key(RunKey("summer", "latent", "synthetic-iemocap", "smoke", 0), home)
    assert trained_summer.teacher_trainings + len(calls) == 1
    assert first.teacher.cache_hit is False and second.teacher.cache_hit is True
    assert first.teacher.hash == second.teacher.hash
    assert local.run_key(RunKey("summer", "ikd", "synthetic-iemocap", "smoke", 0), home).teacher is None


def test_selection_is_on_validation_and_the_oracle_is_the_best_test_epoch(home):
    record = local.run_key(RunKey("text-teacher", "none", "synthetic-meld", "smoke", 1), home)
    validation = [e.validation_weighted_f1 for e in record.curves]
    test = [e.test_weighted_f1 for e in record.curves]
    assert record.best_epoch == int(np.argmax(validation)) + 1
    assert record.test.weighted_f1 == test[record.best_epoch - 1]
    assert (
        record.test_oracle_weighted_f1 == max(test) and record.test_oracle_epoch == int(np.argmax(test)) + 1
    )
    labels = np.concatenate(record.predictions.labels)
    predicted = np.concatenate(record.predictions.predicted)
    assert record.test.accuracy == pytest.approx(float((labels == predicted).mean()))
    assert np.asarray(record.test.confusion).sum() == len(labels)


def test_patience_stops_early(home):
    from benchmark import data

    dataset = data.subsample(data.load("synthetic-iemocap", home), {"train": 8, "validation": 4, "test": 4})
    from benchmark.experiment.catalog import MODELS
    from benchmark.models.contract import ModelDims

    model = MODELS.get("text-teacher").build(dataset.meta, ModelDims(8, 2, 1, 0.0), {})
    result = loop.train_model(model, dataset, TrainConfig(lr=0.0, epochs=10, batch_size=4, patience=2))
    assert len(result.curves) == 3  # lr 0: epoch 1 is never beaten, so training stops after 1 + patience


def test_a_killed_run_leaves_no_record_and_a_rerun_completes(home, smaller_smoke, monkeypatch):
    real_epoch = loop.train_epoch
    epochs = []

    def dies_in_epoch_two(*args, **kwargs):
        epochs.append(1)
        if len(epochs) == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    key = RunKey("text-teacher", "none", "synthetic-iemocap", "smoke", 0)
    monkeypatch.setattr(loop, "train_epoch", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        local.run_key(key, home)
    folder = RunStore(home).path(key).parent
    assert not [p for p in folder.iterdir() if p.suffix in (".json", ".tmp")]
    monkeypatch.setattr(loop, "train_epoch", real_epoch)
    assert local.run_key(key, home).key == key


def test_existing_record_is_skipped_and_force_replaces_it(home, smaller_smoke, monkeypatch):
    key = RunKey("text-teacher", "none", "synthetic-meld", "smoke", 0)
    first = local.run_key(key, home)
    with monkeypatch.context() as patch:
        patch.setattr(runner, "train_run", lambda *a: pytest.fail("trained again although the record exists"))
        assert local.run_key(key, home) == first
    path = RunStore(home).path(key)
    before = path.stat().st_ino
    local.run_key(key, home, force=True)
    assert path.stat().st_ino != before  # replaced by rename, not rewritten in place
    RunRecord.from_json(json.loads(path.read_text()))


def _run_in_process(home_root: str) -> None:
    from pathlib import Path

    from benchmark.home import Home

    local.run_key(RunKey("text-teacher", "none", "synthetic-iemocap", "smoke", 2), Home(Path(home_root)))


# slow: two spawned interpreters, each importing the suite, cost more than the run they lock (about 30 s)
@pytest.mark.slow
def test_two_processes_on_one_home_train_a_key_once(home):
    from benchmark import data

    data.load("synthetic-iemocap", home)  # generated once up front: this test is about the run lock
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_run_in_process, args=(str(home.root),)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0, 0]
    folder = RunStore(home).path(RunKey("text-teacher", "none", "synthetic-iemocap", "smoke", 2)).parent
    assert sorted(p.name for p in folder.iterdir()) == ["seed-2.json", "seed-2.pt"]  # no lock left behind


def test_threads_share_the_lock(home, smaller_smoke):
    key = RunKey("text-teacher", "none", "synthetic-meld", "smoke", 3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(local.run_key(key, home))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0] == results[1]


def test_plan_covers_ablations_and_validates_names():
    keys = runner.plan(["summer", "text-teacher"], ["synthetic-meld"], "smoke")
    assert [k.variant for k in keys] == [
        "summer",
        "summer-no-standard-moe",
        "summer-no-self-attention",
        "summer-no-ikd",
        "summer-no-label-smoothing",
        "summer-no-sdmoe",
        "summer-no-hcmf",
        "summer-no-latent",
        "text-teacher",  # the study variants are the `study` command's, not `run --all`'s
    ]
    studies = runner.plan(["text-teacher"], ["synthetic-meld"], "smoke", [0], ["none", "on-audio"])
    assert [k.variant for k in studies] == ["text-teacher", "text-teacher-on-audio"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--model", "sumer"], "unknown model 'sumer'. Did you mean 'summer'?"),
        (["run", "--all", "--dataset", "meldd"], "unknown dataset 'meldd'. Did you mean 'meld'?"),
        (["run", "--all", "--profile", "fats"], "unknown profile 'fats'. Did you mean 'fast'?"),
        (["ablate", "--drop", "sdmo"], "unknown ablation 'sdmo'. Did you mean 'sdmoe'?"),
        (["run"], "--model NAME"),
    ],
)
def test_unknown_names_are_one_line_errors(argv, message, capsys):
    assert cli_main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_list_shows_everything_registered(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich abbreviates cells in narrow terminals
    assert cli_main(["list"]) == 0
    shown = capsys.readouterr().out
    for name in (
        "synthetic-iemocap",
        "meld",
        "summer",
        "text-teacher",
        "latent",
        "logit-only KD",
        "standard-moe",
        "label-smoothing",
        "paper+suite",
        "on-text+audio",
        "smoke",
        "paper",
    ):
        assert name in shown


# --- training settings from the specification: weight decay, class weights, no clipping -------------


def _labelled_dataset(train: list[list[int]], validation: list[list[int]], test: list[list[int]]):
    """A dataset of labels only (what class weights read), on IEMOCAP's six classes."""
    import datasets

    from benchmark.data.schema import MercDataset
    from tests.model_fixtures import tiny_meta

    splits = {
        name: datasets.Dataset.from_dict({"labels": rows})
        for name, rows in (("train", train), ("validation", validation), ("test", test))
    }
    return MercDataset(tiny_meta(), datasets.DatasetDict(splits))


def test_inverse_frequency_weights_on_a_dataset_made_here():
    from benchmark.data.class_weighting import (
        INVERSE_FREQUENCY,
        UNWEIGHTED,
        inverse_train_validation_frequency,
    )

    # train + validation: 20 utterances; class counts 2, 4, 5, 1, 4, 4 (the test split never counts)
    dataset = _labelled_dataset(
        train=[[0, 1, 2, 2], [3, 4, 4, 5, 5, 1], [2, 2, 0]],
        validation=[[1, 1, 2, 4, 4, 5, 5]],
        test=[[3, 3, 3, 3, 3, 3, 3]],
    )
    assert inverse_train_validation_frequency(dataset, INVERSE_FREQUENCY) == (
        20 / 2,
        20 / 4,
        20 / 5,
        20 / 1,
        20 / 4,
        20 / 4,
    )
    assert inverse_train_validation_frequency(dataset, UNWEIGHTED) == ()


def test_a_class_missing_from_train_and_validation_cannot_be_weighted():
    from benchmark.data.class_weighting import INVERSE_FREQUENCY, inverse_train_validation_frequency
    from benchmark.errors import BenchmarkError

    dataset = _labelled_dataset(train=[[0, 1, 2, 4, 5]], validation=[[0, 1]], test=[[3]])
    with pytest.raises(BenchmarkError, match="class 'angry' has no utterance in the train and validation"):
        inverse_train_validation_frequency(dataset, INVERSE_FREQUENCY)


def test_the_trainer_refuses_a_weighted_config_whose_weights_were_never_computed():
    """The weights are computed once, when the run is planned (`with_class_weights`); a config that
    skipped that would otherwise train unweighted under a weighted name."""
    from benchmark.data.class_weighting import INVERSE_FREQUENCY

    dataset = _labelled_dataset(train=[[0, 1, 2, 3, 4, 5]], validation=[[0, 1]], test=[[3]])
    with pytest.raises(ValueError, match="holds no class weights"):
        config = TrainConfig(lr=1e-3, epochs=1, batch_size=1, patience=0, class_weighting=INVERSE_FREQUENCY)
        loop.train_model(None, dataset, config)


def test_iemocap_runs_weigh_classes_by_inverse_frequency_of_the_data_and_record_it_meld_runs_do_not(home):
    import collections

    for dataset_name, weighted in (("synthetic-iemocap", True), ("synthetic-meld", False)):
        key = RunKey("summer", "none", dataset_name, "smoke", 0)
        run = runner.resolve_run(key, home)
        counts = collections.Counter(
            label
            for split in ("train", "validation")
            for dialogue in run.dataset.splits[split]["labels"]
            for label in dialogue
        )
        total = sum(counts.values())
        expected = tuple(total / counts[c] for c in range(run.dataset.meta.n_classes)) if weighted else ()
        assert run.plan.train.class_weights == pytest.approx(expected, rel=1e-12)
        recorded = run.plan.config.train
        assert recorded["class_weights"] == run.plan.train.class_weights
        assert recorded["class_weighting"] == ("inverse-frequency" if weighted else "none")
        assert recorded["weight_decay"] == 1e-5 and recorded["grad_clip"] == 0.0


def test_every_profile_states_the_specifications_settings():
    from benchmark.experiment.profiles import PROFILES

    for _, profile in PROFILES.items():
        for family, config in profile.train.items():
            assert (config.optimizer, config.weight_decay, config.grad_clip) == ("adam", 1e-5, 0.0)
            assert config.class_weighting == ("inverse-frequency" if family == "iemocap" else "none")


def test_the_trainer_weighs_its_cross_entropy_and_decays_weights(monkeypatch):
    import torch
    import torch.nn.functional as F

    from benchmark.data.collate import collate_dialogues
    from benchmark.experiment.catalog import MODELS
    from benchmark.models.contract import ModelDims
    from tests.model_fixtures import tiny_dialogues, tiny_meta

    meta = tiny_meta()
    dialogues = tiny_dialogues(meta)
    model = MODELS.get("text-teacher").build(meta, ModelDims(8, 2, 1, 0.0), {"lambda_moe": 0.0})
    weights = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    config = TrainConfig(lr=0.0, epochs=1, batch_size=8, patience=0, class_weights=weights)
    optimizer = loop.make_optimizer(model, config)
    assert {group["weight_decay"] for group in optimizer.param_groups} == {1e-5}
    monkeypatch.setattr(loop.torch, "randperm", lambda n, generator: torch.arange(n))
    model.eval()  # no Gumbel noise: the loss below sees the same logits
    batch = collate_dialogues(dialogues)
    with torch.no_grad():
        logits = model(batch).logits
    expected = F.cross_entropy(
        logits[batch.mask], batch.labels[batch.mask], weight=torch.tensor(weights), label_smoothing=0.0
    )
    monkeypatch.setattr(model, "train", lambda mode=True: model)  # stay in eval mode
    _, terms = loop.train_epoch(model, dialogues, optimizer, config, torch.Generator())
    assert terms["ce"] == pytest.approx(float(expected), rel=1e-5)
    unweighted = F.cross_entropy(logits[batch.mask], batch.labels[batch.mask])
    assert abs(float(expected) - float(unweighted)) > 1e-3  # the weights make a difference here
