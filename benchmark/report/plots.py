"""PNG figures, readable without the report's text: titles, axes, class names and legends on each."""

from __future__ import annotations

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from benchmark.experiment.catalog import SUMMER  # noqa: E402
from benchmark.files import atomic_write  # noqa: E402
from benchmark.report.stats import mean_and_std  # noqa: E402
from benchmark.report.tables import Variant, full_summer  # noqa: E402
from benchmark.store.records import FULL_MODEL  # noqa: E402

# SUMMER's claim is about minority and easily confused classes: these are highlighted.
CLAIMED_CLASSES = {"happy", "excited", "frustrated", "angry", "fear", "disgust"}
MARKERS = "osD^vP*Xph<>"


def styles(variants: list[Variant]) -> dict[str, tuple[tuple[float, ...], str]]:
    """Variant name -> (colour, marker), each pair used once: 20 colours (tab20) x 12 markers."""
    palette = plt.get_cmap("tab20").colors
    return {
        v.name: (palette[(2 * i) % 20 + (2 * i) // 20 % 2], MARKERS[i % len(MARKERS)])
        for i, v in enumerate(variants)
    }


def _legend_outside(axes, **options) -> None:
    """The legend right of the plot, never over the data."""
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8, **options)


def _save(figure, path: Path) -> Path:
    atomic_write(
        path, lambda temporary: figure.savefig(temporary, format="png", dpi=110, metadata={"Software": None})
    )
    plt.close(figure)
    return path


def per_class_bars(variants: list[Variant], classes: list[str], title: str, path: Path) -> Path:
    shown = [v for v in variants if v.ablation == FULL_MODEL]
    colours = styles(variants)
    figure, axes = plt.subplots(figsize=(max(9, 1.4 * len(classes) + 4), 4.8), layout="constrained")
    width = 0.8 / len(shown)
    x = np.arange(len(classes))
    for i, variant in enumerate(shown):
        means, errors = zip(*(mean_and_std(variant.values(c)) for c in classes), strict=True)
        axes.bar(
            x + i * width,
            means,
            width,
            yerr=errors,
            capsize=2,
            label=variant.label,
            color=colours[variant.name][0],
        )
    axes.set_xticks(x + 0.4 - width / 2, classes)
    axes.set_ylabel("test F1 (%), mean ± std over seeds")
    axes.set_title(title)
    _legend_outside(axes)
    return _save(figure, path)


def ablation_deltas(variants: list[Variant], classes: list[str], title: str, path: Path) -> Path | None:
    full = full_summer(variants)
    ablated = [v for v in variants if v.model == SUMMER and v.ablation != FULL_MODEL]
    if full is None or not ablated:
        return None
    colours = styles(variants)
    figure, axes = plt.subplots(figsize=(max(9, 1.4 * len(classes) + 4), 4.8), layout="constrained")
    width = 0.8 / len(ablated)
    x = np.arange(len(classes))
    for i, variant in enumerate(ablated):
        deltas = [statistics.mean(full.values(c)) - statistics.mean(variant.values(c)) for c in classes]
        axes.bar(x + i * width, deltas, width, label=variant.label, color=colours[variant.name][0])
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(x + 0.4 - width / 2, classes)
    for tick, name in zip(axes.get_xticklabels(), classes, strict=True):
        if name in CLAIMED_CLASSES:
            tick.set_fontweight("bold")
    axes.set_ylabel("F1 of full SUMMER − F1 of the ablation (points)\n> 0: the component helps")
    axes.set_title(title + " (bold: classes SUMMER's claim is about)")
    _legend_outside(axes)
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
    """One panel for SUMMER and the rivals, one for SUMMER and its ablations (when there are any)."""
    full = full_summer(variants)
    rivals = [v for v in variants if v.model != SUMMER or v is full]
    ablations = [v for v in variants if v.model == SUMMER]
    panels = [("SUMMER and the rivals", rivals)]
    if len(ablations) > 1:
        panels.append(("SUMMER and its ablations", ablations))
    colours = styles(variants)
    figure, all_axes = plt.subplots(
        len(panels), 1, figsize=(9, 3.6 * len(panels)), squeeze=False, layout="constrained"
    )
    for axes, (name, shown) in zip(all_axes[:, 0], panels, strict=True):
        for variant in shown:
            longest = max(len(r.curves) for r in variant.records)
            curve = [
                statistics.mean(
                    r.curves[e].validation_weighted_f1 * 100 for r in variant.records if e < len(r.curves)
                )
                for e in range(longest)
            ]
            colour, marker = colours[variant.name]
            axes.plot(
                range(1, longest + 1), curve, label=variant.label, color=colour, marker=marker, markersize=4
            )
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel("validation wF1 (%)\nmean over seeds")
        axes.set_title(f"{name}: {title}", fontsize=10)
        _legend_outside(axes)
    return _save(figure, path)
