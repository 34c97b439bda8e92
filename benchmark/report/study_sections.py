"""Report sections of the studies, from stored runs and the stored t-SNE: teacher modality (the paper's
table 3), SDMoE against plain attention per modality (figure 4), t-SNE (figure 6), and the suite's IKD
readings (SUMMER's distillation under each reading the sources leave open)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.synthetic import (
    PLANTED_PROFILE,
    PLANTED_SOURCE,
    PLANTED_TOLERANCE,
    PLANTED_WEIGHTED_F1,
)
from benchmark.experiment.catalog import ABLATIONS, SUBJECT, SUMMER
from benchmark.models.contract import STUDY
from benchmark.report.plots import _save, plt
from benchmark.report.stats import CONFIDENCE, mean_and_std, paired_bootstrap
from benchmark.report.tables import Variant, mean_std, variants_of
from benchmark.store.records import FULL_MODEL, RunRecord
from benchmark.store.runs import TsneStudy
from benchmark.variants import STUDY_PREFIX

TEACHER = SUBJECT.teacher
NO_IKD = SUBJECT.without_distillation  # what each IKD reading is compared with
MODALITY_ORDER = ("text", "audio", "visual", "text+audio", "text+visual", "text+audio+visual")
SHORT = {"text": "t", "audio": "a", "visual": "v"}


def is_study_run(record: RunRecord) -> bool:
    return record.key.ablation.startswith(STUDY_PREFIX)


def _teacher_runs(records: list[RunRecord]) -> dict[tuple[str, bool], list[RunRecord]]:
    """(modalities, SDMoE context?) -> runs, for every run of the teacher model (the plain one included)."""
    groups: dict[tuple[str, bool], list[RunRecord]] = {}
    for record in records:
        if record.key.model == TEACHER and (record.key.ablation == FULL_MODEL or is_study_run(record)):
            config = record.config.model_config
            groups.setdefault((config["modalities"], bool(config["use_sdmoe"])), []).append(record)
    return groups


def _short(modalities: str) -> str:
    return "+".join(SHORT.get(m, m) for m in modalities.split("+"))


def _weighted_f1(runs: list[RunRecord]) -> list[float]:
    return [100 * r.test.weighted_f1 for r in sorted(runs, key=lambda r: r.key.seed)]


def modality_table(records: list[RunRecord]) -> pd.DataFrame:
    groups = _teacher_runs(records)
    rows = []
    for modalities in MODALITY_ORDER:
        runs = groups.get((modalities, True))
        if runs:
            rows.append(
                {
                    "teacher on": _short(modalities),
                    "seeds": len(runs),
                    "Acc": mean_std([100 * r.test.accuracy for r in runs]),
                    "wF1": mean_std(_weighted_f1(runs)),
                }
            )
    return pd.DataFrame(rows)


def modality_lines(records: list[RunRecord]) -> list[str]:
    groups = _teacher_runs(records)
    means = {
        m: mean_and_std(_weighted_f1(groups[(m, True)]))[0] for m in MODALITY_ORDER if (m, True) in groups
    }
    if not {"text", "audio", "visual"} <= means.keys():
        return []
    ordering = sorted(("text", "audio", "visual"), key=lambda m: -means[m])
    lines = [
        f"Unimodal ordering found: {' > '.join(SHORT[m] for m in ordering)} "
        f"(text − best non-verbal: {means['text'] - max(means['audio'], means['visual']):+.2f} points)."
    ]
    if "text+audio+visual" in means:
        lines.append(f"t+a+v − t: {means['text+audio+visual'] - means['text']:+.2f} points.")
    return [*lines, *planted_lines(records)]


def planted_lines(records: list[RunRecord]) -> list[str]:
    """On the synthetic default at the profile it is calibrated for, each cell of the published table the
    generator is set to (`PLANTED_WEIGHTED_F1`) beside the study's mean, and whether it is within
    `PLANTED_TOLERANCE` points. Other data or profiles have no target: no line."""
    first = records[0]
    if not first.data.synthetic or first.key.profile != PLANTED_PROFILE:
        return []
    groups = _teacher_runs(records)
    cells = []
    for modalities, target in PLANTED_WEIGHTED_F1[first.data.family].items():
        runs = groups.get((modalities, True))
        if not runs:
            cells.append(f"{_short(modalities)} not run (target {target:.2f})")
            continue
        measured = mean_and_std(_weighted_f1(runs))[0]
        verdict = "within" if abs(measured - target) <= PLANTED_TOLERANCE else "OUTSIDE"
        cells.append(
            f"{_short(modalities)} {measured:.2f} vs {target:.2f} ({measured - target:+.2f}, {verdict})"
        )
    return [
        f"Set to {PLANTED_SOURCE} (weighted-F1, ±{PLANTED_TOLERANCE:.0f} points at `{PLANTED_PROFILE}`): "
        + "; ".join(cells)
        + "."
    ]


def sdmoe_table(records: list[RunRecord]) -> pd.DataFrame:
    groups = _teacher_runs(records)
    rows = []
    for modality in ("text", "audio", "visual"):
        sdmoe, plain = groups.get((modality, True)), groups.get((modality, False))
        if sdmoe and plain:
            difference = mean_and_std(_weighted_f1(sdmoe))[0] - mean_and_std(_weighted_f1(plain))[0]
            rows.append(
                {
                    "modality": SHORT[modality],
                    "SDMoE wF1": mean_std(_weighted_f1(sdmoe)),
                    "plain attention wF1": mean_std(_weighted_f1(plain)),
                    "Δ (SDMoE − attention)": f"{difference:+.2f}",
                    "seeds": f"{len(sdmoe)} / {len(plain)}",
                }
            )
    return pd.DataFrame(rows)


def sdmoe_figure(records: list[RunRecord], title: str, path: Path) -> Path | None:
    groups = _teacher_runs(records)
    shown = [m for m in ("text", "audio", "visual") if (m, True) in groups and (m, False) in groups]
    if not shown:
        return None
    figure, axes = plt.subplots(figsize=(6.5, 4.2))
    x = np.arange(len(shown))
    for offset, (sdmoe, label) in enumerate(((True, "SDMoE"), (False, "plain attention"))):
        means, errors = zip(*(mean_and_std(_weighted_f1(groups[(m, sdmoe)])) for m in shown), strict=True)
        axes.bar(x + 0.4 * offset, means, 0.4, yerr=errors, capsize=3, label=label)
    axes.set_xticks(x + 0.2, [SHORT[m] for m in shown])
    axes.set_xlabel("modality of the unimodal model")
    axes.set_ylabel("test weighted-F1 (%), mean ± std over seeds")
    axes.set_title(title)
    axes.legend()
    return _save(figure, path)


def tsne_figure(study: TsneStudy, title: str, path: Path) -> Path:
    labels = np.asarray(study.labels)
    figure, panels = plt.subplots(1, 2, figsize=(12, 5.5))
    for axes, (embedded, name) in zip(
        panels, ((study.input, "input features"), (study.fused, "SUMMER fused features")), strict=True
    ):
        points = np.asarray(embedded)
        for index, emotion in enumerate(study.classes):
            chosen = labels == index
            axes.scatter(points[chosen, 0], points[chosen, 1], s=4, label=emotion)
        axes.set_title(name)
        axes.set_xticks([])
        axes.set_yticks([])
    panels[1].legend(markerscale=3, loc="best", fontsize=8)
    figure.suptitle(title)
    return _save(figure, path)


def _ikd_variants(records: list[RunRecord]) -> dict[str, Variant]:
    """SUMMER's runs the IKD study compares, by ablation name, in the study's order: the default
    (FULL_MODEL), w/o IKD, then each registered reading."""
    readings = [name for name, a in ABLATIONS.items() if a.model == SUMMER and a.origin == STUDY]
    order = (FULL_MODEL, NO_IKD, *readings)
    found = {
        v.ablation: v
        for v in variants_of([r for r in records if r.key.model == SUMMER and r.key.ablation in order])
    }
    return {name: found[name] for name in order if name in found}


def _validation_f1(variant: Variant) -> list[float]:
    return [100 * r.validation.weighted_f1 for r in variant.records]


def ikd_table(records: list[RunRecord], n_classes: int, resamples: int) -> pd.DataFrame:
    """One row per IKD reading with runs: validation and test weighted-F1 (mean ± std over seeds), and
    its test weighted-F1 minus w/o IKD's, paired bootstrap over test dialogues pooled over seeds. Empty
    until a reading and w/o IKD both have runs."""
    variants = _ikd_variants(records)
    baseline = variants.get(NO_IKD)
    if baseline is None or not set(variants) - {FULL_MODEL, NO_IKD}:
        return pd.DataFrame()
    rows = []
    for name, variant in variants.items():
        row = {
            "reading": "default (the specification's)" if name == FULL_MODEL else variant.label,
            "seeds": len(variant.records),
            "validation wF1": mean_std(_validation_f1(variant)),
            "test wF1": mean_std(variant.values("weighted_f1")),
            "Δ test wF1 vs w/o IKD": "—",
            f"{CONFIDENCE:.0%} interval": "—",
            "one-sided p": "—",
        }
        if variant is not baseline and variant.predictions.keys() & baseline.predictions.keys():
            result = paired_bootstrap(variant.predictions, baseline.predictions, n_classes, resamples)
            row["Δ test wF1 vs w/o IKD"] = f"{100 * result.mean_difference:+.2f}"
            row[f"{CONFIDENCE:.0%} interval"] = f"[{100 * result.low:+.2f}, {100 * result.high:+.2f}]"
            row["one-sided p"] = f"{result.p_value:.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def ikd_lines(records: list[RunRecord]) -> list[str]:
    """Which distillation reading validation prefers, and by how much over the default: the selection
    uses the validation split only."""
    variants = {n: v for n, v in _ikd_variants(records).items() if n != NO_IKD}
    if FULL_MODEL not in variants or len(variants) < 2:
        return []
    means = {n: mean_and_std(_validation_f1(v))[0] for n, v in variants.items()}
    best = max(means, key=lambda n: (means[n], n == FULL_MODEL))
    if best == FULL_MODEL:
        return ["Validation prefers the default reading: no reading scores higher on validation weighted-F1."]
    return [
        f"Validation prefers `{variants[best].label}`: {means[best] - means[FULL_MODEL]:+.2f} points of "
        "validation weighted-F1 over the default (mean over seeds)."
    ]
