"""Whether validation was still improving when training stopped: the rule on its own, and as the runner
records it for runs whose validation curves are built to improve to the end or to plateau early."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from benchmark import data
from benchmark.executors import local
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
    return local.run_key(RunKey("text-teacher", "none", "iemocap", profile, 0), home, force=True)


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


STILL_IMPROVING = Convergence.of(best_epoch=8, last_epoch=8, epoch_cap=8, patience=4)


def _claims(unconverged: set[tuple[str, int]]):
    """Claim rows on the claim tests' known records, the runs in `unconverged` stopped at their cap while
    improving."""
    from benchmark.report.claims import claim_rows
    from benchmark.report.published_numbers import read_published_numbers
    from tests.test_claims import (
        ABLATIONS,
        RIVAL_ERRORS,
        RIVALS,
        SUMMER_ERRORS,
        make_predictions,
        make_record,
    )

    variants = {"summer": SUMMER_ERRORS, "tfn": RIVAL_ERRORS, "text-teacher": RIVAL_ERRORS}
    records = [
        make_record(name, seed, make_predictions(errors, seed))
        if (name, seed) not in unconverged
        else make_record(name, seed, make_predictions(errors, seed), convergence=STILL_IMPROVING)
        for name, errors in variants.items()
        for seed in (0, 1)
    ]
    summer = read_published_numbers().summer_claims()
    return {row.claim: row for row in claim_rows(records, RIVALS, ABLATIONS, summer, 100, 0)}


def test_a_claim_resting_on_runs_still_improving_is_provisional_and_names_them():
    rows = _claims({("summer", 1), ("tfn", 0)})
    beats = rows["beats-every-rival"]  # SUMMER against both rivals: rests on both unconverged runs
    assert beats.still_improving == ("summer seed 1", "tfn seed 0")
    assert "; provisional: still improving (summer seed 1, tfn seed 0)" in beats.verdict_cell
    teacher = rows["text-teacher-beats-other-rivals"]  # the teacher against tfn: tfn seed 0 only
    assert teacher.still_improving == ("tfn seed 0",) and "provisional" in teacher.verdict_cell
    assert rows["beats-every-rival"].to_json()["still_improving"] == ("summer seed 1", "tfn seed 0")


def test_claims_on_converged_runs_are_not_provisional():
    assert all(row.still_improving == () for row in _claims(set()).values())
    assert all("provisional" not in row.verdict_cell for row in _claims(set()).values())


def test_the_report_counts_still_improving_seeds_per_model_and_its_claims_say_provisional(home):
    from benchmark.report import write_reports
    from benchmark.store.runs import RunStore
    from tests.test_report import ACCURACY, fixture_record

    for variant in ACCURACY:
        for seed in (0, 1):
            record = fixture_record(variant, seed)
            if (variant, seed) in {("summer", 0), ("summer", 1), ("tfn", 1)}:
                record = dataclasses.replace(record, convergence=STILL_IMPROVING)
            RunStore(home).write(record)
    write_reports(home, resamples=50)
    folder = home.reports / "synthetic-iemocap-fast"
    report = (folder / "report.md").read_text()
    main = report.split("## Main table")[1].split("\n## ")[0]
    table = [line.split(" | ") for line in main.splitlines() if line.startswith("| ")]
    column = table[0].index("still improving")
    counts = {cells[0].strip("| "): cells[column] for cells in table[1:]}
    assert counts == {"mult": "0", "tfn": "1", "SUMMER": "2"}
    claims = report.split("## Claims")[1].split("## Provenance")[0]
    assert "provisional: still improving (summer seed 0, summer seed 1, tfn seed 1)" in claims
    saved = json.loads((folder / "claims.json").read_text())["claims"]
    assert ["summer seed 0", "summer seed 1", "tfn seed 1"] in [row["still_improving"] for row in saved]
    metrics = pd.read_csv(folder / "metrics_table.csv").set_index("variant")["still improving"]
    assert metrics.to_dict() == {"tfn": 1, "mult": 0, "summer": 2, "summer-no-ikd": 0, "summer-no-sdmoe": 0}
