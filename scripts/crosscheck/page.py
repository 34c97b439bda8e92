"""The cross-check page (Markdown) and its CSV: one row per (reference, dataset, side), seeds pooled."""

from __future__ import annotations

import csv
import datetime
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark.data import synthetic
from scripts.crosscheck.compare import Side
from scripts.crosscheck.reference import Reference

SIDES = ("reference", "ours")


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def summary_rows(results: Sequence[Side]) -> list[dict]:
    """One CSV row per (reference, dataset, side): parameters, weighted-F1 and per-class F1 mean and
    std over seeds (percent), seconds per epoch, and, on our side's row, the gap and the pooled spread."""
    groups: dict[tuple[str, str, str], list[Side]] = {}
    for side in results:
        groups.setdefault((side.reference, side.dataset, side.side), []).append(side)
    rows = []
    for (reference, dataset, side_name), sides in groups.items():
        f1, f1_std = mean_std([100 * s.test.weighted_f1 for s in sides])
        row = {
            "reference": reference,
            "dataset": dataset,
            "side": side_name,
            "model": sides[0].model,
            "seeds": " ".join(str(s.seed) for s in sides),
            "n": len(sides),
            "parameters": sides[0].parameters,
            "untrained_parameters": sides[0].untrained_parameters,
            "weighted_f1 mean": round(f1, 2),
            "weighted_f1 std": _rounded(f1_std),
            "seconds_per_epoch": round(statistics.fmean(s.seconds_per_epoch for s in sides), 2),
            "width": sides[0].settings.width,
            "epochs": sides[0].settings.epochs,
        }
        for name in sides[0].test.per_class_f1:
            value, spread = mean_std([100 * s.test.per_class_f1[name] for s in sides])
            row[f"f1 {name} mean"], row[f"f1 {name} std"] = round(value, 2), _rounded(spread)
        rows.append(row)
    by_key = {(r["reference"], r["dataset"], r["side"]): r for r in rows}
    for row in rows:
        if row["side"] == "ours" and (row["reference"], row["dataset"], "reference") in by_key:
            theirs = by_key[(row["reference"], row["dataset"], "reference")]
            row["gap"] = round(row["weighted_f1 mean"] - theirs["weighted_f1 mean"], 2)
            if row["weighted_f1 std"] != "" and theirs["weighted_f1 std"] != "":
                pooled = ((row["weighted_f1 std"] ** 2 + theirs["weighted_f1 std"] ** 2) / 2) ** 0.5
                row["pooled_std"] = round(pooled, 2)
    return rows


def _rounded(value: float | None):
    return "" if value is None else round(value, 2)


@dataclass(frozen=True)
class Progress:
    """How far the check has come when the page is written: it is rewritten after every pair."""

    pairs_done: int
    pairs: int
    wall_seconds: float

    def sentence(self) -> str:
        minutes = f"{self.wall_seconds / 60:.1f} min of wall clock"
        if self.pairs_done == self.pairs:
            return f"The whole check, {self.pairs} (reference, dataset) pairs, took {minutes}."
        return (
            f"Interrupted: {self.pairs_done} of {self.pairs} (reference, dataset) pairs done after {minutes}."
        )


def write_page(
    results: Sequence[Side],
    references: Sequence[Reference],
    args,
    command: str,
    out: Path,
    progress: Progress,
) -> None:
    rows = summary_rows(results)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    _write_atomically(out / "crosscheck.csv", lambda handle: _csv(handle, columns, rows))
    _write_atomically(
        out / "crosscheck.md",
        lambda handle: handle.write(_markdown(rows, references, args, command, progress)),
    )


def _csv(handle, columns: list[str], rows: list[dict]) -> None:
    writer = csv.DictWriter(handle, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)


def _write_atomically(path: Path, write) -> None:
    """A half-written page never replaces a finished one."""
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        write(handle)
    os.replace(partial, path)


def _markdown(
    rows: list[dict], references: Sequence[Reference], args, command: str, progress: Progress
) -> str:
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        "# Rivals cross-checked against their authors' code",
        "",
        f"Measured {today} with `{command}`: width `{args.width}`, device `{args.device}`, seeds "
        f"{', '.join(map(str, args.seeds))}, torch {torch.__version__}, synthetic generator version "
        f"{synthetic.GENERATOR_VERSION}, load average {load:.1f} at the end (2-core CPU machine when "
        "the device is `cpu`). " + progress.sentence(),
        "",
        "Both sides train on the same data written in each reference's own input format, with the same "
        "width, heads, dropout, learning rate, batch, epochs, weight decay and class weights; both are "
        "scored by the suite's scorer (`benchmark/training/metrics.py`) at the epoch with the best **validation** "
        "weighted-F1. The references' own scripts keep their best **test** epoch; the cross-check applies "
        "our protocol to both sides. A gap larger than the pooled seed spread is a finding.",
        "",
        "## References and patches",
        "",
    ]
    for reference in references:
        lines.append(
            f"- **{reference.name}**: github.com/{reference.repository} @ `{reference.commit}`, "
            f"beside our `{reference.rival}`. Patches:"
        )
        lines += [f"  - `{p.file}`: {p.why}" for p in reference.patches] or ["  - none"]
        lines += [f"  - `import {stub}` gets an empty module: {why}" for stub, why in reference.stubs.items()]
    lines += ["", "## Results", ""]
    lines += [
        "| reference | dataset | side | parameters (never trained) | width, epochs | test weighted-F1 "
        "| gap (ours − theirs) | pooled std | s/epoch |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        spread = f" ± {row['weighted_f1 std']:.2f}" if row["weighted_f1 std"] != "" else ""
        gap = f"{row['gap']:+.2f}" if "gap" in row else ""
        lines.append(
            f"| {row['reference']} | {row['dataset']} | {row['model']} | {row['parameters']:,} "
            f"({row['untrained_parameters']:,}) | {row['width']}, {row['epochs']} | "
            f"{row['weighted_f1 mean']:.2f}{spread} | {gap} | {row.get('pooled_std', '')} | "
            f"{row['seconds_per_epoch']:.2f} |"
        )
    lines += ["", "Per-class test F1, mean ± std over seeds:", ""]
    for row in rows:
        classes = [
            k.removeprefix("f1 ").removesuffix(" mean")
            for k in row
            if k.startswith("f1 ") and k.endswith(" mean")
        ]
        cells = ", ".join(
            f"{c} {row[f'f1 {c} mean']:.1f}"
            + (f" ± {row[f'f1 {c} std']:.1f}" if row[f"f1 {c} std"] != "" else "")
            for c in classes
        )
        lines.append(f"- {row['reference']} / {row['dataset']} / {row['model']}: {cells}")
    lines += ["", "## What still differs, named", ""]
    for reference in references:
        lines += [f"- **{reference.name}**: {d}" for d in reference.differences()]
    return "\n".join(lines) + "\n"
