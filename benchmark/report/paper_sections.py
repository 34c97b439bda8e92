"""The report sections laid out like the paper: its ablation table (table 4), its studies (table 3,
figures 4 and 6) and the rivals' published numbers. Appended to each dataset's report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.home import Home
from benchmark.report.ablation_table import paper_ablation_table
from benchmark.report.published_numbers import (
    published_table,
    read_published_numbers,
    relayed_lines,
    source_lines,
)
from benchmark.report.study_sections import (
    ikd_lines,
    ikd_table,
    is_study_run,
    modality_lines,
    modality_table,
    sdmoe_figure,
    sdmoe_table,
    tsne_figure,
)
from benchmark.report.tables import markdown_table, variants_of
from benchmark.store.records import RunRecord
from benchmark.store.runs import read_tsne
from benchmark.stored import StoredFileError


def append(
    markdown: str,
    tables: dict[str, pd.DataFrame],
    records: list[RunRecord],
    home: Home,
    resamples: int,
    folder: Path,
) -> tuple[str, dict[str, pd.DataFrame]]:
    first = records[0]
    dataset, profile = first.key.dataset, first.key.profile
    classes, family = list(first.data.classes), first.data.family
    variants = variants_of([r for r in records if not is_study_run(r)])
    title = f"{dataset} ({profile})"
    lines: list[str] = []

    def section(heading: str, name: str, table: pd.DataFrame, text: list[str], empty: str) -> None:
        lines.extend([f"## {heading}", ""])
        if table.empty:
            lines.extend([empty, ""])
            return
        tables[name] = table
        lines.extend([*text, "", *markdown_table(table), ""])

    section(
        "Ablation table, laid out like the paper's table 4 (%)",
        "paper_ablation_table",
        paper_ablation_table(variants, classes, resamples),
        [
            "Per-class test F1, accuracy and weighted-F1, mean ± std over seeds; `from` says whose ablation "
            "table the row is in (the paper's, the suite's, or both). Δ: paired bootstrap over test dialogues "
            f"against full SUMMER, pooled over seeds, {resamples} resamples, one-sided p (H1: SUMMER is better)."
        ],
        "No SUMMER runs: `python -m benchmark run --model summer` trains it and its ablations.",
    )
    section(
        "Study: teacher modality (the paper's table 3)",
        "teacher_modality",
        modality_table(records),
        [
            "The teacher model (SDMoE context) trained on each modality set; test metrics, mean ± std over seeds.",
            "",
            *modality_lines(records),
        ],
        "Not run yet: `python -m benchmark study modality`.",
    )
    sdmoe = sdmoe_table(records)
    section(
        "Study: SDMoE against plain attention per modality (the paper's figure 4)",
        "sdmoe_vs_attention",
        sdmoe,
        [
            "Each unimodal teacher with its SDMoE context encoder, and with a self-attention layer in its place."
        ],
        "Not run yet: `python -m benchmark study sdmoe`.",
    )
    figure = sdmoe_figure(records, f"SDMoE vs plain attention, {title}", folder / "sdmoe_vs_attention.png")
    if figure is not None:
        lines.extend([f"![{figure.stem}]({figure.name})", ""])
    section(
        "Study: distillation readings (the suite's)",
        "ikd_readings",
        ikd_table(records, len(classes), resamples),
        [
            "SUMMER with one distillation reading the sources leave open changed at a time from the default "
            "(κ2..κ4 = 1, MSE and teacher head on `fused`, guided mask on raw scores), each run's epoch chosen "
            "on validation. Δ: test weighted-F1 minus w/o IKD's, paired bootstrap over test dialogues pooled "
            f"over seeds, {resamples} resamples, one-sided p (H1: the reading is better than w/o IKD).",
            "",
            *ikd_lines(records),
        ],
        "Not run yet: `python -m benchmark study ikd`.",
    )
    lines.extend(["## Study: t-SNE of input and fused features (the paper's figure 6)", ""])
    lines.extend(_tsne_lines(home, dataset, profile, title, folder))
    published = read_published_numbers()
    section(
        "Published numbers of the rivals",
        "published_numbers",
        published_table(published, family, variants),
        [
            "Each cell names its source in brackets (list below); `our wF1` is this report's mean ± std for "
            "the rivals the suite trains"
            + (
                " — on synthetic data, so not comparable with a published number."
                if first.data.synthetic
                else "."
            )
            + " SUMMER's absolute numbers are not published in any copy available to us: '—'.",
        ],
        "",
    )
    lines.extend([*relayed_lines(published, family), "", "Sources:", "", *source_lines(published), ""])
    return markdown + "\n" + "\n".join(lines), tables


def _tsne_lines(home: Home, dataset: str, profile: str, title: str, folder: Path) -> list[str]:
    """The t-SNE study's figure, or why there is none (not run, or its file unreadable: one line, its fix)."""
    try:
        study = read_tsne(home, dataset, profile)
    except StoredFileError as err:
        return [f"Not shown: {err}.", ""]
    if study is None:
        return ["Not run yet: `python -m benchmark study tsne`.", ""]
    path = tsne_figure(
        study, f"Test utterances by emotion, {title} (seed {study.key.seed})", folder / "tsne.png"
    )
    return [
        "Test utterances embedded by scikit-learn's TSNE: left the concatenated input features, right "
        "full SUMMER's fused representation (same key and seed as its run), coloured by emotion.",
        "",
        f"![{path.stem}]({path.name})",
        "",
    ]
