"""Our `multiemo` against the authors' MultiEMO (TaoShi1998/MultiEMO at e96458b) on the same data.

It runs third-party code, so it is not part of the package: give it the path of your clone of the
authors' repository at that commit. It writes each dataset in MultiEMO's own input layout (the
`Speakers.pkl` tuple and three pickled dicts of dialogue id -> per-utterance vectors, read by the
clone's own `Dataset/*.py`), builds the authors' model, losses, optimizer and epoch loop from the clone
(patched only where current torch or a CPU needs it, each patch printed), and ours at the same width,
heads, depth, dropout, learning rate, batch and epochs. It compares parameter counts, then trains both
for the profile's epochs and seeds, selects the epoch on the validation split on both sides, and
scores both sides' test predictions with the suite's one scorer (`benchmark.metrics.split_metrics`).

    python benchmarks/crosscheck_multiemo.py --reference PATH [--dataset synthetic-iemocap ...]
        [--seeds 0 1 2] [--profile fast] [--width N] [--params-only] [--out results/reference]

The page (`crosscheck_multiemo.md`) and its CSV are rewritten after every finished seed, so an
interrupted comparison keeps what it finished.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from baselines.multiemo import AUTHORS_LOSS, FFN_RATIO
from benchmark.catalog import MODELS
from benchmark.config import PROFILES, TrainConfig
from benchmark.data import load, subsample
from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.metrics import split_metrics
from benchmark.modeling import ModelDims, count_parameters
from benchmark.training import train_model

COMMIT = "e96458b"
REFERENCE_URL = "https://github.com/TaoShi1998/MultiEMO"
LAYOUT_FOLDER = {"iemocap": "IEMOCAP", "meld": "MELD"}
MELD_PARTIES = 9  # the width of MELD's one-hot speaker vectors in the authors' Speakers.pkl
IEMOCAP_SPEAKERS = ("M", "F")  # the authors' IEMOCAP loader maps 'M' -> [1, 0], anything else -> [0, 1]
WEIGHT_DECAY = 1e-5  # the authors' default (Train/TrainMultiEMO.py)
PATCHES: list[str] = []  # every change made to the authors' code, in the order it was made


def patch(description: str) -> None:
    if description not in PATCHES:
        PATCHES.append(description)
        print(f"patch: {description}", flush=True)


# --- the authors' input layout --------------------------------------------------------------------


def write_multiemo_layout(dataset: MercDataset, folder: Path) -> Path:
    """Writes `folder/Data/<IEMOCAP|MELD>/{Speakers,TextFeatures,AudioFeatures,VisualFeatures}.pkl`
    as the authors' Dataset/*.py read them; returns the dataset's folder.

    Speakers.pkl is the tuple (_, speakers, labels, _, _, _, _, train ids, test ids), with a tenth
    item on MELD; speakers are 'M'/'F' per utterance on IEMOCAP, one-hot lists of 9 on MELD; labels
    are class indices in the dataset's class order (the authors' mapping is the same order). The
    layout has no validation split (the authors carve 5% of train at random): train ids hold the
    suite's train and validation dialogues, and the cross-check picks each split by its ids."""
    meta = dataset.meta
    if meta.modalities != ("text", "audio", "visual"):
        raise BenchmarkError(f"{meta.name}: MultiEMO's layout needs text, audio and visual features")
    parties = len(IEMOCAP_SPEAKERS) if meta.family == "iemocap" else MELD_PARTIES
    if meta.n_speakers > parties:
        raise BenchmarkError(
            f"{meta.name} has {meta.n_speakers} speakers; MultiEMO's {meta.family} layout holds {parties}"
        )
    speakers, labels, ids = {}, {}, {}
    features: dict[str, dict[str, np.ndarray]] = {m: {} for m in meta.modalities}
    for split, rows in dataset.splits.items():
        ids[split] = list(rows["dialogue_id"])
        for row in rows:
            vid = row["dialogue_id"]
            if meta.family == "iemocap":
                speakers[vid] = [IEMOCAP_SPEAKERS[s] for s in row["speakers"]]
            else:
                speakers[vid] = [np.eye(MELD_PARTIES, dtype=int)[s].tolist() for s in row["speakers"]]
            labels[vid] = list(row["labels"])
            for m in meta.modalities:
                features[m][vid] = np.asarray(row[m], dtype=np.float32)
    train_ids, test_ids = ids["train"] + ids["validation"], ids["test"]
    items = [None, speakers, labels, None, None, None, None, train_ids, test_ids]
    if meta.family == "meld":
        items.append(None)
    target = folder / "Data" / LAYOUT_FOLDER[meta.family]
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "Speakers.pkl", "wb") as out:
        pickle.dump(tuple(items), out)
    for m, name in (("text", "TextFeatures"), ("audio", "AudioFeatures"), ("visual", "VisualFeatures")):
        with open(target / f"{name}.pkl", "wb") as out:
            pickle.dump(features[m], out)
    return target


# --- the authors' side ----------------------------------------------------------------------------


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    """The authors' loaders open `Data/...` relative to the working directory."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def import_reference(clone: Path):
    """The clone's own modules, as Train/TrainMultiEMO.py imports them."""
    commit = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not commit.startswith(COMMIT):
        raise BenchmarkError(
            f"{clone} is at {commit or 'no git commit'}: check out {COMMIT} of {REFERENCE_URL}"
        )
    for sub in ("Train", "Dataset", "Model", "Loss"):
        sys.path.insert(0, str(clone / sub))
    import TrainMultiEMO  # noqa: PLC0415  (from the clone)

    return TrainMultiEMO


def reference_model(module, dataset: MercDataset, dims: ModelDims):
    meta = dataset.meta
    patch(
        "TrainMultiEMO.get_model: the feature widths (768/512/1000) and speaker counts are hard-coded "
        "there; the model is built with the data's widths, all other arguments as get_model passes them"
    )
    w = dims.width
    return module.MultiEMO(
        LAYOUT_FOLDER[meta.family], True, meta.feature_dims["text"], FFN_RATIO * w, dims.dropout, dims.layers,
        w, dims.heads, meta.feature_dims["audio"], meta.feature_dims["visual"], w, w, w, w,
        meta.n_classes, meta.n_speakers, False, "simple", w, dims.dropout, torch.device("cpu"),
    )  # fmt: skip


def reference_trainer(module, dataset: MercDataset, dims: ModelDims, train: TrainConfig):
    """A TrainMultiEMO whose loaders read the suite's splits, with the authors' losses and optimizer."""
    meta, family = dataset.meta, dataset.meta.family
    loss = AUTHORS_LOSS[family]
    module.set_seed(train.seed)
    trainer = module.TrainMultiEMO.__new__(module.TrainMultiEMO)
    trainer.dataset, trainer.device = LAYOUT_FOLDER[family], torch.device("cpu")
    trainer.batch_size, trainer.num_epochs, trainer.learning_rate = train.batch_size, train.epochs, train.lr
    trainer.weight_decay = WEIGHT_DECAY
    trainer.temp_param, trainer.focus_param = loss.temperature, loss.focus
    trainer.sample_weight_param = loss.sample_weight_power
    trainer.SWFC_loss_param, trainer.HGR_loss_param, trainer.CE_loss_param = loss.swfc, loss.hgr, loss.ce
    trainer.num_classes = meta.n_classes
    patch(
        "TrainMultiEMO.get_dataloader: train/validation/test are the suite's splits (picked by id from "
        "the written layout) instead of a random 5% of train as validation; the authors' Dataset "
        "classes, collate_fn and random train order are kept"
    )
    dataset_class = getattr(module, f"{LAYOUT_FOLDER[family]}Dataset")
    loaders = {}
    for split, shuffle in (("train", True), ("validation", False), ("test", False)):
        data = dataset_class(train=True)
        data.keys = list(dataset.splits[split]["dialogue_id"])
        data.len = len(data.keys)
        sampler = torch.utils.data.SubsetRandomSampler(range(data.len)) if shuffle else None
        loaders[split] = torch.utils.data.DataLoader(
            data, batch_size=train.batch_size, sampler=sampler, collate_fn=data.collate_fn, num_workers=0
        )
    trainer.train_dataloader, trainer.valid_dataloader = loaders["train"], loaders["validation"]
    trainer.test_dataloader = loaders["test"]
    trainer.model = reference_model(module, dataset, dims)
    trainer.get_loss()  # class counts from the train loader, SWFC, Soft-HGR, cross-entropy
    patch(
        "TrainMultiEMO.get_optimizer: ReduceLROnPlateau lost its `verbose` argument in current torch; "
        "the same Adam and scheduler (factor 0.95, patience 10, threshold 1e-6) without it"
    )
    trainer.optimizer = torch.optim.Adam(
        trainer.model.parameters(), lr=trainer.learning_rate, weight_decay=trainer.weight_decay
    )
    trainer.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        trainer.optimizer, factor=0.95, patience=10, threshold=1e-6
    )
    return trainer, loaders


def reference_predictions(model, loader) -> tuple[np.ndarray, np.ndarray]:
    """(labels, argmax predictions) over a loader's labelled utterances, as the authors' loop computes them."""
    model.eval()
    labels, predicted = [], []
    with torch.no_grad():
        for data in loader:
            texts, audios, visuals, speaker_masks, utterance_masks, padded_labels = data
            padded_labels = padded_labels.reshape(-1)
            *_, logits = model(texts, audios, visuals, speaker_masks, utterance_masks, padded_labels)
            labels.append(padded_labels[padded_labels != -1].numpy())
            predicted.append(logits.argmax(-1).numpy())
    return np.concatenate(labels), np.concatenate(predicted)


def train_reference(module, layout: Path, dataset: MercDataset, dims: ModelDims, train: TrainConfig) -> dict:
    classes = dataset.meta.classes
    with inside(layout.parent.parent):
        torch.set_num_threads(train.threads)
        trainer, loaders = reference_trainer(module, dataset, dims, train)
        best, seconds = None, []
        for epoch in range(1, trainer.num_epochs + 1):
            started = time.perf_counter()
            trainer.train_or_eval_model_per_epoch(loaders["train"], train=True)
            with torch.no_grad():
                valid_loss, *_ = trainer.train_or_eval_model_per_epoch(loaders["validation"], train=False)
            trainer.scheduler.step(valid_loss)
            validation = split_metrics(*reference_predictions(trainer.model, loaders["validation"]), classes)
            test = split_metrics(*reference_predictions(trainer.model, loaders["test"]), classes)
            seconds.append(time.perf_counter() - started)
            print(f"authors' code, epoch {epoch}: validation wF1 {validation.weighted_f1:.4f}", flush=True)
            if best is None or validation.weighted_f1 > best[0].weighted_f1:
                best = (validation, test, epoch)
    return {"test": best[1], "epoch": best[2], "seconds_per_epoch": statistics.mean(seconds)}


# --- our side -------------------------------------------------------------------------------------


def train_ours(dataset: MercDataset, dims: ModelDims, train: TrainConfig) -> dict:
    family = dataset.meta.family
    model = MODELS.get("multiemo").build(dataset.meta, dims, {})
    # The authors' loop: Adam with weight decay 1e-5 on their loss, no clipping, every epoch run. Our
    # loss is theirs divided by their cross-entropy coefficient, so the same decay is 1e-5 / that.
    config = dataclasses.replace(
        train,
        weight_decay=WEIGHT_DECAY / AUTHORS_LOSS[family].ce,
        grad_clip=0.0,
        patience=0,
    )
    result = train_model(model, dataset, config)
    return {"test": result.test, "epoch": result.best_epoch, "seconds_per_epoch": result.seconds_per_epoch}


# --- the comparison -------------------------------------------------------------------------------


def parameter_rows(module, dataset: MercDataset, dims: ModelDims) -> list[dict]:
    ours = count_parameters(MODELS.get("multiemo").build(dataset.meta, dims, {}))
    reference = reference_model(module, dataset, dims)
    total = count_parameters(reference)
    unused = []
    if dataset.meta.family == "meld":  # built by the authors' code, never called on MELD
        unused = [("text_dialoguernn", reference.text_dialoguernn)]
        for m in ("audio", "visual"):
            rnn = getattr(reference, f"{m}_dialoguernn")
            unused += [
                (f"{m}_dialoguernn.dialog_rnn_r", rnn.dialog_rnn_r),
                (f"{m}_dialoguernn.linear", rnn.linear),
            ]
    unused_total = sum(count_parameters(module_) for _, module_ in unused)
    named = ", ".join(f"{name} {count_parameters(module_):,}" for name, module_ in unused)
    return [
        {
            "dataset": dataset.meta.name,
            "reference": total,
            "ours": ours,
            "difference": total - ours,
            "explained": "equal"
            if total == ours
            else f"built but never called on {dataset.meta.family}: {named}",
            "unexplained": total - unused_total - ours,
        }
    ]


def metric_row(dataset: MercDataset, side: str, seed: int, outcome: dict) -> dict:
    test = outcome["test"]
    row = {
        "dataset": dataset.meta.name,
        "side": side,
        "seed": seed,
        "weighted_f1": round(100 * test.weighted_f1, 2),
        "accuracy": round(100 * test.accuracy, 2),
    }
    row |= {f"f1 {c}": round(100 * v, 2) for c, v in test.per_class_f1.items()}
    return row | {"epoch": outcome["epoch"], "seconds_per_epoch": round(outcome["seconds_per_epoch"], 1)}


def mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.2f}" if values else "—"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def write_page(out: Path, params: list[dict], rows: list[dict], command: str, note: str) -> None:
    runs = pd.DataFrame(rows)
    runs.to_csv(out.with_suffix(".csv"), index=False)
    lines = [
        "# MultiEMO: ours against the authors' code",
        "",
        f"Reference: {REFERENCE_URL} at `{COMMIT}`, its own model, losses, optimizer and epoch loop, "
        "on the suite's synthetic data written in its input layout. Both sides select the epoch on "
        "validation weighted-F1; both sides' test predictions are scored by `benchmark.metrics`. "
        "Synthetic data: this checks the implementation, it is not a reproduction of the paper.",
        "",
        f"Command: `{command}`. {note}",
        "",
        "Patches to the authors' code (nothing else changed):",
        "",
        *[f"- {p}" for p in PATCHES],
        "",
        "Known differences of ours, by design (docs/model.md, `baselines/multiemo.py`):",
        "",
        "- padded utterances are masked out of MultiAttn's keys (the authors' attention reads them);",
        "- Soft-HGR's covariances are d × d over the batch's utterances, as the paper defines them "
        "(the authors' `torch.cov` on [N, d] gives an N × N matrix);",
        "- our loss is the authors' divided by their cross-entropy coefficient (the trainer's "
        "cross-entropy has weight 1), with the weight decay divided alike: the same Adam steps.",
        "",
        "## Parameter counts",
        "",
        "| dataset | authors' code | ours | difference | explained |",
        "|---|---:|---:|---:|---|",
        *[
            f"| {p['dataset']} | {p['reference']:,} | {p['ours']:,} | {p['difference']:,} | {p['explained']}"
            + ("" if not p["unexplained"] else f"; **{p['unexplained']:,} unexplained**")
            + " |"
            for p in params
        ],
        "",
    ]
    if rows:
        lines += ["## Test metrics (percent, mean ± std over seeds)", ""]
        for name, group in runs.groupby("dataset", sort=False):
            classes = [c for c in runs.columns if c.startswith("f1 ") and group[c].notna().any()]
            lines += [
                f"### {name}",
                "",
                "| side | seeds | weighted-F1 | accuracy | "
                + " | ".join(c[3:] for c in classes)
                + " | s / epoch |",
                "|---|---|---|---|" + "---|" * len(classes) + "---|",
            ]
            by_side = {}
            for side, part in group.groupby("side", sort=False):
                by_side[side] = part["weighted_f1"].tolist()
                cells = [mean_std(part[c].tolist()) for c in ("weighted_f1", "accuracy", *classes)]
                seeds = ",".join(str(s) for s in part["seed"])
                seconds = f"{part['seconds_per_epoch'].mean():.1f}"
                lines.append(f"| {side} | {seeds} | " + " | ".join(cells) + f" | {seconds} |")
            if len(by_side) == 2 and all(len(v) >= 2 for v in by_side.values()):
                theirs, ours = by_side["authors' code"], by_side["ours"]
                gap = statistics.mean(ours) - statistics.mean(theirs)
                pooled = ((statistics.variance(ours) + statistics.variance(theirs)) / 2) ** 0.5
                verdict = "within" if abs(gap) <= pooled else "**larger than**"
                lines += [
                    "",
                    f"Ours − authors': {gap:+.2f} weighted-F1, {verdict} the pooled seed spread {pooled:.2f}.",
                ]
            lines.append("")
    out.with_suffix(".md").write_text("\n".join(lines))


def shown_command(args: argparse.Namespace) -> str:
    """The command that reruns this comparison, without this machine's paths (clone, output, home)."""
    parts = ["python benchmarks/crosscheck_multiemo.py --reference CLONE", f"--profile {args.profile}"]
    parts += [f"--dataset {name}" for name in args.dataset or []]
    parts.append("--seeds " + " ".join(map(str, args.seeds)))
    parts += [f"--{name} {getattr(args, name)}" for name in ("threads", "width") if getattr(args, name)]
    return " ".join(parts + (["--params-only"] if args.params_only else []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference", required=True, type=Path, help=f"a clone of {REFERENCE_URL} at {COMMIT}"
    )
    parser.add_argument("--dataset", action="append", help="default: both synthetic datasets")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--width", type=int, help="another width than the profile's (e.g. 1024 on a GPU)")
    parser.add_argument("--threads", type=int, help="torch threads on both sides instead of the profile's")
    parser.add_argument("--params-only", action="store_true", help="compare parameter counts, train nothing")
    parser.add_argument("--out", type=Path, default=Path("results/reference"))
    parser.add_argument(
        "--home", type=Path, help="where the datasets are generated (default: a temporary folder)"
    )
    args = parser.parse_args()
    profile = PROFILES.get(args.profile)
    dims = profile.dims if args.width is None else dataclasses.replace(profile.dims, width=args.width)
    module = import_reference(args.reference.resolve())
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out.resolve() / "crosscheck_multiemo"
    start_load = os.getloadavg()[0]
    command = shown_command(args)
    with tempfile.TemporaryDirectory(prefix="crosscheck-multiemo-") as scratch:
        home = Home(args.home or Path(scratch) / "home")
        names = args.dataset or ["synthetic-iemocap", "synthetic-meld"]
        datasets = [subsample(load(name, home), profile.max_dialogues) for name in names]
        params = [row for d in datasets for row in parameter_rows(module, d, dims)]
        rows: list[dict] = []
        planned = 0 if args.params_only else len(datasets) * len(args.seeds)
        write_page(out, params, rows, command, f"{planned} (dataset, seed) pairs planned, none finished yet.")
        done = 0
        for dataset in [] if args.params_only else datasets:
            layout = write_multiemo_layout(dataset, Path(scratch) / dataset.meta.family)
            for seed in args.seeds:
                train = profile.train_config(dataset.meta.family, seed)
                train = dataclasses.replace(train, threads=args.threads or train.threads)
                theirs = train_reference(module, layout, dataset, dims, train)
                rows.append(metric_row(dataset, "authors' code", seed, theirs))
                rows.append(metric_row(dataset, "ours", seed, train_ours(dataset, dims, train)))
                done += 1
                machine = (
                    f"{done} of {planned} (dataset, seed) pairs finished, on {os.cpu_count()} CPU cores, "
                    f"{train.threads} torch thread(s) per side; load average (1 min) {start_load:.1f} at the "
                    f"start, {os.getloadavg()[0]:.1f} at the last seed's end."
                )
                write_page(out, params, rows, command, machine)
                print(
                    f"{dataset.meta.name} seed {seed}: {rows[-2]['weighted_f1']} (authors') vs {rows[-1]['weighted_f1']} (ours)",
                    flush=True,
                )
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
