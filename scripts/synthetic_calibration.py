"""The synthetic world against what it is calibrated to, and its order of the models against real data's:
writes `results/reference/synthetic_calibration.md` and `.csv`.

    python -m scripts.synthetic_calibration --home HOME [--threads N] [--calibration-only | --stored-only]
        [--out STEM]

Calibration cells (the generator is set to them, `benchmark/data/synthetic.py`):
- the context gain per dataset: the text teacher's test weighted-F1 (`fast`, seeds 0-2) minus a
  context-free logistic regression's on the same text features (standardised with train-split
  statistics, class-weighted as the dataset's training protocol is: inverse frequency on IEMOCAP),
  against the same difference on the real transcripts (`results/reference/real_text.csv`, fine-tuned
  features), within `CONTEXT_GAIN_TOLERANCE` points;
- ECERC's table 5: the teacher-modality study's t, a, v and t+a+v cells, within `PLANTED_TOLERANCE`.

Rank check, never used to set the generator: Kendall's tau (tau-b, ties allowed) between the models'
order on the synthetic text alone (`synthetic-iemocap-text`, `synthetic-meld-text`) and on the real
transcripts' page, and between the full multimodal synthetic order (the main job's runs, `python -m
benchmark run --all`, found in the home) and the rivals' published numbers
(`results/reference/published_numbers.json`).

Every model trains through the normal run machinery, so a second call reuses the stored runs and trains
nothing; the logistic regression's score is kept in the home beside them, keyed by the data's
fingerprint. `--calibration-only` trains only the calibration cells: rank checks without stored runs
then read "not run" with the command that makes them. The main job's runs are never trained here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import kendalltau
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from benchmark import data
from benchmark.data.class_weighting import INVERSE_FREQUENCY
from benchmark.data.schema import MercDataset
from benchmark.data.synthetic import (
    CONTEXT_GAIN_SOURCE,
    CONTEXT_GAIN_TOLERANCE,
    GENERATOR_VERSION,
    PLANTED_PROFILE,
    PLANTED_SOURCE,
    PLANTED_TOLERANCE,
    PLANTED_WEIGHTED_F1,
)
from benchmark.errors import BenchmarkError
from benchmark.executors import Placement, run_sweep
from benchmark.experiment.catalog import SUBJECT
from benchmark.experiment.profiles import PROFILES
from benchmark.files import atomic_write, atomic_write_json
from benchmark.home import REFERENCE_DIR, Home, resolve_home
from benchmark.metrics import weighted_f1
from benchmark.report.calibration import CALIBRATION_PAGE, COLUMNS, CONTEXT_GAIN, PLANTED, RANK_CHECK
from benchmark.report.load import load_records
from benchmark.report.stats import mean_and_std
from benchmark.store.records import FULL_MODEL, RunRecord
from benchmark.training.device_settings import Execution
from benchmark.training.runner import plan, resolve_runs
from scripts.real_text import FINE_TUNED, text_only_models
from summer.studies import modality_variant

FAMILIES = ("iemocap", "meld")
REAL_TEXT = REFERENCE_DIR / "real_text.csv"
PUBLISHED = REFERENCE_DIR / "published_numbers.json"
CONTEXT_FREE = "logistic regression (context-free)"
TEACHER = SUBJECT.teacher
MAIN_JOB = "python -m benchmark run --all --home HOME"


def synthetic_name(family: str, text_only: bool = False) -> str:
    return f"synthetic-{family}" + ("-text" if text_only else "")


def context_free_f1(dataset: MercDataset, class_balanced: bool) -> float:
    """Test weighted-F1 (%) of scikit-learn's logistic regression (lbfgs, C=1) on one utterance's text
    features at a time, standardised with the training split's mean and std as the real imports are."""
    x_train, y_train = dataset.utterances("train", "text")
    x_test, y_test = dataset.utterances("test", "text")
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=2000, class_weight="balanced" if class_balanced else None)
    model.fit(scaler.transform(x_train), y_train)
    return 100 * weighted_f1(y_test, model.predict(scaler.transform(x_test)), dataset.meta.n_classes)


def stored_context_free_f1(home: Home, dataset: MercDataset, class_balanced: bool) -> float:
    """`context_free_f1`, computed once per data and weighting and kept in the home."""
    path = home.results / "synthetic_calibration" / f"context-free-{dataset.meta.fingerprint[:16]}.json"
    key = "class-balanced" if class_balanced else "unweighted"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if key not in stored:
        stored[key] = context_free_f1(dataset, class_balanced)
        atomic_write_json(path, stored, indent=1)
    return stored[key]


def class_balanced(family: str) -> bool:
    return PROFILES.get(PLANTED_PROFILE).train_config(family, 0).class_weighting == INVERSE_FREQUENCY


def real_context_gain(real_text: pd.DataFrame, family: str) -> tuple[float, float, float]:
    """(gain, text teacher, logistic regression) on the real transcripts' fine-tuned features."""
    rows = real_text[(real_text.dataset == family) & (real_text.features == FINE_TUNED)]
    teacher = float(rows[rows.model == TEACHER].weighted_f1_mean.iloc[0])
    context_free = float(rows[rows.model == CONTEXT_FREE].weighted_f1_mean.iloc[0])
    return teacher - context_free, teacher, context_free


def _mean(records: list[RunRecord]) -> float:
    return mean_and_std([100 * r.test.weighted_f1 for r in records])[0]


def _row(kind, family, cell, source, target, synthetic, band, detail, seeds_run=None, seeds=None) -> dict:
    """One page row; a mean over fewer seeds than the profile's says so in its verdict."""
    measured = synthetic is not None and target is not None
    verdict = ("yes" if measured and abs(synthetic - target) <= band else "no") if measured else "not run"
    if measured and seeds_run is not None and seeds_run < len(seeds):
        verdict += f" ({seeds_run} of {len(seeds)} seeds)"
    return {
        "kind": kind,
        "dataset": family,
        "cell": cell,
        "source": source,
        "target": "" if target is None else f"{target:.2f}",
        "synthetic": "" if synthetic is None else f"{synthetic:.2f}",
        "difference": f"{synthetic - target:+.2f}" if measured else "",
        "band": f"±{band:.0f}",
        "within": verdict,
        "detail": detail,
    }


def calibration_rows(
    home: Home, records: list[RunRecord], real_text: pd.DataFrame, seeds: list[int]
) -> list[dict]:
    rows = []
    for family in FAMILIES:
        name = synthetic_name(family)
        runs = [r for r in records if r.key.dataset == name and r.key.model == TEACHER]
        by_cell = {
            cell: [r for r in runs if r.key.ablation == modality_variant(cell) and r.key.seed in seeds]
            for cell in PLANTED_WEIGHTED_F1[family]
        }
        balanced = class_balanced(family)
        context_free = stored_context_free_f1(home, data.load(name, home), balanced)
        if not by_cell["text"]:
            raise BenchmarkError(
                f"no text-teacher run of {name} at `{PLANTED_PROFILE}` in {home.root}: run this script "
                "without --stored-only"
            )
        teacher = _mean(by_cell["text"])
        real_gain, real_teacher, real_context_free = real_context_gain(real_text, family)
        weighting = "class-balanced" if balanced else "unweighted"
        rows.append(
            _row(
                CONTEXT_GAIN,
                family,
                "text teacher − context-free logistic regression",
                f"{CONTEXT_GAIN_SOURCE} ({real_teacher:.2f} − {real_context_free:.2f})",
                real_gain,
                teacher - context_free,
                CONTEXT_GAIN_TOLERANCE,
                f"synthetic: text teacher {teacher:.2f} (seeds {' '.join(str(_seed(r)) for r in by_cell['text'])})"
                f" − logistic regression {context_free:.2f} ({weighting}, train-standardised)",
                len(by_cell["text"]),
                seeds,
            )
        )
        for cell, target in PLANTED_WEIGHTED_F1[family].items():
            cell_runs = by_cell[cell]
            per_seed = " ".join(f"{100 * r.test.weighted_f1:.2f}" for r in sorted(cell_runs, key=_seed))
            rows.append(
                _row(
                    PLANTED,
                    family,
                    f"teacher on {cell}",
                    PLANTED_SOURCE,
                    target,
                    _mean(cell_runs) if cell_runs else None,
                    PLANTED_TOLERANCE,
                    f"seeds {' '.join(str(_seed(r)) for r in sorted(cell_runs, key=_seed))}: {per_seed}"
                    if cell_runs
                    else "not run: `python -m scripts.synthetic_calibration --home HOME`",
                    len(cell_runs),
                    seeds,
                )
            )
    return rows


def _seed(record: RunRecord) -> int:
    return record.key.seed


def _tau_row(family: str, cell: str, source: str, synthetic: dict[str, float], real: dict[str, float]):
    common = sorted(synthetic.keys() & real.keys())
    row = _row(RANK_CHECK, family, cell, source, None, None, 0, "")
    row["band"] = ""
    if len(common) < 2:
        row["within"] = "not run"
        return row
    tau, p_value = kendalltau([synthetic[m] for m in common], [real[m] for m in common])
    row["synthetic"] = f"{tau:+.2f}"
    row["within"] = "check only"

    def order(scores):
        return " > ".join(f"{m} {scores[m]:.2f}" for m in sorted(common, key=lambda m: -scores[m]))

    row["detail"] = f"n={len(common)}, p={p_value:.2f}; synthetic: {order(synthetic)}; real: {order(real)}"
    return row


def _not_run(row: dict, command: str) -> dict:
    return row | {"synthetic": "", "within": "not run", "detail": f"not run: `{command}`"}


def rank_rows(
    records: list[RunRecord], real_text: pd.DataFrame, published: dict, seeds: list[int], profile: str
) -> list[dict]:
    rows = []
    for family in FAMILIES:
        text_name = synthetic_name(family, text_only=True)
        real = real_text[
            (real_text.dataset == family)
            & (real_text.features == FINE_TUNED)
            & real_text.kind.str.startswith("trained")
        ]
        real_scores = dict(zip(real.model, real.weighted_f1_mean.astype(float), strict=True))
        synthetic_text = _full_model_means(records, text_name, profile, seeds)
        row = _tau_row(
            family,
            "text-only order vs the real transcripts",
            f"{REAL_TEXT.relative_to(REFERENCE_DIR.parent.parent)} (fine-tuned features, {profile})",
            synthetic_text,
            real_scores,
        )
        if row["within"] == "not run":
            row = _not_run(row, f"python -m scripts.synthetic_calibration --home HOME  # trains {text_name}")
        rows.append(row)
        published_scores = {
            entry["ours"]: entry["weighted_f1"] for entry in published["rivals"][family] if entry["ours"]
        }
        multimodal = _full_model_means(records, synthetic_name(family), profile, seeds)
        row = _tau_row(
            family,
            "multimodal order vs the published numbers",
            f"{PUBLISHED.relative_to(REFERENCE_DIR.parent.parent)} (the rivals' own papers)",
            {m: s for m, s in multimodal.items() if m in published_scores},
            published_scores,
        )
        rows.append(_not_run(row, MAIN_JOB) if row["within"] == "not run" else row)
    return rows


def _full_model_means(records: list[RunRecord], dataset: str, profile: str, seeds: list[int]) -> dict:
    by_model: dict[str, list[RunRecord]] = {}
    for record in records:
        key = record.key
        if (
            key.dataset == dataset
            and key.profile == profile
            and key.ablation == FULL_MODEL
            and key.seed in seeds
        ):
            by_model.setdefault(key.model, []).append(record)
    return {model: _mean(runs) for model, runs in by_model.items() if len(runs) == len(seeds)}


def train(home: Home, seeds: list[int], execution: Execution, rank_runs: bool) -> None:
    """The calibration cells' runs, and (unless told not to) the text-only runs of the rank check."""
    cells = sorted({modality_variant(c) for cells in PLANTED_WEIGHTED_F1.values() for c in cells})
    keys = plan([TEACHER], [synthetic_name(f) for f in FAMILIES], PLANTED_PROFILE, seeds, cells)
    if rank_runs:
        for family in FAMILIES:
            name = synthetic_name(family, text_only=True)
            models = text_only_models(data.load(name, home).meta)
            keys += plan(models, [name], PLANTED_PROFILE, seeds, [FULL_MODEL])
    placement = Placement(execution)
    run_sweep(resolve_runs(keys, home, placement.execution), home, placement)


def build(home: Home, seeds: list[int]) -> pd.DataFrame:
    records, _ = load_records(home)
    real_text = pd.read_csv(REAL_TEXT)
    published = json.loads(PUBLISHED.read_text())
    rows = calibration_rows(home, records, real_text, seeds)
    rows += rank_rows(records, real_text, published, seeds, PLANTED_PROFILE)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def render(table: pd.DataFrame, seeds: list[int]) -> str:
    calibrated = table[table.kind != RANK_CHECK]
    within = (calibrated.within == "yes").sum()
    lines = [
        f"# The synthetic world (generator v{GENERATOR_VERSION}) against what it is calibrated to",
        "",
        f"Written by `python -m scripts.synthetic_calibration`, profile `{PLANTED_PROFILE}`, seeds "
        f"{', '.join(map(str, seeds))}, test weighted-F1 (%). The generator is set to the calibration cells",
        "only (`benchmark/data/synthetic.py`): each modality's signal to ECERC's table 5 through the",
        "teacher-modality study, and its dialogue structure to the dialogue-context gain of the real",
        "transcripts. Never on SUMMER, its ablations or a rival.",
        "",
        f"**{within} of {len(calibrated)} calibration cells within their band.**",
        "",
        "| kind | dataset | cell | target | synthetic | difference | band | within | source | detail |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in calibrated.itertuples():
        lines.append(
            f"| {row.kind} | {row.dataset} | {row.cell} | {row.target} | {row.synthetic} | {row.difference} "
            f"| {row.band} | {row.within} | {row.source} | {row.detail} |"
        )
    lines += [
        "",
        "## Rank check (not used for calibration)",
        "",
        "Kendall's tau-b between the synthetic order of the models and a real one (1: the same order, −1:",
        "reversed; with a handful of models a single swap moves it far, and its p-value says how little",
        "that many models can show).",
        "",
        "| dataset | what | tau | source | detail |",
        "|---|---|---|---|---|",
    ]
    for row in table[table.kind == RANK_CHECK].itertuples():
        tau = row.synthetic if row.synthetic else "not run"
        lines.append(f"| {row.dataset} | {row.cell} | {tau} | {row.source} | {row.detail} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.synthetic_calibration", description=__doc__)
    parser.add_argument(
        "--home", help="results folder of the runs (default: $SUMMER_BENCH_HOME or the project)"
    )
    parser.add_argument("--threads", type=int, help="torch threads per run instead of the profile's")
    parser.add_argument(
        "--calibration-only",
        action="store_true",
        help="train the calibration cells only, not the rank check's",
    )
    parser.add_argument(
        "--stored-only",
        action="store_true",
        help="train nothing: the page from the runs already stored (cells without runs read 'not run')",
    )
    parser.add_argument("--out", default=str(CALIBRATION_PAGE), help="path stem of the .md and .csv")
    args = parser.parse_args(argv)
    seeds = list(PROFILES.get(PLANTED_PROFILE).seeds)
    try:
        home = resolve_home(args.home)
        if not args.stored_only:
            train(home, seeds, Execution(device="cpu", threads=args.threads), not args.calibration_only)
        table = build(home, seeds)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stem = Path(args.out)
    atomic_write(stem.with_suffix(".csv"), lambda path: table.to_csv(path, index=False))
    text = render(table, seeds)
    atomic_write(stem.with_suffix(".md"), lambda path: path.write_text(text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
