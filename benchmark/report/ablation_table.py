"""The ablation table laid out like the paper's table 4: per row, per-class F1, accuracy and weighted-F1
(mean ± std over seeds), with the paired dialogue bootstrap against full SUMMER and the table the row
comes from (the paper's, the suite's or both)."""

from __future__ import annotations

import pandas as pd

from benchmark.experiment.catalog import SUMMER
from benchmark.report.stats import paired_bootstrap
from benchmark.report.tables import Variant, full_summer, mean_std

ORIGIN_LABEL = {"paper": "paper", "suite": "suite", "paper+suite": "paper + suite"}


def origin_of(variant: Variant) -> str:
    return variant.records[0].config.ablation_origin or "suite"


def paper_ablation_table(variants: list[Variant], classes: list[str], resamples: int) -> pd.DataFrame:
    full = full_summer(variants)
    if full is None:
        return pd.DataFrame()
    rows = []
    for variant in [full, *(v for v in variants if v.model == SUMMER and v is not full)]:
        row = {
            "row": variant.label,
            "from": "—" if variant is full else ORIGIN_LABEL.get(origin_of(variant), "suite"),
        }
        row |= {c: mean_std(variant.values(c)) for c in classes}
        row["Acc"] = mean_std(variant.values("accuracy"))
        row["wF1"] = mean_std(variant.values("weighted_f1"))
        shared = full.predictions.keys() & variant.predictions.keys()
        if variant is full or not shared:
            row |= {"Δ wF1 (SUMMER − row)": "—", "95% interval": "—", "one-sided p": "—"}
        else:
            result = paired_bootstrap(full.predictions, variant.predictions, len(classes), resamples)
            row |= {
                "Δ wF1 (SUMMER − row)": f"{100 * result.mean_difference:+.2f}",
                "95% interval": f"[{100 * result.low:+.2f}, {100 * result.high:+.2f}]",
                "one-sided p": f"{result.p_value:.3f}",
            }
        rows.append(row)
    return pd.DataFrame(rows)
