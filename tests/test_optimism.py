"""What a paper would have printed beside what the protocol gives: per model, the mean over seeds at the
validation-selected epoch, the best seed at its best test epoch, and the difference, in the report and
its CSV."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from benchmark.report import write_reports
from benchmark.report.tables import optimism_table, variants_of
from benchmark.store.runs import RunStore
from tests.test_report import fixture_record

# variant -> seed -> (test weighted-F1 at the validation-selected epoch, best test weighted-F1 of any epoch)
SCORES = {
    "summer": {0: (0.60, 0.63), 1: (0.64, 0.65), 2: (0.62, 0.70)},
    "tfn": {0: (0.50, 0.50), 1: (0.52, 0.55)},
}


def records():
    made = []
    for variant, seeds in SCORES.items():
        for seed, (selected, oracle) in seeds.items():
            record = fixture_record(variant, seed)
            test = dataclasses.replace(record.test, weighted_f1=selected)
            made.append(dataclasses.replace(record, test=test, test_oracle_weighted_f1=oracle))
    return made


def test_the_optimism_is_the_best_seed_at_its_best_test_epoch_minus_the_protocol_mean():
    table = optimism_table(variants_of(records())).set_index("variant")
    assert table.loc["summer", "wF1 protocol"] == pytest.approx(62.0)  # mean of 60, 64, 62
    assert table.loc["summer", "wF1 best seed, best test epoch"] == pytest.approx(70.0)  # seed 2's oracle
    assert table.loc["summer", "optimism"] == pytest.approx(8.0)
    assert table.loc["tfn", "wF1 protocol"] == pytest.approx(51.0)
    assert table.loc["tfn", "optimism"] == pytest.approx(4.0)  # 55 - 51: another seed than the best mean's
    assert table.loc["summer", "n"] == 3 and table.loc["tfn", "n"] == 2


def test_every_report_prints_it_with_its_explanation_and_a_csv(home):
    store = RunStore(home)
    for record in records():
        store.write(record)
    write_reports(home, resamples=50)
    folder = home.reports / "synthetic-iemocap-fast"
    section = (folder / "report.md").read_text().split("## What a paper would have printed")[1].split("##")[0]
    assert "the best seed, at the epoch that scores best on the test split" in section
    assert "| SUMMER | 3 | 62.00 | 70.00 | +8.00 |" in section
    assert "| tfn | 2 | 51.00 | 55.00 | +4.00 |" in section
    csv = pd.read_csv(folder / "optimism_table.csv").set_index("variant")
    assert csv.loc["summer", "optimism"] == pytest.approx(8.0)
