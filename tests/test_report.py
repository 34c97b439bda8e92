"""Reports from a fixture results folder: golden Markdown, bootstrap behaviour, corrupt records."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmark.data.schema import CLASS_NAMES
from benchmark.report import calibration, write_reports
from benchmark.report.stats import paired_bootstrap
from benchmark.store.records import (
    ABSENT,
    ZERO_FILLED,
    Convergence,
    EpochLog,
    ModalityScore,
    Predictions,
    RunKey,
    RunRecord,
    SplitMetrics,
)
from benchmark.store.runs import RunStore
from benchmark.training.modality_removal import CONDITIONS
from tests.record_fixtures import FIXTURE_EPOCHS, fixture_config, fixture_data, fixture_environment

GOLDEN = Path(__file__).parent / "golden" / "report_synthetic-iemocap-fast.md"
CLASSES = list(CLASS_NAMES["iemocap"])
ACCURACY = {"tfn": 0.55, "mult": 0.6, "summer": 0.75, "summer-no-ikd": 0.7, "summer-no-sdmoe": 0.72}


def fixture_predictions(accuracy: float, seed: int, dialogues: int = 30) -> Predictions:
    rng = np.random.default_rng(seed)
    labels = [rng.integers(0, 6, size=int(rng.integers(5, 15))).tolist() for _ in range(dialogues)]
    predicted = [[y if rng.random() < accuracy else int(rng.integers(0, 6)) for y in row] for row in labels]
    return Predictions([f"dialogue-{i:02d}" for i in range(dialogues)], labels, predicted)


def fixture_record(variant: str, seed: int) -> RunRecord:
    from benchmark.training.metrics import split_metrics

    model, _, ablation = variant.partition("-no-")
    predictions = fixture_predictions(ACCURACY[variant], seed=seed)
    test = split_metrics(np.concatenate(predictions.labels), np.concatenate(predictions.predicted), CLASSES)
    labels = {"ikd": "w/o IKD", "sdmoe": "w/o SDMoE"}
    key = RunKey(model, ablation or "none", "synthetic-iemocap", "fast", seed)
    config, hashed = fixture_config(key, labels.get(ablation, "full"))
    return RunRecord(
        key=key,
        config=config,
        config_hash=hashed,
        data=fixture_data("iemocap", CLASSES),
        environment=fixture_environment(),
        parameters=1000 + len(variant),
        best_epoch=2,
        validation=test,
        test=test,
        test_oracle_weighted_f1=test.weighted_f1 + 0.01,
        test_oracle_epoch=3,
        curves=[EpochLog(e, 1.0 / e, {"ce": 1.0 / e}, 0.2 * e, 0.2 * e, 1.5) for e in (1, 2, 3)],
        convergence=Convergence.of(2, 3, FIXTURE_EPOCHS, patience=0),
        predictions=predictions,
        seconds_per_epoch=1.5,
        train_seconds=4.5,
        peak_rss_mb=100.0,
        missing_modalities={
            condition: ModalityScore(
                test.weighted_f1 - 0.05 * drop,
                test.macro_f1 - 0.05 * drop,
                ABSENT if drop == 0 or model == "summer" else ZERO_FILLED,
            )
            for drop, condition in enumerate(CONDITIONS)
        },
    )


@pytest.fixture
def results_home(home):
    store = RunStore(home)
    for variant in ACCURACY:
        for seed in (0, 1):
            store.write(fixture_record(variant, seed))
    return home


def test_report_matches_the_golden_markdown(results_home, monkeypatch):
    # the header's calibration line reads the committed page, which a rerun of its script rewrites
    monkeypatch.setattr(calibration, "CALIBRATION_PAGE", results_home.root / "no-calibration-page")
    write_reports(results_home, resamples=200)
    written = (results_home.reports / "synthetic-iemocap-fast" / "report.md").read_text()
    if os.environ.get("SUMMER_BENCH_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(written)
    assert written == GOLDEN.read_text()
    folder = results_home.reports / "synthetic-iemocap-fast"
    for name in (
        "per_class_f1.png",
        "ablation_delta.png",
        "curves.png",
        "confusion_summer.png",
        "metrics_table.csv",
    ):
        assert (folder / name).stat().st_size > 0
    import pandas as pd

    metrics = pd.read_csv(folder / "metrics_table.csv")
    for column in ("weighted_f1 mean", "weighted_f1 std", "macro_f1 mean", "n", "happy mean"):
        assert pd.api.types.is_numeric_dtype(metrics[column]), column
    ablations = pd.read_csv(folder / "ablation_table.csv")
    assert ablations["Δ wF1 (SUMMER − it)"].between(ablations["low"], ablations["high"]).all()
    assert "synthetic data, not a reproduction" in (results_home.reports / "index.md").read_text()


def test_bootstrap_finds_a_planted_difference():
    better = {s: fixture_predictions(0.8, seed=s) for s in (0, 1)}
    # the same dialogues and labels, predictions degraded
    worse = {}
    for s, p in better.items():
        rng = np.random.default_rng(100 + s)
        predicted = [[y if rng.random() < 0.6 else (y + 1) % 6 for y in row] for row in p.labels]
        worse[s] = Predictions(p.dialogue_ids, p.labels, predicted)
    result = paired_bootstrap(better, worse, 6, resamples=500)
    assert result.mean_difference > 0.1 and result.low > 0 and result.p_value < 0.01


def test_bootstrap_on_identical_predictions_gives_zero():
    same = {s: fixture_predictions(0.7, seed=s) for s in (0, 1)}
    result = paired_bootstrap(same, same, 6, resamples=300)
    assert result.mean_difference == 0 and result.low == 0 and result.high == 0
    assert result.p_value == 1.0  # every resampled difference is exactly 0, so P(Δ <= 0) = 1 by construction


def test_a_corrupt_record_is_named_and_skipped(results_home):
    broken = results_home.runs / "synthetic-iemocap" / "fast" / "tfn" / "seed-7.json"
    broken.write_text('{"schema_version": 1, "key": ')
    warnings = []
    written = write_reports(results_home, resamples=50, warn=warnings.append)
    assert len(warnings) == 1 and str(broken) in warnings[0] and warnings[0].startswith("skipping")
    assert any(p.name == "report.md" for p in written)


def test_split_metrics_fixture_is_consistent():
    record = fixture_record("summer", 0)
    assert isinstance(record.test, SplitMetrics)
    assert json.loads(json.dumps(record.to_json()))["key"]["model"] == "summer"


def test_verdict_against_transcribed_paper_numbers():
    from benchmark.report.paper_numbers import PaperNumbers, verdict
    from benchmark.report.tables import main_table, variants_of

    assert verdict(70.0, 68.0, 72.0, 70.5, 1.0, synthetic=False) == "reproduced"
    assert verdict(70.0, 71.0, 73.0, 70.8, 1.0, synthetic=False) == "within tolerance (±1)"
    assert verdict(70.0, 74.0, 76.0, 75.0, 1.0, synthetic=False) == "not reproduced"
    assert verdict(70.0, 68.0, 72.0, 70.5, 1.0, synthetic=True) == "— (synthetic data)"
    paper = PaperNumbers(
        {"iemocap": {"summer": {"weighted_f1": {"value": 74.0, "source": "Table 1, row SUMMER"}}}}, 1.0, ""
    )
    variants = variants_of([fixture_record("summer", s) for s in (0, 1)])
    row = main_table(variants, CLASSES, "iemocap", False, paper, resamples=100).iloc[0]
    assert row["paper wF1"] == "74.00 (Table 1, row SUMMER)" and row["verdict"] in (
        "reproduced",
        "within tolerance (±1)",
        "not reproduced",
    )
    assert (
        row["Δ"]
        == f"{np.mean([100 * fixture_record('summer', s).test.weighted_f1 for s in (0, 1)]) - 74:+.2f}"
    )


def test_claims_json_and_index_survive_a_narrowed_report(results_home):
    write_reports(results_home, resamples=50)
    folder = results_home.reports / "synthetic-iemocap-fast"
    summary = json.loads((folder / "claims.json").read_text())
    verdicts = {row["claim"]: row["verdict"] for row in summary["claims"]}
    assert verdicts["distillation-helps"] in ("supported", "inconclusive", "not supported")
    assert summary["confidence"] == 0.95 and summary["synthetic"] is True and summary["runs"] == 10
    # a report narrowed to another dataset rewrites the index but keeps every report already written
    write_reports(results_home, datasets=["synthetic-meld"], resamples=50)
    index = (results_home.reports / "index.md").read_text()
    assert "(synthetic-iemocap-fast/report.md): 10 runs" in index
    assert "## Claims" in index and "Distillation from the unimodal teacher" in index


def test_the_ikd_study_table_compares_each_reading_with_no_ikd_and_validation_picks():
    import dataclasses

    from benchmark.report.study_sections import ikd_lines, ikd_table
    from benchmark.training.metrics import split_metrics

    def study_record(ablation: str, label: str, accuracy: float, seed: int) -> RunRecord:
        record = fixture_record("summer", seed)
        predictions = fixture_predictions(accuracy, seed=seed)
        labels, predicted = np.concatenate(predictions.labels), np.concatenate(predictions.predicted)
        metrics = split_metrics(labels, predicted, CLASSES)
        return dataclasses.replace(
            record,
            key=dataclasses.replace(record.key, ablation=ablation),
            config=dataclasses.replace(record.config, ablation=ablation, ablation_label=label),
            predictions=predictions,
            test=metrics,
            validation=metrics,
        )

    records = [
        study_record(ablation, label, accuracy, seed)
        for ablation, label, accuracy in (
            ("none", "full", 0.6),
            ("ikd", "w/o IKD", 0.7),
            ("on-kappa-0.1", "κ2..κ4 = 0.1", 0.8),
        )
        for seed in (0, 1)
    ]
    table = ikd_table(records, len(CLASSES), 200)
    assert list(table["reading"]) == ["default (the specification's)", "w/o IKD", "κ2..κ4 = 0.1"]
    deltas = dict(zip(table["reading"], table["Δ test wF1 vs w/o IKD"], strict=True))
    assert deltas["w/o IKD"] == "—"
    assert float(deltas["default (the specification's)"]) < 0 < float(deltas["κ2..κ4 = 0.1"])
    assert ikd_lines(records)[0].startswith("Validation prefers `κ2..κ4 = 0.1`: +")
    assert ikd_table([r for r in records if r.key.ablation != "ikd"], len(CLASSES), 200).empty


def test_a_report_on_a_named_release_says_where_the_data_came_from(home):
    release = "mmgcn release, github.com/hujingwen6666/MMGCN@85732d984f70"
    store = RunStore(home)
    for variant in ("summer", "tfn"):
        record = fixture_record(variant, 0)
        data = dataclasses.replace(
            record.data,
            source="mmgcn (IEMOCAP_features/IEMOCAP_features.pkl)",
            source_kind="feature-pickle:mmgcn",
            release=release,
            lineage={"text": "MMGCN release: text GloVe/TextCNN"},
        )
        store.write(dataclasses.replace(record, data=data))
    write_reports(home, resamples=20)
    report = (home.reports / "synthetic-iemocap-fast" / "report.md").read_text()
    assert (
        f"- data: mmgcn (IEMOCAP_features/IEMOCAP_features.pkl) [feature-pickle:mmgcn] from the {release}, "
        "fingerprint" in report
    )
    assert f"from the {release}), fast" in report  # the claims' data column


def test_summers_ablation_rows_follow_summer_s_registration_order(monkeypatch, home):
    """Adding an ablation row is one entry in summer/ablations.py: the report lists it after the rows
    registered before it and the claims ask for it, without a name in the report's code."""
    from benchmark.experiment.catalog import ABLATIONS, SUBJECT
    from benchmark.models.contract import SUITE, Ablation, ablations_of, register_ablation
    from benchmark.report.tables import variants_of

    assert ablations_of(SUBJECT.model)[:4] == ["standard-moe", "self-attention", "ikd", "label-smoothing"]
    monkeypatch.setattr(ABLATIONS, "_items", dict(ABLATIONS.items()))
    register_ablation(Ablation("toy-row", "w/o toy", SUBJECT.model, {"experts": 2}, "two experts", SUITE))
    monkeypatch.setitem(ACCURACY, "summer-no-toy-row", 0.65)
    monkeypatch.setitem(ACCURACY, "summer-no-standard-moe", 0.65)
    records = [fixture_record(v, 0) for v in ("summer-no-toy-row", "summer-no-ikd", "summer-no-standard-moe")]
    records += [fixture_record(v, 0) for v in ("summer", "tfn")]
    assert [v.name for v in variants_of(records)] == [
        "tfn",
        "summer",
        "summer-no-standard-moe",
        "summer-no-ikd",
        "summer-no-toy-row",
    ]
    assert variants_of(records)[1].label == SUBJECT.label
    for record in records:
        RunStore(home).write(record)
    write_reports(home, resamples=50)
    claims = json.loads((home.reports / "synthetic-iemocap-fast" / "claims.json").read_text())["claims"]
    ikd_claim = next(c for c in claims if c["claim"] == "removing-ikd-costs-most")
    assert "toy-row" in ikd_claim["evidence"] and "label-smoothing" in ikd_claim["evidence"]  # ran, not run

    # the order is the registry's, whatever it is
    monkeypatch.setattr(ABLATIONS, "_items", dict(reversed(list(ABLATIONS.items()))))
    assert [v.name for v in variants_of(records)][2:] == [
        "summer-no-toy-row",
        "summer-no-ikd",
        "summer-no-standard-moe",
    ]
