"""The calibration page's script (cells, rank check, reuse) and what a synthetic report's header says of it."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from benchmark.report import calibration, write_reports
from benchmark.report.calibration import COLUMNS, CONTEXT_GAIN, PLANTED, RANK_CHECK, calibration_lines
from benchmark.store.runs import RunStore
from scripts import synthetic_calibration as script
from tests.test_report import fixture_record


def _page(tmp_path, rows) -> object:
    stem = tmp_path / "synthetic_calibration"
    pd.DataFrame([dict.fromkeys(COLUMNS, "") | row for row in rows]).to_csv(
        stem.with_suffix(".csv"), index=False
    )
    return stem


def test_the_header_states_the_targets_the_cells_within_and_the_rank_agreement(tmp_path):
    stem = _page(
        tmp_path,
        [
            {"kind": CONTEXT_GAIN, "dataset": "iemocap", "within": "yes"},
            {"kind": PLANTED, "dataset": "iemocap", "within": "no"},
            {"kind": PLANTED, "dataset": "meld", "within": "yes"},
            {"kind": RANK_CHECK, "dataset": "iemocap", "cell": "text-only order", "synthetic": "+0.33"},
            {"kind": RANK_CHECK, "dataset": "iemocap", "cell": "multimodal order", "synthetic": ""},
        ],
    )
    (line,) = calibration_lines("iemocap", stem)
    assert "ECERC, ACL 2025, table 5" in line and "context gain" in line.replace(
        "dialogue-context", "context"
    )
    assert "1 of 2 cells within their band" in line
    assert "text-only order: +0.33" in line and "multimodal order: not run" in line
    (absent,) = calibration_lines("iemocap", tmp_path / "nothing")
    assert "nothing.csv absent" in absent and "not measured" in absent


def test_every_synthetic_report_header_carries_the_calibration(home, tmp_path, monkeypatch):
    stem = _page(
        tmp_path,
        [{"kind": RANK_CHECK, "dataset": "iemocap", "cell": "text-only order", "synthetic": "-0.20"}],
    )
    monkeypatch.setattr(calibration, "CALIBRATION_PAGE", stem)
    for seed in (0, 1):
        RunStore(home).write(fixture_record("summer", seed))
    write_reports(home, resamples=20)
    header = (home.reports / "synthetic-iemocap-fast" / "report.md").read_text().split("## Claims")[0]
    assert "synthetic data, not a reproduction" in header and "text-only order: -0.20" in header


def test_kendall_tau_of_two_orders_and_too_few_models_to_rank():
    reversed_order = script._tau_row(
        "meld", "order", "src", {"a": 3, "b": 2, "c": 1}, {"a": 1, "b": 2, "c": 3}
    )
    assert reversed_order["synthetic"] == "-1.00" and "n=3" in reversed_order["detail"]
    same = script._tau_row("meld", "order", "src", {"a": 3, "b": 2, "x": 9}, {"a": 5, "b": 4})
    assert same["synthetic"] == "+1.00" and "x" not in same["detail"]
    assert script._tau_row("meld", "order", "src", {"a": 3}, {"a": 1, "b": 2})["within"] == "not run"


def test_the_real_context_gains_are_read_off_the_real_text_page():
    real_text = pd.read_csv(script.REAL_TEXT)
    gains = {family: round(script.real_context_gain(real_text, family)[0], 2) for family in script.FAMILIES}
    assert gains == {"iemocap": 9.87, "meld": 2.07}


@pytest.mark.parametrize(("synthetic", "within"), [(11.8, "yes"), (12.0, "no"), (None, "not run")])
def test_a_cell_is_within_its_band_or_says_it_was_not_run(synthetic, within):
    row = script._row(CONTEXT_GAIN, "iemocap", "gain", "src", 9.87, synthetic, 2.0, "")
    assert row["within"] == within


def test_the_context_free_score_is_computed_once_per_data(home, monkeypatch):
    calls = []
    monkeypatch.setattr(script, "context_free_f1", lambda dataset, balanced: calls.append(balanced) or 42.0)
    dataset = SimpleNamespace(meta=SimpleNamespace(fingerprint="0123456789abcdef-fingerprint"))
    assert script.stored_context_free_f1(home, dataset, True) == 42.0
    assert script.stored_context_free_f1(home, dataset, True) == 42.0
    assert calls == [True]
