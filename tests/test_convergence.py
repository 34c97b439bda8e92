"""Whether validation was still improving when training stopped: the rule on its own, and as the runner
records it for runs whose validation curves are built to improve to the end or to plateau early."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmark import data
from benchmark.store.records import Convergence, EpochLog, RunKey
from benchmark.training import runner
from tests.data_fixtures import write_feature_pickle


@pytest.mark.parametrize(
    ("best", "last", "cap", "patience", "window", "still_improving"),
    [
        (8, 8, 8, 4, 4, True),  # the best epoch is the last one allowed
        (5, 8, 8, 4, 4, True),  # at the cap three epochs after its best: patience had not run out
        (4, 8, 8, 4, 4, False),  # patience ran out at the cap itself
        (2, 6, 8, 4, 4, False),  # stopped by patience before the cap
        (4, 4, 4, 0, 1, True),  # no patience, a short schedule: judged on its last epoch
        (3, 4, 4, 0, 1, False),
        (140, 150, 150, 0, 15, True),  # no patience: a tenth of the schedule
        (135, 150, 150, 0, 15, False),
    ],
)
def test_the_rule(best, last, cap, patience, window, still_improving):
    convergence = Convergence.of(best, last, cap, patience)
    assert (convergence.window, convergence.still_improving) == (window, still_improving)


def _record_with_validation(home, tmp_path, monkeypatch, validation: list[float], profile: str = "smoke"):
    """A text-teacher run on a small import whose trainer returns `validation` as its per-epoch curve (its
    weights are those of one real epoch); the runner computes the rest of the record."""
    real = runner.train_model

    def built(model, dataset, config, *args):
        result = real(model, dataset, dataclasses.replace(config, epochs=1), *args)
        curves = [EpochLog(e, 1.0, {}, v, v, 0.1) for e, v in enumerate(validation, start=1)]
        return dataclasses.replace(result, curves=curves, best_epoch=int(np.argmax(validation)) + 1)

    monkeypatch.setattr(runner, "train_model", built)
    data.load("iemocap", home, str(write_feature_pickle(tmp_path / "a.pkl", "mmgcn-iemocap")))
    return runner.run_key(RunKey("text-teacher", "none", "iemocap", profile, 0), home, force=True)


def test_a_run_improving_to_its_last_epoch_is_still_improving(home, tmp_path, monkeypatch):
    record = _record_with_validation(home, tmp_path, monkeypatch, [0.2, 0.3, 0.4, 0.5])  # smoke: 4 epochs
    assert record.convergence == Convergence(
        best_epoch=4, last_epoch=4, epoch_cap=4, window=1, still_improving=True
    )


def test_a_run_that_plateaus_early_has_converged(home, tmp_path, monkeypatch):
    record = _record_with_validation(home, tmp_path, monkeypatch, [0.5, 0.6, 0.55, 0.55])
    assert (record.convergence.best_epoch, record.convergence.last_epoch) == (2, 4)
    assert not record.convergence.still_improving


def test_a_run_stopped_by_patience_has_converged_and_one_at_its_cap_has_not(home, tmp_path, monkeypatch):
    """The converged profile: patience 10 and a cap of 60 epochs on IEMOCAP."""
    plateau = [0.3, 0.5] + [0.45] * 10  # stopped by patience at epoch 12
    record = _record_with_validation(home, tmp_path, monkeypatch, plateau, "converged")
    assert (record.convergence.last_epoch, record.convergence.epoch_cap) == (12, 60)
    assert not record.convergence.still_improving
    rising = list(np.linspace(0.3, 0.6, 60))
    record = _record_with_validation(home, tmp_path, monkeypatch, rising, "converged")
    assert record.convergence == Convergence(60, 60, 60, 10, still_improving=True)
