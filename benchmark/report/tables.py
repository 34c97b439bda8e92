"""From run records of one dataset and profile to the tables a reader compares: pure functions."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import pandas as pd

from benchmark.experiment.catalog import SUBJECT, SUMMER
from benchmark.models.contract import ablations_of
from benchmark.report.paper_numbers import PaperNumbers, verdict
from benchmark.report.stats import CONFIDENCE, bootstrap_interval, mean_and_std, paired_bootstrap
from benchmark.store.records import FULL_MODEL, Predictions, RunRecord


@dataclass(frozen=True)
class Variant:
    name: str  # RunKey.variant
    label: str
    model: str
    ablation: str
    records: tuple[RunRecord, ...]  # one per seed, sorted by seed

    def values(self, metric: str) -> list[float]:
        """Percent, one per seed: "weighted_f1", "accuracy", "test_oracle" or a class name."""
        if metric == "test_oracle":
            return [100 * r.test_oracle_weighted_f1 for r in self.records]
        if metric in ("weighted_f1", "accuracy", "macro_f1"):
            return [100 * getattr(r.test, metric) for r in self.records]
        return [100 * r.test.per_class_f1[metric] if _in_test(r, metric) else ABSENT for r in self.records]

    @property
    def predictions(self) -> dict[int, Predictions]:
        return {r.key.seed: r.predictions for r in self.records}

    @property
    def still_improving(self) -> int:
        """Seeds whose validation was still improving when training stopped (`Convergence`)."""
        return sum(r.convergence.still_improving for r in self.records)


ABSENT = float("nan")  # a class with no test utterance has no F1 (stored as 0): a gap, never a score


def _in_test(record: RunRecord, name: str) -> bool:
    """Whether the run's test split holds `name` (its confusion row, true class `name`, counts any)."""
    row = list(record.test.per_class_f1).index(name)
    return sum(record.test.confusion[row]) > 0


def variants_of(records: list[RunRecord]) -> list[Variant]:
    """Baselines alphabetically, then full SUMMER, then its ablations in their registration order (the
    paper's table 4 rows, then the suite's)."""
    grouped: dict[str, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(record.key.variant, []).append(record)
    rows = [FULL_MODEL, *ablations_of(SUMMER)]

    def order(name: str) -> tuple:
        key = grouped[name][0].key
        if key.model != SUMMER:
            return (0, name)
        return (1, rows.index(key.ablation) if key.ablation in rows else len(rows), name)

    variants = []
    for name in sorted(grouped, key=order):
        runs = tuple(sorted(grouped[name], key=lambda r: r.key.seed))
        key = runs[0].key
        label = name if key.ablation == FULL_MODEL else runs[0].config.ablation_label
        variants.append(
            Variant(name, SUBJECT.label if name == SUMMER else label, key.model, key.ablation, runs)
        )
    return variants


def full_summer(variants: list[Variant]) -> Variant | None:
    return next((v for v in variants if v.name == SUMMER), None)


def mean_std(values: list[float]) -> str:
    """Mean ± std over seeds; one seed has no spread to show; "absent" for a class no test split holds."""
    if all(math.isnan(v) for v in values):
        return "absent"
    mean, spread = mean_and_std(values)
    return f"{mean:.2f} ± {spread:.2f}" if len(values) > 1 else f"{mean:.2f}"


def main_table(
    variants: list[Variant],
    classes: list[str],
    family: str,
    synthetic: bool,
    paper: PaperNumbers,
    resamples: int,
) -> pd.DataFrame:
    rows = []
    for variant in (v for v in variants if v.ablation == FULL_MODEL):
        row = {"model": variant.label, "n": len(variant.records), "still improving": variant.still_improving}
        row |= {name: mean_std(variant.values(name)) for name in classes}
        row["Acc"] = mean_std(variant.values("accuracy"))
        row["wF1"] = mean_std(variant.values("weighted_f1"))
        row["macro-F1"] = mean_std(variant.values("macro_f1"))
        row["wF1 test-oracle"] = mean_std(variant.values("test_oracle"))
        cell = paper.value(family, variant.name, "weighted_f1")
        if cell is None:
            row |= {"paper wF1": "—", "Δ": "—", "verdict": "—"}
        else:
            ours = statistics.mean(variant.values("weighted_f1"))
            low, high = (100 * x for x in bootstrap_interval(variant.predictions, len(classes), resamples))
            judged = verdict(cell[0], low, high, ours, paper.tolerance_points, synthetic)
            row |= {
                "paper wF1": f"{cell[0]:.2f} ({cell[1]})",
                "Δ": f"{ours - cell[0]:+.2f}",
                "verdict": judged,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def numeric_table(variants: list[Variant], classes: list[str]) -> pd.DataFrame:
    """Every variant's metrics as numbers for a CSV: `<metric> mean` and `<metric> std` (percent; std
    empty for one seed) and `n` seeds."""
    rows = []
    for variant in variants:
        row: dict[str, object] = {
            "model": variant.label,
            "variant": variant.name,
            "n": len(variant.records),
            "still improving": variant.still_improving,
        }
        for metric in [*classes, "accuracy", "weighted_f1", "macro_f1", "test_oracle"]:
            values = variant.values(metric)
            mean, spread = mean_and_std(values)
            row[f"{metric} mean"] = mean
            row[f"{metric} std"] = spread if len(values) > 1 else None
        rows.append(row)
    return pd.DataFrame(rows)


OPTIMISM_TEXT = (
    "From the same runs, the number the field's habits give: most published MERC numbers are one run, the best "
    "seed, at the epoch that scores best on the test split; `optimism` is how far that figure lies above the "
    "protocol's (the mean over seeds at the epoch chosen on validation), the part of a published number a "
    "reader should discount."
)


def optimism_table(variants: list[Variant]) -> pd.DataFrame:
    """Per variant, in percent: the protocol's test weighted-F1 (mean over seeds, validation-selected
    epochs), the best seed's test weighted-F1 at its best test epoch, and the second minus the first."""
    rows = []
    for variant in variants:
        protocol = statistics.mean(variant.values("weighted_f1"))
        habit = max(variant.values("test_oracle"))
        rows.append(
            {
                "model": variant.label,
                "variant": variant.name,
                "n": len(variant.records),
                "wF1 protocol": protocol,
                "wF1 best seed, best test epoch": habit,
                "optimism": habit - protocol,
            }
        )
    return pd.DataFrame(rows)


def formatted_optimism(table: pd.DataFrame) -> pd.DataFrame:
    """The optimism table as the Markdown report prints it."""
    points = ["wF1 protocol", "wF1 best seed, best test epoch"]
    shown = table.drop(columns="variant").assign(**{c: table[c].map("{:.2f}".format) for c in points})
    return shown.assign(optimism=table["optimism"].map("{:+.2f}".format))


def comparison_table(
    variants: list[Variant], n_classes: int, resamples: int, ablations: bool
) -> pd.DataFrame:
    """Full SUMMER minus each rival (ablations=False) or each ablation (True), paired dialogue bootstrap;
    numbers in percent points."""
    full = full_summer(variants)
    if full is None:
        return pd.DataFrame()
    others = [v for v in variants if v is not full and (v.model == SUMMER) == ablations]
    rows = []
    for other in others:
        if not full.predictions.keys() & other.predictions.keys():
            continue
        result = paired_bootstrap(full.predictions, other.predictions, n_classes, resamples)
        scores = other.values("weighted_f1")
        mean, spread = mean_and_std(scores)
        rows.append(
            {
                "SUMMER vs": other.label,
                "its wF1 mean": mean,
                "its wF1 std": spread if len(scores) > 1 else None,
                "n": len(scores),
                "Δ wF1 (SUMMER − it)": 100 * result.mean_difference,
                "low": 100 * result.low,
                "high": 100 * result.high,
                "one-sided p": result.p_value,
                "seeds": result.seeds,
            }
        )
    return pd.DataFrame(rows)


def formatted_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as the Markdown report prints it."""
    return pd.DataFrame(
        {
            "SUMMER vs": row["SUMMER vs"],
            "wF1 of it": f"{row['its wF1 mean']:.2f}"
            + ("" if pd.isna(row["its wF1 std"]) else f" ± {row['its wF1 std']:.2f}"),
            "Δ wF1 (SUMMER − it)": f"{row['Δ wF1 (SUMMER − it)']:+.2f}",
            f"{CONFIDENCE:.0%} interval": f"[{row['low']:+.2f}, {row['high']:+.2f}]",
            "one-sided p": f"{row['one-sided p']:.3f}",
            "seeds": row["seeds"],
        }
        for _, row in table.iterrows()
    )


def markdown_table(table: pd.DataFrame) -> list[str]:
    """The one Markdown table writer: a header, its rule and one row per line, values as `str` gives them."""
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return [header, rule, *rows]
