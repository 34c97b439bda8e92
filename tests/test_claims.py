"""Claim rows from hand-made records whose answer is known: each verdict, the inconclusive case included."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from benchmark.data.schema import CLASS_NAMES
from benchmark.errors import BenchmarkError
from benchmark.report.claims import (
    INCONCLUSIVE,
    NOT_APPLICABLE,
    NOT_RUN,
    NOT_SUPPORTED,
    SUPPORTED,
    claim_rows,
    decide,
)
from benchmark.report.published_numbers import PublishedNumbers, read_published_numbers
from benchmark.store.records import Convergence, EpochLog, Predictions, RunKey, RunRecord
from benchmark.training.metrics import split_metrics
from tests.record_fixtures import fixture_config, fixture_data, fixture_environment

IEMOCAP = list(CLASS_NAMES["iemocap"])  # happy, sad, neutral, angry, excited, frustrated
RIVALS = ["tfn", "text-teacher"]
ABLATIONS = ["sdmoe", "ikd"]


def make_predictions(mistakes: dict[int, tuple[float, int]], seed: int, dialogues: int = 40) -> Predictions:
    """Every class equally often; class c is predicted as mistakes[c][1] with probability mistakes[c][0],
    otherwise correctly."""
    rng = np.random.default_rng(seed)
    labels, predicted = [], []
    for _ in range(dialogues):
        row = rng.integers(0, len(IEMOCAP), size=12).tolist()
        labels.append(row)
        predicted.append(
            [mistakes[y][1] if y in mistakes and rng.random() < mistakes[y][0] else y for y in row]
        )
    return Predictions([f"d{i:02d}" for i in range(dialogues)], labels, predicted)


STOPPED_BY_PATIENCE = Convergence.of(best_epoch=1, last_epoch=4, epoch_cap=8, patience=3)


def make_record(
    variant: str,
    seed: int,
    predictions: Predictions,
    family: str = "iemocap",
    convergence: Convergence = STOPPED_BY_PATIENCE,
) -> RunRecord:
    model, _, ablation = variant.partition("-no-")
    classes = IEMOCAP if family == "iemocap" else list(CLASS_NAMES["meld"])
    test = split_metrics(np.concatenate(predictions.labels), np.concatenate(predictions.predicted), classes)
    key = RunKey(model, ablation or "none", f"synthetic-{family}", "fast", seed)
    config, hashed = fixture_config(key, "full" if key.ablation == "none" else ablation)
    return RunRecord(
        key=key,
        config=config,
        config_hash=hashed,
        data=fixture_data(family, classes),
        environment=fixture_environment(),
        parameters=1,
        best_epoch=1,
        validation=test,
        test=test,
        test_oracle_weighted_f1=test.weighted_f1,
        test_oracle_epoch=1,
        curves=[EpochLog(1, 1.0, {}, test.weighted_f1, test.weighted_f1, 1.0)],
        convergence=convergence,
        predictions=predictions,
        seconds_per_epoch=1.0,
        train_seconds=1.0,
        peak_rss_mb=1.0,
    )


HAPPY, SAD, NEUTRAL, ANGRY, EXCITED, FRUSTRATED = range(6)
# SUMMER errs a little everywhere; the rival mistakes most happy utterances for excited, and angry for
# frustrated: SUMMER wins on the minority class happy and the confusable pairs shrink.
SUMMER_ERRORS = {c: (0.1, (c + 1) % 6) for c in range(6)}
RIVAL_ERRORS = SUMMER_ERRORS | {HAPPY: (0.6, EXCITED), ANGRY: (0.4, FRUSTRATED)}


def records_for(variants: dict[str, dict], seeds=(0, 1), family="iemocap") -> list[RunRecord]:
    return [
        make_record(name, seed, make_predictions(errors, seed), family)
        for name, errors in variants.items()
        for seed in seeds
    ]


def rows_by_claim(records, rivals=RIVALS, ablations=ABLATIONS):
    summer = read_published_numbers().summer_claims()
    return {row.claim: row for row in claim_rows(records, rivals, ablations, summer, resamples=300, seed=0)}


@pytest.fixture(scope="module")
def known():
    variants = {
        "summer": SUMMER_ERRORS,
        "tfn": RIVAL_ERRORS,
        # the teacher is worse than tfn everywhere: its claim is not supported
        "text-teacher": RIVAL_ERRORS | {SAD: (0.5, NEUTRAL), NEUTRAL: (0.5, SAD)},
        # removing IKD hurts much more than removing SDMoE
        "summer-no-ikd": SUMMER_ERRORS | {SAD: (0.5, NEUTRAL), FRUSTRATED: (0.5, ANGRY)},
        "summer-no-sdmoe": SUMMER_ERRORS | {SAD: (0.15, NEUTRAL)},
    }
    return rows_by_claim(records_for(variants))


def test_summer_beats_every_rival(known):
    row = known["beats-every-rival"]
    assert row.verdict == SUPPORTED and row.low > 0 and "tfn" in row.evidence
    assert row.verdict_cell == "supported (synthetic data, not a reproduction)"
    assert "synthetic" in row.data and "seeds 0,1" in row.data


def test_a_win_on_the_minority_class_supports_the_minority_claim(known):
    row = known["largest-gains-on-minority-classes"]
    assert row.verdict == SUPPORTED and row.estimate > 20
    assert re.search(r"happy \(\d+\.\d% of test\) ΔF1 \+\d", row.evidence)  # its share of the test set


def test_a_shrinking_confusion_pair_supports_the_confusion_claim(known):
    row = known["less-confusion-of-similar-emotions"]
    assert row.verdict == SUPPORTED and row.estimate > 10
    assert "happy↔excited" in row.evidence and "angry↔frustrated" in row.evidence


def test_the_ablation_order_decides_the_ikd_claim(known):
    assert known["removing-ikd-costs-most"].verdict == SUPPORTED
    assert known["distillation-helps"].verdict == SUPPORTED
    reversed_order = {
        "summer": SUMMER_ERRORS,
        "summer-no-ikd": SUMMER_ERRORS | {SAD: (0.15, NEUTRAL)},
        "summer-no-sdmoe": SUMMER_ERRORS | {SAD: (0.5, NEUTRAL), FRUSTRATED: (0.5, ANGRY)},
    }
    row = rows_by_claim(records_for(reversed_order))["removing-ikd-costs-most"]
    assert row.verdict == NOT_SUPPORTED and row.high < 0
    assert row.evidence.startswith("cost (SUMMER − row): sdmoe")


def test_a_worse_teacher_does_not_support_the_teacher_claim(known):
    row = known["text-teacher-beats-other-rivals"]
    assert row.verdict == NOT_SUPPORTED and row.high < 0


def test_identical_models_are_inconclusive():
    same = {
        name: SUMMER_ERRORS for name in ("summer", "tfn", "text-teacher", "summer-no-ikd", "summer-no-sdmoe")
    }
    rows = rows_by_claim(records_for(same))
    for claim in ("beats-every-rival", "largest-gains-on-minority-classes", "distillation-helps"):
        assert rows[claim].verdict == INCONCLUSIVE, claim
        assert rows[claim].low <= 0 <= rows[claim].high


def test_missing_runs_name_the_command_that_makes_them():
    rows = rows_by_claim(records_for({"summer": SUMMER_ERRORS, "tfn": RIVAL_ERRORS}))
    ikd = rows["distillation-helps"]
    assert ikd.verdict == NOT_RUN and ikd.estimate is None
    assert ikd.command == "python -m benchmark ablate --drop ikd --dataset synthetic-iemocap --profile fast"
    assert rows["removing-ikd-costs-most"].command.startswith("python -m benchmark run --model summer")
    # the rival that was run is judged, the unrun teacher keeps a supported margin from being "supported"
    assert rows["beats-every-rival"].verdict == INCONCLUSIVE and rows["beats-every-rival"].low > 0
    assert "--model text-teacher" in rows["beats-every-rival"].command


def test_claims_on_real_data_name_the_release_the_data_came_from():
    release = "mmgcn release, github.com/hujingwen6666/MMGCN@85732d984f70"
    records = [
        dataclasses.replace(record, data=dataclasses.replace(record.data, synthetic=False, release=release))
        for record in records_for({"summer": SUMMER_ERRORS, "tfn": RIVAL_ERRORS})
    ]
    for row in rows_by_claim(records).values():
        assert row.data.startswith(f"synthetic-iemocap (real, from the {release}), fast")
    local = rows_by_claim(records_for({"summer": SUMMER_ERRORS, "tfn": RIVAL_ERRORS}))
    assert all("from the" not in row.data for row in local.values())


def test_meld_names_no_confusion_pair_and_quotes_no_gain_relayed_for_iemocap():
    meld = {"summer": {}, "tfn": {2: (0.5, 0)}, "text-teacher": {}}
    rows = rows_by_claim(records_for(meld, family="meld"))
    assert rows["beats-every-rival"].statement == "SUMMER beats every rival on weighted-F1"
    assert rows["less-confusion-of-similar-emotions"].verdict == NOT_APPLICABLE
    assert "fear, disgust" in rows["largest-gains-on-minority-classes"].statement


@pytest.mark.parametrize(
    "low, high, complete, expected",
    [
        (0.1, 2.0, True, SUPPORTED),
        (0.1, 2.0, False, INCONCLUSIVE),
        (-0.1, 2.0, True, INCONCLUSIVE),
        (-3.0, -0.5, True, NOT_SUPPORTED),
        (-3.0, -0.5, False, NOT_SUPPORTED),
        (0.0, 0.0, True, INCONCLUSIVE),
    ],
)
def test_decision_rule(low, high, complete, expected):
    assert decide(low, high, complete) == expected


def test_the_claims_read_the_papers_classes_and_relayed_gain_from_the_published_numbers(known):
    """Edited in one place (results/reference/published_numbers.json), the statements follow."""
    published = read_published_numbers()
    gain = published.summer_claims().weighted_f1_gains["iemocap"]
    assert f"(relayed: {gain:+.2f} on IEMOCAP)" in known["beats-every-rival"].statement
    raw = json.loads(json.dumps(published.raw))
    raw["summer_claims"]["minority_classes"]["iemocap"] = ["sad"]
    raw["summer_relayed"]["iemocap"][1]["delta"] = 3.5
    assert "(happy)" in known["largest-gains-on-minority-classes"].statement
    edited = PublishedNumbers(raw).summer_claims()
    records = records_for({"summer": SUMMER_ERRORS, "tfn": RIVAL_ERRORS}, seeds=(0,))
    rows = {r.claim: r for r in claim_rows(records, ["tfn"], ABLATIONS, edited, resamples=50, seed=0)}
    assert "(sad)" in rows["largest-gains-on-minority-classes"].statement
    assert "(relayed: +3.50 on IEMOCAP)" in rows["beats-every-rival"].statement


def test_a_claimed_class_the_dataset_does_not_have_is_refused_in_one_line():
    raw = json.loads(json.dumps(read_published_numbers().raw))
    raw["summer_claims"]["similar_pairs"]["iemocap"] = [["happy", "excitement"]]
    with pytest.raises(BenchmarkError, match="names excitement, not a class of iemocap") as caught:
        PublishedNumbers(raw).summer_claims()
    assert "\n" not in str(caught.value)
