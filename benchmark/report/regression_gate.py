"""The metric regression gate: fresh smoke-profile runs against the committed reference.

The reference (`results/reference/smoke.json`) holds, per (dataset, variant), the gate seed's metrics,
the same metrics on a few more seeds, and a tolerance derived from that spread. Where the check runs on
the machine the reference was made on (same CPU, torch, threads), training is bit-deterministic, so the
gate demands exact equality; elsewhere it allows the tolerance.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmark.errors import BenchmarkError
from benchmark.files import atomic_write_json
from benchmark.store.records import RunKey, RunRecord
from benchmark.stored import ShapeError, StoredFileError, read_json, typed

REFERENCE_SCHEMA_VERSION = 1
GATED_METRICS: tuple[str, ...] = ("weighted_f1", "accuracy", "macro_f1")  # on test, at the selected epoch
# Tolerance = min(max(SPREAD_MULTIPLIER * sample std over the spread seeds, TOLERANCE_FLOOR), TOLERANCE_CEILING):
# a move larger than three seed-standard-deviations is unlikely to be seed noise; the floor keeps a
# zero-spread entry usable; the ceiling keeps a gate on the tiny smoke data, whose seed spread reaches
# 0.14, from passing a 13-point drop. An entry whose spread exceeds the ceiling may then fail on another
# machine from numerics alone: `check --update` on that machine makes it the reference one.
SPREAD_MULTIPLIER = 3.0
TOLERANCE_FLOOR = 0.005
TOLERANCE_CEILING = 0.05  # 5 points of weighted-F1, accuracy or macro-F1


def entry_name(key: RunKey) -> str:
    return f"{key.dataset}/{key.variant}"


@dataclass(frozen=True)
class Finding:
    entry: str
    metric: str
    reference: float | None
    observed: float | None
    tolerance: float  # 0.0 where exact equality is demanded
    failed: bool
    reason: str

    @property
    def delta(self) -> float | None:
        if self.reference is None or self.observed is None:
            return None
        return self.observed - self.reference


@dataclass(frozen=True)
class EntryKey:
    model: str
    ablation: str
    dataset: str


@dataclass(frozen=True)
class ReferenceEntry:
    """One (dataset, variant) of the reference: the gate seed's metrics and the tolerance of each."""

    key: EntryKey
    config_hash: str
    metrics: dict[str, float]  # GATED_METRICS -> the gate seed's value
    spread: dict[str, list[float]]  # "seeds" -> the spread seeds; each metric -> its values on them
    tolerance: dict[str, float]  # GATED_METRICS -> allowed move away from the reference machine


@dataclass(frozen=True)
class Reference:
    """`results/reference/smoke.json`, as `check --update` writes it and `check` reads it."""

    schema_version: int
    profile: str
    gate_seed: int
    metrics: list[str]
    tolerance_rule: str
    deterministic_on: dict[str, Any]  # the machine fingerprint where exact equality is demanded
    entries: dict[str, ReferenceEntry]  # entry_name -> entry

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _metrics_of(record: RunRecord) -> dict[str, float]:
    return {metric: float(getattr(record.test, metric)) for metric in GATED_METRICS}


def build_reference(
    gate_records: Sequence[RunRecord],
    spread_records: Sequence[RunRecord],
    fingerprint: dict[str, Any],
) -> Reference:
    """The reference document from the gate seed's runs and the runs of every spread seed."""
    spread: dict[str, list[RunRecord]] = {}
    for record in spread_records:
        spread.setdefault(entry_name(record.key), []).append(record)
    entries: dict[str, ReferenceEntry] = {}
    for record in sorted(gate_records, key=lambda r: entry_name(r.key)):
        name = entry_name(record.key)
        seeds_records = sorted(spread.get(name, []), key=lambda r: r.key.seed)
        if len(seeds_records) < 2:
            raise BenchmarkError(
                f"reference entry {name} needs runs on at least 2 spread seeds to derive a tolerance"
            )
        per_metric = {m: [_metrics_of(r)[m] for r in seeds_records] for m in GATED_METRICS}
        entries[name] = ReferenceEntry(
            key=EntryKey(record.key.model, record.key.ablation, record.key.dataset),
            config_hash=record.config_hash,
            metrics=_metrics_of(record),
            spread={"seeds": [r.key.seed for r in seeds_records], **per_metric},
            tolerance={
                m: round(
                    min(
                        max(SPREAD_MULTIPLIER * statistics.stdev(values), TOLERANCE_FLOOR), TOLERANCE_CEILING
                    ),
                    6,
                )
                for m, values in per_metric.items()
            },
        )
    profile = {r.key.profile for r in gate_records}
    seed = {r.key.seed for r in gate_records}
    if len(profile) != 1 or len(seed) != 1:
        raise BenchmarkError("the gate's runs must share one profile and one seed")
    return Reference(
        schema_version=REFERENCE_SCHEMA_VERSION,
        profile=profile.pop(),
        gate_seed=seed.pop(),
        metrics=list(GATED_METRICS),
        tolerance_rule=(
            f"tolerance = min(max({SPREAD_MULTIPLIER:g} x sample std over the spread seeds, {TOLERANCE_FLOOR:g}), "
            f"{TOLERANCE_CEILING:g}); "
            "exact equality instead when the check runs on the `deterministic_on` machine"
        ),
        deterministic_on=fingerprint,
        entries=entries,
    )


def compare(reference: Reference, records: Iterable[RunRecord], fingerprint: dict[str, Any]) -> list[Finding]:
    """One finding per (entry, metric) observed, plus one per reference entry that was expected but not run."""
    exact = fingerprint == reference.deterministic_on
    observed = {entry_name(r.key): r for r in records}
    findings: list[Finding] = []
    for name, record in sorted(observed.items()):
        entry = reference.entries.get(name)
        if entry is None:
            findings.append(
                Finding(name, "*", None, None, 0.0, True, "not in the reference: run `check --update`")
            )
            continue
        for metric, value in _metrics_of(record).items():
            expected = float(entry.metrics[metric])
            # bounded here too, so that a reference written before the ceiling existed is bounded as well
            tolerance = 0.0 if exact else min(float(entry.tolerance[metric]), TOLERANCE_CEILING)
            moved = abs(value - expected)
            failed = value != expected if exact else moved > tolerance
            reason = ("differs on the reference machine" if exact else "beyond tolerance") if failed else "ok"
            findings.append(Finding(name, metric, expected, value, tolerance, failed, reason))
    return findings


def missing_entries(reference: Reference, planned: Iterable[RunKey]) -> list[Finding]:
    """Reference entries the current registry no longer plans: a silently dropped model is a regression."""
    planned_names = {entry_name(k) for k in planned}
    return [
        Finding(name, "*", None, None, 0.0, True, "in the reference but no longer registered")
        for name in sorted(set(reference.entries) - planned_names)
    ]


def findings_markdown(findings: Sequence[Finding], exact: bool) -> str:
    failed = [f for f in findings if f.failed]
    mode = "exact equality (reference machine)" if exact else "tolerance from seed spread"
    lines = [
        f"## Regression gate: {len(failed)} of {len(findings)} checks failed ({mode})",
        "",
        "| entry | metric | reference (%) | now (%) | Δ (points) | tolerance (points) | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    shown = failed or findings
    for f in shown:
        lines.append(
            f"| {f.entry} | {f.metric} | {_fmt(f.reference)} | {_fmt(f.observed)} | {_fmt(f.delta, signed=True)} "
            f"| {_fmt(f.tolerance)} | {'**FAIL**: ' + f.reason if f.failed else 'ok'} |"
        )
    return "\n".join(lines) + "\n"


def reference_changes_markdown(old: Reference | None, new: Reference) -> str:
    """What `check --update` changed, entry by entry, for the commit that changes the reference."""
    lines = ["| entry | metric | old (%) | new (%) | Δ (points) |", "|---|---|---:|---:|---:|"]
    old_entries = old.entries if old else {}
    for name in sorted(set(old_entries) | set(new.entries)):
        for metric in GATED_METRICS:
            before = old_entries[name].metrics.get(metric) if name in old_entries else None
            after = new.entries[name].metrics.get(metric) if name in new.entries else None
            if before != after:
                delta = None if before is None or after is None else after - before
                lines.append(
                    f"| {name} | {metric} | {_fmt(before)} | {_fmt(after)} | {_fmt(delta, signed=True)} |"
                )
    if len(lines) == 2:
        return "reference unchanged\n"
    return "\n".join(lines) + "\n"


def _fmt(value: float | None, signed: bool = False) -> str:
    """A fraction as percent, as every report prints it; a difference in points, to four decimals (the
    reference machine asks for exact equality)."""
    if value is None:
        return "—"
    return f"{100 * value:+.4f}" if signed else f"{100 * value:.2f}"


READ_AS = "regression-gate reference"  # what a bad reference file is called


def read_reference(path: Path) -> Reference:
    """The reference at `path`, every field checked; anything else (not JSON, another file's shape, an
    entry without a gated metric) is one line naming the file and the fix."""
    if not path.exists():
        raise BenchmarkError(
            f"reference file {path} not found: create it with `python -m benchmark check --update`"
        )
    fix = "restore it from git, or regenerate it with `python -m benchmark check --update`"
    raw = read_json(path, READ_AS, fix)
    is_reference = isinstance(raw, dict) and {"entries", "gate_seed"} <= set(raw)  # of some version
    if is_reference and raw.get("schema_version") != REFERENCE_SCHEMA_VERSION:
        raise StoredFileError(
            path,
            READ_AS,
            f"unknown schema_version {raw.get('schema_version')!r}",
            "regenerate it with `check --update`",
        )
    try:
        reference = typed(Reference, raw)
    except ShapeError as err:
        raise StoredFileError(path, READ_AS, str(err), fix) from None
    for name, entry in reference.entries.items():
        for section in ("metrics", "tolerance"):
            absent = [m for m in GATED_METRICS if m not in getattr(entry, section)]
            if absent:
                raise StoredFileError(path, READ_AS, f"entries.{name}.{section} has no {absent[0]}", fix)
    return reference


def write_reference(path: Path, reference: Reference) -> None:
    atomic_write_json(path, reference.to_json(), indent=2, sort_keys=True)
