"""The missing-modality table: test weighted-F1 of every trained model with modalities removed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.report.stats import mean_and_std
from benchmark.report.tables import Variant
from benchmark.store.records import CONDITIONS, NOT_IN_DATA, ZERO_FILLED


def missing_modality_table(variants: Sequence[Variant]) -> pd.DataFrame:
    """One row per (model, condition): numeric mean, std and n over seeds (percent), and how the
    modality was removed. Runs recorded before this evaluation existed have no row."""
    rows = []
    for variant in variants:
        measured = [r.missing_modalities for r in variant.records if r.missing_modalities]
        for condition in CONDITIONS if measured else ():
            cells = [m[condition] for m in measured]
            scores = [100 * c.weighted_f1 for c in cells if c.weighted_f1 is not None]
            mean, std = mean_and_std(scores) if scores else (None, None)
            rows.append(
                {
                    "model": variant.label,
                    "condition": condition,
                    "wF1 mean": mean,
                    "wF1 std": std if len(scores) > 1 else None,
                    "n": len(scores),
                    "how": cells[0].how,
                }
            )
    return pd.DataFrame(rows)


def missing_modality_markdown(table: pd.DataFrame, weight_files: Sequence[Path]) -> list[str]:
    if table.empty:
        return [
            "No run has this evaluation (runs stored before it existed): retrain them with `--force`.",
            "",
        ]
    sizes = [path.stat().st_size for path in weight_files if path.exists()]
    kept = (
        f"The validation-selected weights are kept beside each run record (`seed-N.pt`, {sum(sizes) / len(sizes) / 1024:.0f} KiB "
        f"per run on average, {sum(sizes) / 2**20:.1f} MiB for these {len(sizes)} runs)."
        if sizes
        else "The weights of these runs are not on disk."
    )
    lines = [
        "Test weighted-F1 (%, mean ± std over seeds) of each model at its validation-selected weights, with "
        "modalities removed at test time only. A removed modality is absent from the input; a model that "
        f"cannot run without it gets zeros instead, marked *{ZERO_FILLED}*. {kept}",
        "",
    ]
    conditions = list(CONDITIONS)
    lines += ["| model | " + " | ".join(conditions) + " |", "|---" * (len(conditions) + 1) + "|"]
    for model, group in table.groupby("model", sort=False):
        cells = []
        for row in group.itertuples(index=False):
            if row.how == NOT_IN_DATA:
                cells.append(f"— ({NOT_IN_DATA})")
                continue
            value = f"{row[2]:.2f}" + ("" if row[3] is None or pd.isna(row[3]) else f" ± {row[3]:.2f}")
            cells.append(value + (f" *{ZERO_FILLED}*" if row.how == ZERO_FILLED else ""))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return [*lines, ""]
