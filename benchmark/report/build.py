"""Reports: stored run records -> Markdown, CSV and PNG under the home's reports/. Trains nothing.

One report per (dataset, profile) and an index. Everything in the Markdown is derived from the records
and the paper-numbers file, sorted, without timestamps, so the same records give the same report.
"""

from __future__ import annotations

import collections
import statistics
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchmark.experiment.catalog import MODELS, SUMMER
from benchmark.files import atomic_write, atomic_write_json
from benchmark.home import Home
from benchmark.models.contract import ablations_of
from benchmark.report import paper_sections, plots, tuning
from benchmark.report.calibration import calibration_lines
from benchmark.report.claims import VERDICT_RULE, ClaimRow, ClaimsSummary, claim_rows, claims_table
from benchmark.report.crosscheck import crosscheck_lines
from benchmark.report.load import load_groups
from benchmark.report.modalities import missing_modality_markdown, missing_modality_table
from benchmark.report.paper_numbers import PaperNumbers, read_paper_numbers
from benchmark.report.published_numbers import read_published_numbers
from benchmark.report.stats import BOOTSTRAP_SEED, CONFIDENCE, DEFAULT_RESAMPLES
from benchmark.report.study_sections import is_study_run
from benchmark.report.tables import (
    OPTIMISM_TEXT,
    comparison_table,
    formatted_comparison,
    formatted_optimism,
    main_table,
    markdown_table,
    numeric_table,
    optimism_table,
    variants_of,
)
from benchmark.store.records import FULL_MODEL, Environment, RunRecord
from benchmark.store.runs import RunStore
from benchmark.stored import StoredFileError, read_typed

CLAIMS_FILE = "claims.json"


def write_reports(
    home: Home,
    datasets: Iterable[str] | None = None,
    profiles: Iterable[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    warn=print,
) -> list[Path]:
    stored, lines = load_groups(home, datasets, profiles)
    for line in lines:
        warn(line)
    skipped = [line for runs in stored.values() for line in runs.unreadable]
    groups = {group: runs.records for group, runs in stored.items() if runs.records}
    paper = read_paper_numbers()
    summer_claims = read_published_numbers().summer_claims()
    written = []
    rivals = [name for name in MODELS.names() if name != SUMMER]
    for (dataset, profile), every_run in sorted(groups.items()):
        protocol = tuning.chosen_records(home, every_run, dataset, profile, warn)
        group = protocol.records
        if not group:
            continue  # only runs with settings outside a finished study: nothing a report stands on
        folder = home.reports / f"{dataset}-{profile}"
        claims = claim_rows(group, rivals, ablations_of(SUMMER), summer_claims, resamples, BOOTSTRAP_SEED)
        if protocol.tuned:
            defaults = claim_rows(
                protocol.defaults, rivals, ablations_of(SUMMER), summer_claims, resamples, BOOTSTRAP_SEED
            )
            claims = tuning.annotated_claims(claims, defaults, protocol)
        weights = [RunStore(home).weights_path(r.key) for r in group]
        markdown, tables = render(group, dataset, profile, paper, resamples, folder, claims, weights)
        markdown, tables = paper_sections.append(markdown, tables, group, home, resamples, folder)
        if protocol.tuned:
            tables["tuning_table"] = tuning.tuning_table(protocol)
            markdown += "\n" + "\n".join(
                tuning.tuning_markdown(protocol, tables["tuning_table"], markdown_table)
            )
            tuning.expected_maximum_plot(
                protocol,
                f"Expected max validation weighted-F1, {dataset} ({profile})",
                folder / "expected_max.png",
            )
        written += _write_text(folder / "report.md", markdown)
        for name, table in tables.items():
            written += _write_text(folder / f"{name}.csv", table.to_csv(index=False))
        summary = ClaimsSummary(
            dataset=dataset,
            profile=profile,
            runs=len(group),
            synthetic=group[0].data.synthetic,
            confidence=CONFIDENCE,
            resamples=resamples,
            bootstrap_seed=BOOTSTRAP_SEED,
            rule=VERDICT_RULE,
            claims=claims,
        )
        atomic_write_json(folder / CLAIMS_FILE, summary.to_json(), indent=1, sort_keys=True)
        written.append(folder / CLAIMS_FILE)
    written += _write_text(home.reports / "index.md", _index(home.reports, skipped, warn))
    return written


def _index(reports: Path, skipped: list[str], warn) -> str:
    """Every report on disk, whichever ones this call rewrote: a narrowed report drops none. A report
    whose claims.json cannot be read is left out of the index with a line."""
    summaries = []
    for path in sorted(reports.glob(f"*/{CLAIMS_FILE}")):
        fix = f"rewrite it with `python -m benchmark report`, or delete {path.parent}"
        try:
            summaries.append(read_typed(path, ClaimsSummary, "report summary", fix))
        except StoredFileError as err:
            warn(f"leaving out of the index: {err}")
    lines = ["# summer-bench reports", ""]
    for summary in summaries:
        synthetic = " (synthetic data, not a reproduction)" if summary.synthetic else ""
        name = f"{summary.dataset}-{summary.profile}"
        lines.append(
            f"- [{summary.dataset}, profile {summary.profile}]({name}/report.md): {summary.runs} runs{synthetic}"
        )
    if summaries:
        lines += ["", "## Claims", "", summaries[0].rule, ""]
        rows = [row for summary in summaries for row in claims_table(summary.claims)]
        lines += markdown_table(pd.DataFrame(rows))
    if skipped:
        lines += [
            "",
            f"{len(skipped)} record file(s) skipped as unreadable: see the report command's output.",
        ]
    return "\n".join(lines) + "\n"


def render(
    records: list[RunRecord],
    dataset: str,
    profile: str,
    paper: PaperNumbers,
    resamples: int,
    folder: Path,
    claims: list[ClaimRow],
    weight_files: list[Path],
) -> tuple[str, dict[str, pd.DataFrame]]:
    first = records[0]
    classes = list(first.data.classes)
    family, synthetic = first.data.family, first.data.synthetic
    variants = variants_of([r for r in records if not is_study_run(r)])  # studies have their own sections
    tables = {
        "metrics_table": numeric_table(variants, classes),
        "optimism_table": optimism_table(variants),
        "ablation_table": comparison_table(variants, len(classes), resamples, ablations=True),
        "rivals_table": comparison_table(variants, len(classes), resamples, ablations=False),
        "missing_modality_table": missing_modality_table(variants),
    }
    title = f"{dataset} ({profile})"
    figures = [
        plots.per_class_bars(variants, classes, f"Per-class test F1, {title}", folder / "per_class_f1.png"),
        plots.ablation_deltas(
            variants, classes, f"Full SUMMER − each ablation, {title}", folder / "ablation_delta.png"
        ),
        plots.training_curves(variants, f"Validation weighted-F1 per epoch, {title}", folder / "curves.png"),
        *(
            plots.confusion_heatmap(v, classes, f"{v.label}, {title}", folder / f"confusion_{v.name}.png")
            for v in variants
        ),
    ]
    lines = [f"# {title}", ""]
    if synthetic:
        lines += [
            "**synthetic data, not a reproduction**: made by summer-bench's generator to exercise the suite.",
            *calibration_lines(family),
            "",
        ]
    for modality, exposure in first.data.test_split_exposure.items():
        lines += [
            f"**{modality} features that may have seen the test dialogues**: {exposure.describe()}.",
            "",
        ]
    lines += ["## Claims", "", VERDICT_RULE, "", *markdown_table(pd.DataFrame(claims_table(claims)))]
    lines += ["", "## Provenance", "", *_provenance(records), ""]
    lines += ["## Main table: test F1 per class, accuracy, weighted-F1 and macro-F1 (%)", ""]
    lines += [
        "Mean ± std over seeds (n seeds). Each run's epoch is chosen on the validation split; `wF1 test-oracle`",
        "is the best test epoch, as most published MERC numbers are chosen, shown for comparison only.",
        "`still improving`: seeds whose validation weighted-F1 was still improving when training stopped (they",
        "reached the epoch cap within k epochs of their best, k the profile's patience or, without one, a tenth",
        'of its epochs; docs/model.md, "Training"): their scores may understate the model.',
        f"Paper numbers: {paper.status}."
        if not paper.numbers.get(family)
        else "Paper numbers with their source.",
        "",
        *markdown_table(main_table(variants, classes, family, synthetic, paper, resamples)),
        "",
    ]
    lines += ["## What a paper would have printed", "", OPTIMISM_TEXT, ""]
    lines += [*markdown_table(formatted_optimism(tables["optimism_table"])), ""]
    lines += ["## Missing modalities at test time", ""]
    lines += missing_modality_markdown(tables["missing_modality_table"], weight_files)
    lines += ["## Ablations: full SUMMER minus each ablation", ""]
    lines += _comparison_text(tables["ablation_table"], resamples)
    lines += ["## SUMMER vs the baselines", ""]
    lines += _comparison_text(tables["rivals_table"], resamples)
    lines += crosscheck_lines(dataset, [v.model for v in variants if v.ablation == FULL_MODEL])
    lines += ["## Figures", ""]
    lines += [f"![{path.stem}]({path.name})" for path in figures if path is not None]
    return "\n".join(lines) + "\n", tables


def _comparison_text(table: pd.DataFrame, resamples: int) -> list[str]:
    if table.empty:
        return ["No runs to compare (full SUMMER and the other model must share a seed).", ""]
    return [
        f"Paired bootstrap over test dialogues, pooled over seeds: {resamples} resamples, seed {BOOTSTRAP_SEED}; "
        "p is one-sided (H1: SUMMER is better).",
        "",
        *markdown_table(formatted_comparison(table)),
        "",
    ]


def _provenance(records: list[RunRecord]) -> list[str]:
    first = records[0]
    seeds = sorted({r.key.seed for r in records})
    commits = sorted({r.environment.git_commit for r in records})
    versions = sorted({f"torch {r.environment.torch}, python {r.environment.python}" for r in records})
    parameters = {r.key.variant: r.parameters for r in records}
    placements = collections.Counter(_placement(r.environment) for r in records)
    lineage = "; ".join(f"{m}: {d}" for m, d in first.data.lineage.items())
    release = first.data.release
    return [
        f"- data: {first.data.source} [{first.data.source_kind}]"
        + (f" from the {release}" if release else "")
        + f", fingerprint `{first.data.fingerprint[:16]}`"
        + (f"; features: {lineage}" if lineage else ""),
        f"- profile: {first.key.profile}; seeds: {', '.join(map(str, seeds))}; runs: {len(records)}",
        f"- git commit(s): {', '.join(commits)}",
        f"- versions: {'; '.join(versions)}",
        "- ran on: " + "; ".join(f"{where} ({count} runs)" for where, count in sorted(placements.items())),
        f"- compute: {sum(r.train_seconds for r in records) / 60:.1f} min of training "
        f"(median {statistics.median(r.seconds_per_epoch for r in records):.1f} s per epoch)",
        "- parameters: " + ", ".join(f"{name} {count:,}" for name, count in sorted(parameters.items())),
    ]


def _placement(environment: Environment) -> str:
    """Device, precision and determinism of a run, as its record states them."""
    deterministic = "deterministic" if environment.deterministic else "not deterministic"
    return f"{environment.device_name}, {environment.precision}, {deterministic}"


def _write_text(path: Path, text: str) -> list[Path]:
    atomic_write(path, lambda temporary: temporary.write_text(text))
    return [path]
