"""The rivals' published numbers beside ours, each cell naming its source, and SUMMER's relayed deltas
marked second-hand. SUMMER's own absolute cells stay "—": no copy available to us publishes them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from benchmark.data.schema import CLASS_NAMES
from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import SUBJECT, SUMMER
from benchmark.home import REFERENCE_DIR
from benchmark.report.tables import Variant, mean_std

PUBLISHED_NUMBERS = REFERENCE_DIR / "published_numbers.json"
WEIGHTED_F1_GAIN = "weighted-F1 over the prior best"  # the relayed delta "beats every rival" quotes
MISSING = "—"


@dataclass(frozen=True)
class SummerClaims:
    """What SUMMER's claims name, from its paper (relayed), per dataset family: its weighted-F1 gain over
    the prior best where one is relayed (IEMOCAP only), the classes its gains are largest on and the pairs
    of semantically similar classes it confuses less, each a class of the family's (`CLASS_NAMES`)."""

    weighted_f1_gains: dict[str, float]
    minority_classes: dict[str, tuple[str, ...]]
    similar_pairs: dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class PublishedNumbers:
    raw: dict

    def source(self, key: str) -> str:
        return self.raw["sources"][key]

    def summer_claims(self) -> SummerClaims:
        named = self.raw["summer_claims"]
        minority = {family: tuple(classes) for family, classes in named["minority_classes"].items()}
        pairs = {
            family: tuple((a, b) for a, b in listed) for family, listed in named["similar_pairs"].items()
        }
        for family, classes in [
            *minority.items(),
            *((f, [c for p in ps for c in p]) for f, ps in pairs.items()),
        ]:
            unknown = sorted(set(classes) - set(CLASS_NAMES.get(family, ())))
            if unknown:
                raise BenchmarkError(
                    f"{PUBLISHED_NUMBERS}: summer_claims names {', '.join(unknown)}, not a class of {family} "
                    f"({', '.join(CLASS_NAMES.get(family, ()))}): correct the file"
                )
        gains = {
            family: float(d["delta"])
            for family, deltas in self.raw["summer_relayed"].items()
            if isinstance(deltas, list)
            for d in deltas
            if d.get("what") == WEIGHTED_F1_GAIN
        }
        return SummerClaims(gains, minority, pairs)


def read_published_numbers() -> PublishedNumbers:
    return PublishedNumbers(json.loads(PUBLISHED_NUMBERS.read_text()))


def _cell(value: float | None, source: str) -> str:
    return MISSING if value is None else f"{value:.2f} [{source}]"


def published_table(published: PublishedNumbers, family: str, variants: list[Variant]) -> pd.DataFrame:
    """One row per published rival (and re-run), then SUMMER's row of dashes; `ours` is this report's
    mean ± std for the rivals the suite also trains."""
    classes = published.raw["classes"][family]
    ours = {v.name: v for v in variants}
    rows = []
    for kind, entries in (
        ("published", published.raw["rivals"][family]),
        ("re-run", published.raw["reruns"][family]),
    ):
        for entry in entries:
            source = entry["source"]
            per_class = entry.get("per_class") or [None] * len(classes)
            row = {"model": entry["model"], "kind": kind}
            row |= {c: _cell(v, source) for c, v in zip(classes, per_class, strict=True)}
            row["Acc"] = _cell(entry.get("accuracy"), source)
            row["wF1"] = _cell(entry["weighted_f1"], source)
            mine = ours.get(entry["ours"] or "")
            row["our wF1 (this report)"] = mean_std(mine.values("weighted_f1")) if mine else MISSING
            rows.append(row)
    summer = {"model": SUBJECT.label, "kind": "published"} | {c: MISSING for c in classes}
    summer |= {"Acc": MISSING, "wF1": MISSING}
    full = ours.get(SUMMER)
    summer["our wF1 (this report)"] = mean_std(full.values("weighted_f1")) if full else MISSING
    return pd.DataFrame([*rows, summer])


def published_summary(published: PublishedNumbers, model: str) -> str:
    """The weighted-F1 the rival's own paper publishes per dataset family, and the source, for a
    model the suite trains (`list`); "—" where none is transcribed."""
    cells, sources = [], []
    for family, entries in published.raw["rivals"].items():
        for entry in entries:
            if entry["ours"] == model:
                cells.append(f"{family} {entry['weighted_f1']:.2f}")
                sources.append(entry["source"])
    if not cells:
        return MISSING
    return f"wF1 {', '.join(cells)} [{'; '.join(published.source(s) for s in dict.fromkeys(sources))}]"


def relayed_lines(published: PublishedNumbers, family: str) -> list[str]:
    relayed = published.raw["summer_relayed"]
    source = published.source(relayed["source"])
    lines = [f"SUMMER's relayed deltas, **second-hand** ({source}):", ""]
    lines += [f"- {d['what']}: {d['delta']:+.2f} points" for d in relayed[family]]
    lines += [f"- {d['what']}: {d['delta_range'][0]}–{d['delta_range'][1]} points" for d in relayed["both"]]
    return lines


def source_lines(published: PublishedNumbers) -> list[str]:
    return [f"- [{key}] {text}" for key, text in published.raw["sources"].items()]
