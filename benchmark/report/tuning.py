"""The tuning protocol in a report: which runs stand for each variant (its tuned runs where `tune` chose
its settings and trained them on every seed, else its default runs), and, per tuned variant, the trials
spent, the chosen settings, the validation score of the default and of the tuned configuration, and
Show Your Work's expected maximum validation weighted-F1 against the number of trials (Dodge et al.,
EMNLP 2019).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from benchmark.experiment.profiles import PROFILES  # noqa: E402
from benchmark.home import Home  # noqa: E402
from benchmark.models.search_space import settings_shown  # noqa: E402
from benchmark.report.claims import ClaimRow  # noqa: E402
from benchmark.report.plots import _legend_outside, _save  # noqa: E402
from benchmark.store.records import RunRecord  # noqa: E402
from benchmark.store.studies import TuningSummary, read_study  # noqa: E402
from benchmark.stored import StoredFileError  # noqa: E402


def expected_maximum(scores: Sequence[float], n: int) -> float:
    """Show Your Work's expected best of `n` trials drawn with replacement from the N observed `scores`:

    E[max of n] = sum_i v_(i) [(i / N)^n - ((i - 1) / N)^n],   v_(1) <= ... <= v_(N) the sorted scores.
    """
    ordered = sorted(scores)
    total = len(ordered)
    return sum(v * ((i / total) ** n - ((i - 1) / total) ** n) for i, v in enumerate(ordered, 1))


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The records a report reads for one dataset and profile, and the studies behind the tuned ones."""

    records: list[RunRecord]  # per variant, its tuned runs or its default runs, never a trial's
    defaults: list[RunRecord]  # every default run (for the claims under both protocols)
    tuned: dict[str, TuningSummary]  # variant -> its study, for the variants `records` holds tuned

    def describe(self) -> str:
        """How the claims' runs were configured, as the claims' data cell says it."""
        if not self.tuned:
            return "default configurations"
        budgets = sorted({len(summary.trials) for summary in self.tuned.values()})
        return (
            f"tuned on validation ({'/'.join(map(str, budgets))} trials each): {', '.join(sorted(self.tuned))}; "
            "the others default"
        )


def chosen_records(
    home: Home, records: Sequence[RunRecord], dataset: str, profile: str, warn=print
) -> Protocol:
    """`protocol_of` the studies of `records`' variants, read from `home`. A study file that cannot be
    read is said in one line, and its variant's default runs reported."""
    studies: dict[str, TuningSummary | None] = {}
    for variant in dict.fromkeys(r.key.variant for r in records):
        try:
            studies[variant] = read_study(home, dataset, profile, variant)
        except StoredFileError as err:
            warn(f"{err} (reporting {variant}'s default runs meanwhile)")
            studies[variant] = None
    return protocol_of(records, profile, studies)


def protocol_of(
    records: Sequence[RunRecord], profile: str, studies: Mapping[str, TuningSummary | None]
) -> Protocol:
    """Each variant's tuned runs where its study (`studies[variant]`, None: not tuned) chose settings and
    they were trained on every seed of the profile; else its default runs. Other runs with settings
    (trials, `run --set`) are left out."""
    defaults = [r for r in records if not r.key.settings]
    seeds = set(PROFILES.get(profile).seeds) if profile in PROFILES.names() else set()
    chosen, tuned = [], {}
    for variant in dict.fromkeys(r.key.variant for r in records):
        summary = studies[variant]
        best = [
            r
            for r in records
            if summary and r.key.variant == variant and r.key.settings == summary.best.settings
        ]
        if summary and seeds <= {r.key.seed for r in best}:
            chosen += best
            tuned[variant] = summary
        else:
            chosen += [r for r in defaults if r.key.variant == variant]
    return Protocol(chosen, defaults, tuned)


def annotated_claims(chosen: list[ClaimRow], default: list[ClaimRow], protocol: Protocol) -> list[ClaimRow]:
    """The claims on the chosen runs, each saying which configurations it rests on, and, where the default
    configurations give another verdict, that verdict."""
    if not protocol.tuned:
        return chosen
    by_claim = {row.claim: row for row in default}
    annotated = []
    for row in chosen:
        other = by_claim.get(row.claim)
        differs = other is not None and other.verdict != row.verdict
        note = f"; the default configurations give {other.verdict}" if differs else ""
        annotated.append(
            dataclasses.replace(row, data=f"{row.data}; {protocol.describe()}", evidence=row.evidence + note)
        )
    return annotated


def tuning_table(protocol: Protocol) -> pd.DataFrame:
    rows = [
        {
            "variant": variant,
            "trials": len(summary.trials),
            "trial seed": summary.trial_seed,
            "chosen settings": settings_shown(summary.best.settings) or "the defaults",
            "validation wF1 default (%)": (
                f"{100 * summary.default.validation_weighted_f1:.2f}" if summary.default else "—"
            ),
            "validation wF1 tuned (%)": f"{100 * summary.best.validation_weighted_f1:.2f}",
        }
        for variant, summary in sorted(protocol.tuned.items())
    ]
    return pd.DataFrame(rows)


def expected_maximum_plot(protocol: Protocol, title: str, path: Path) -> Path | None:
    if not protocol.tuned:
        return None
    figure, axes = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for variant, summary in sorted(protocol.tuned.items()):
        scores = [100 * trial.validation_weighted_f1 for trial in summary.trials]
        budgets = range(1, len(scores) + 1)
        axes.plot(budgets, [expected_maximum(scores, n) for n in budgets], marker="o", label=variant)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trials (n)")
    axes.set_ylabel("expected max validation weighted-F1 (%)")
    axes.set_title(title)
    _legend_outside(axes)
    return _save(figure, path)


def tuning_markdown(protocol: Protocol, table: pd.DataFrame, markdown_table) -> list[str]:
    if not protocol.tuned:
        return []
    return [
        "## Tuning: the same budget for every tuned model",
        "",
        "Each trial is a stored run on the profile's first seed, scored on validation weighted-F1 only; trial 0",
        "is the defaults. The chosen settings are trained on every seed and stand for the variant in the tables",
        "and claims above; the other variants are at their defaults. `expected_max.png`: the expected best",
        "validation weighted-F1 of n trials (Dodge et al., EMNLP 2019).",
        "",
        *markdown_table(table),
        "",
        "![expected_max](expected_max.png)",
        "",
    ]
