"""The paper-layout report sections: ablation table with row origins, the two studies, the t-SNE
figure and the rivals' published numbers with a source per cell."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark.data.synthetic import PLANTED_SOURCE, PLANTED_TOLERANCE, PLANTED_WEIGHTED_F1
from benchmark.files import atomic_write_json
from benchmark.report import write_reports
from benchmark.report.study_sections import planted_lines
from benchmark.store.records import RunKey, config_hash
from benchmark.store.runs import RunStore
from benchmark.training.tsne import tsne_path
from tests import test_report
from tests.test_report import fixture_record

STUDY_RUNS = {  # ablation name -> (modalities, SDMoE context?, accuracy of its predictions)
    "none": ("text", True, 0.7),
    "on-audio": ("audio", True, 0.4),
    "on-visual": ("visual", True, 0.35),
    "on-text+audio+visual": ("text+audio+visual", True, 0.72),
    "on-text-attention": ("text", False, 0.65),
    "on-audio-attention": ("audio", False, 0.38),
    "on-visual-attention": ("visual", False, 0.3),
}


@pytest.fixture(autouse=True)
def accuracies(monkeypatch):
    """The fixture records' accuracy per variant, beside the report tests' own."""
    monkeypatch.setitem(test_report.ACCURACY, "mmgcn", 0.5)
    for ablation, (_, _, accuracy) in STUDY_RUNS.items():
        monkeypatch.setitem(test_report.ACCURACY, f"text-teacher-{ablation}", accuracy)


def study_record(ablation: str, seed: int):
    modalities, sdmoe, _ = STUDY_RUNS[ablation]
    key = RunKey("text-teacher", ablation, "synthetic-iemocap", "fast", seed)
    base = fixture_record(f"text-teacher-{ablation}", seed)
    config = dataclasses.replace(
        base.config,
        model="text-teacher",
        ablation=ablation,
        ablation_label=key.variant,
        model_config={"modalities": modalities, "use_sdmoe": sdmoe},
    )
    # a stored record's hash must be its config's
    return dataclasses.replace(base, key=key, config=config, config_hash=config_hash(config.to_json()))


def test_paper_sections(home):
    store = RunStore(home)
    for variant in ("summer", "summer-no-ikd", "summer-no-sdmoe", "mmgcn"):
        for seed in (0, 1):
            record = fixture_record(variant, seed)
            origin = {"summer-no-ikd": "paper+suite", "summer-no-sdmoe": "suite"}.get(variant)
            config = dataclasses.replace(record.config, ablation_origin=origin)
            store.write(dataclasses.replace(record, config=config, config_hash=config_hash(config.to_json())))
    for ablation in STUDY_RUNS:
        for seed in (0, 1):
            store.write(study_record(ablation, seed))
    atomic_write_json(
        tsne_path(home, "synthetic-iemocap", "fast"),
        {
            "key": {
                "model": "summer",
                "ablation": "none",
                "dataset": "synthetic-iemocap",
                "profile": "fast",
                "seed": 0,
            },
            "classes": ["happy", "sad"],
            "synthetic": True,
            "labels": [0, 1, 0],
            "input": [[0, 0], [1, 1], [0, 1]],
            "fused": [[0, 0], [2, 2], [0, 0.5]],
        },
    )
    write_reports(home, resamples=50)
    folder = home.reports / "synthetic-iemocap-fast"
    report = (folder / "report.md").read_text()
    # the ablation table, laid out like the paper's, says where each row comes from
    table = report.split("laid out like the paper's table 4")[1].split("## Study")[0]
    assert "| w/o IKD | paper + suite |" in table and "| w/o SDMoE | suite |" in table
    assert "| SUMMER | — |" in table
    # studies: the planted ordering shows, study rows stay out of the rivals' tables
    assert "Unimodal ordering found: t > a > v" in report
    assert f"Set to {PLANTED_SOURCE}" in report  # synthetic data at `fast`: the study checks its targets
    modality = report.split("Study: teacher modality")[1].split("## ")[0]
    assert "| t+a+v |" in modality and "| a |" in modality
    assert "text-teacher-on-audio" not in report.split("## SUMMER vs the baselines")[1].split("## Figures")[0]
    assert "| a |" in report.split("SDMoE against plain attention")[1]
    for name in ("sdmoe_vs_attention.png", "tsne.png", "paper_ablation_table.csv", "published_numbers.csv"):
        assert (folder / name).stat().st_size > 0
    # published numbers: a source per cell, SUMMER's absolute cells are dashes, deltas second-hand
    published = report.split("## Published numbers of the rivals")[1]
    assert "| MMGCN | published | 42.34 [MMGCN] |" in published
    assert "| SUMMER | published | — | — |" in published
    assert "second-hand" in published and "+9.76" in published
    mmgcn_row = next(line for line in published.splitlines() if line.startswith("| MMGCN | published"))
    assert mmgcn_row.rstrip(" |").split("| ")[-1].count("±") == 1  # our own MMGCN runs beside it


def test_modality_study_checks_each_planted_cell_on_the_synthetic_default_only(monkeypatch):
    records = [study_record(ablation, seed) for ablation in STUDY_RUNS for seed in (0, 1)]
    means = {
        ablation: sum(100 * r.test.weighted_f1 for r in records if r.key.ablation == ablation) / 2
        for ablation in STUDY_RUNS
    }
    targets = PLANTED_WEIGHTED_F1["iemocap"]
    monkeypatch.setitem(targets, "text", means["none"] + PLANTED_TOLERANCE - 0.01)  # just within
    monkeypatch.setitem(targets, "audio", means["on-audio"] - PLANTED_TOLERANCE - 0.01)  # just outside
    [line] = planted_lines(records)
    assert line.startswith(f"Set to {PLANTED_SOURCE}")
    assert f"t {means['none']:.2f} vs {targets['text']:.2f} (-2.99, within)" in line
    assert f"a {means['on-audio']:.2f} vs {targets['audio']:.2f} (+3.01, OUTSIDE)" in line
    for short, ablation in (("v", "on-visual"), ("t+a+v", "on-text+audio+visual")):
        target = targets[STUDY_RUNS[ablation][0]]
        assert f"{short} {means[ablation]:.2f} vs {target:.2f} ({means[ablation] - target:+.2f}," in line
    assert "v not run" in planted_lines([r for r in records if r.key.ablation != "on-visual"])[0]
    real = [dataclasses.replace(r, data=dataclasses.replace(r.data, synthetic=False)) for r in records]
    smoke = [dataclasses.replace(r, key=dataclasses.replace(r.key, profile="smoke")) for r in records]
    assert planted_lines(real) == [] and planted_lines(smoke) == []
