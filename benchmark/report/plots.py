"""PNG figures, readable without the report's text: titles, axes, class names and legends on each."""

from __future__ import annotations

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmark.files import atomic_write  # noqa: E402
from benchmark.records import FULL_MODEL  # noqa: E402
from benchmark.report.stats import mean_and_std  # noqa: E402
from benchmark.report.tables import SUMMER, Variant, full_summer  # noqa: E402

# SUMMER's claim is about minority and easily confused classes: these are highlighted.
CLAIMED_CLASSES = {"happy", "excited", "frustrated", "angry", "fear", "disgust"}


def _save(figure, path: Path) -> Path:
    atomic_write(
        path, lambda temporary: figure.savefig(temporary, format="png", dpi=110, metadata={"Software": None})
    )
    plt.close(figure)
    return path


def per_class_bars(variants: list[Variant], classes: list[str], title: str, path: Path) -> Path:
    shown = [v for v in variants if v.ablation == FULL_MODEL]
    figure, axes = plt.subplots(figsize=(max(8, 1.4 * len(classes) + 2), 4.8))
    width = 0.8 / len(shown)
    x = np.arange(len(classes))
    for i, variant in enumerate(shown):
        means, errors = zip(*(mean_and_std(variant.values(c)) for c in classes), strict=True)
        axes.bar(x + i * width, means, width, yerr=errors, capsize=2, label=variant.label)
    axes.set_xticks(x + 0.4 - width / 2, classes)
    axes.set_ylabel("test F1 (%), mean ± std over seeds")
    axes.set_title(title)
    axes.legend(fontsize=7, ncol=3)
    return _save(figure, path)


def ablation_deltas(variants: list[Variant], classes: list[str], title: str, path: Path) -> Path | None:
    full = full_summer(variants)
    ablated = [v for v in variants if v.model == SUMMER and v.ablation != FULL_MODEL]
    if full is None or not ablated:
        return None
    figure, axes = plt.subplots(figsize=(max(8, 1.4 * len(classes) + 2), 4.8))
    width = 0.8 / len(ablated)
    x = np.arange(len(classes))
    for i, variant in enumerate(ablated):
        deltas = [statistics.mean(variant.values(c)) - statistics.mean(full.values(c)) for c in classes]
        axes.bar(x + i * width, deltas, width, label=variant.label)
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(x + 0.4 - width / 2, classes)
    for tick, name in zip(axes.get_xticklabels(), classes, strict=True):
        if name in CLAIMED_CLASSES:
            tick.set_fontweight("bold")
    axes.set_ylabel("F1 of ablation − F1 of full SUMMER (points)")
    axes.set_title(title + " (bold: classes SUMMER's claim is about)")
    axes.legend(fontsize=8)
    return _save(figure, path)


def confusion_heatmap(variant: Variant, classes: list[str], title: str, path: Path) -> Path:
    matrix = np.sum([np.asarray(r.test.confusion, dtype=float) for r in variant.records], axis=0)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(1.0 * len(classes) + 2, 0.9 * len(classes) + 1.5))
    image = axes.imshow(normalised, vmin=0, vmax=1, cmap="Blues")
    for (i, j), value in np.ndenumerate(normalised):
        axes.text(
            j,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > 0.5 else "black",
        )
    axes.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (rows sum to 1)")
    axes.set_title(title)
    figure.colorbar(image)
    figure.tight_layout()
    return _save(figure, path)


def training_curves(variants: list[Variant], title: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 4.8))
    for variant in variants:
        longest = max(len(r.curves) for r in variant.records)
        curve = [
            statistics.mean(
                r.curves[e].validation_weighted_f1 * 100 for r in variant.records if e < len(r.curves)
            )
            for e in range(longest)
        ]
        axes.plot(range(1, longest + 1), curve, label=variant.label)
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation weighted-F1 (%), mean over seeds")
    axes.set_title(title)
    axes.legend(fontsize=7, ncol=2)
    return _save(figure, path)
