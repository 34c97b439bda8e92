"""`python -m benchmark data`: import, validate and cache a dataset, then print its summary."""

from __future__ import annotations

import argparse

from benchmark.home import resolve_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", required=True, help="a registered dataset name (see `python -m benchmark list`)"
    )
    parser.add_argument(
        "--source",
        help="a .pkl feature/transcript pickle, a saved `datasets` folder, a folder of train/validation/test "
        "parquet or json files, or HUB_ID@REVISION (the revision is required); omit for a synthetic dataset or "
        "to show the current import",
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )


def main(args: argparse.Namespace) -> int:
    from rich.table import Table

    from benchmark import data
    from benchmark.progress import make_console

    dataset = data.load(args.dataset, resolve_home(args.home), args.source)
    summary = data.summarize(dataset)
    console = make_console()
    kind = "[bold red]synthetic[/]" if summary["synthetic"] else "real"
    console.print(f"[bold]{summary['name']}[/] ({kind}) from {summary['source']}", highlight=False)
    console.print(f"source kind: {summary['source_kind']}; lineage: {summary['lineage'] or 'none'}")
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
        console.print(f"note: {note}")
    return 0
