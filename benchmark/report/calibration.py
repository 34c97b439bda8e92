"""What the synthetic world is calibrated to, and how far its order of the rivals agrees with real data's,
as every synthetic report's header states it: read from the committed calibration page
(`results/reference/synthetic_calibration.csv`, written by `python -m scripts.synthetic_calibration`).

The page has one row per cell. A calibration cell (`CONTEXT_GAIN`, `PLANTED`) is a target the generator
is set to, with its band; a rank-check cell (`RANK_CHECK`) is Kendall's tau between the synthetic order
of the models and a real one, never used to set the generator.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.data.synthetic import CONTEXT_GAIN_TOLERANCE, PLANTED_SOURCE, PLANTED_TOLERANCE
from benchmark.home import REFERENCE_DIR

CALIBRATION_PAGE = REFERENCE_DIR / "synthetic_calibration"
CONTEXT_GAIN, PLANTED, RANK_CHECK = "context gain", "ECERC table 5", "rank check"
COLUMNS = (
    "kind",
    "dataset",
    "cell",
    "source",
    "target",
    "synthetic",
    "difference",
    "band",
    "within",
    "detail",
)


def calibration_lines(family: str, page: Path | None = None) -> list[str]:
    """The header's account for a synthetic report of `family` ("iemocap" or "meld"), from `page`'s CSV
    (default: the committed `CALIBRATION_PAGE`)."""
    csv = (page or CALIBRATION_PAGE).with_suffix(".csv")
    calibrated = (
        f"Calibrated to {PLANTED_SOURCE} (the teacher-modality study's t, a, v and t+a+v cells, each within "
        f"{PLANTED_TOLERANCE:.0f} points at `fast`) and to the dialogue-context gain of the real transcripts "
        f"(text teacher over a context-free logistic regression, within {CONTEXT_GAIN_TOLERANCE:.0f} points)"
    )
    if not csv.exists():
        return [f"{calibrated}; no calibration page ({csv.name} absent): how far its rival order agrees "
                "with real data is not measured."]  # fmt: skip
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    rows = table[table.dataset == family]
    targets = rows[rows.kind.isin([CONTEXT_GAIN, PLANTED])]
    within = (targets.within == "yes").sum()
    checks = []
    for row in rows[rows.kind == RANK_CHECK].itertuples():
        checks.append(f"{row.cell}: {row.synthetic if row.synthetic else 'not run'}")
    agreement = "; ".join(checks) if checks else "not measured"
    return [
        f"{calibrated}: {within} of {len(targets)} cells within their band on the committed page "
        f"({csv.name}). Agreement of its model order with real data, Kendall's tau, never calibrated on: "
        f"{agreement}."
    ]
