"""`python -m benchmark list`: what is registered."""

from __future__ import annotations

import argparse

from benchmark.commands.data import sources_table
from benchmark.errors import BenchmarkError
from benchmark.home import resolve_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params", action="store_true", help="add parameter counts at the paper profile's dims"
    )


def main(args: argparse.Namespace) -> int:
    from rich.table import Table

    from benchmark.console import make_console
    from benchmark.experiment.catalog import ABLATIONS, DATASETS, MODELS
    from benchmark.experiment.profiles import PROFILES
    from benchmark.report.published_numbers import published_summary, read_published_numbers

    console = make_console()
    datasets = Table("dataset", "family", "kind", "feature dims", "description", title="datasets")
    for name, spec in DATASETS.items():
        dims = ", ".join(f"{m} {d}" for m, d in spec.feature_dims.items())
        datasets.add_row(name, spec.family, "synthetic" if spec.synthetic else "real", dims, spec.description)
    console.print(datasets)
    families = ("iemocap", "meld")
    published = read_published_numbers()
    models = Table(
        "model",
        "family",
        "description",
        "published (its own paper)",
        "settings (--set, tune)",
        title="models",
    )
    if args.params:
        for family in families:
            models.add_column(f"params ({family}, paper)", justify="right")
    for name, spec in MODELS.items():
        counts = [_parameters(name, family) for family in families] if args.params else []
        settings = ", ".join(sorted(spec.search_space))
        models.add_row(
            name, spec.family, spec.description, published_summary(published, name), settings, *counts
        )
    console.print(models)
    ablations = Table("--drop", "of", "from", "label", "what changes", title="ablations and study variants")
    for name, ablation in ABLATIONS.items():
        ablations.add_row(name, ablation.model, ablation.origin, ablation.label, ablation.description)
    console.print(ablations)
    profiles = Table("profile", "width", "layers", "seeds", "description", title="profiles")
    for name, profile in PROFILES.items():
        seeds = ", ".join(map(str, profile.seeds))
        profiles.add_row(name, str(profile.dims.width), str(profile.dims.layers), seeds, profile.description)
    console.print(profiles)
    console.print(sources_table(resolve_home()))
    return 0


def _parameters(model: str, family: str) -> str:
    from benchmark.data.schema import CLASS_NAMES, DatasetMeta
    from benchmark.experiment.catalog import DATASETS, MODELS
    from benchmark.experiment.profiles import PROFILES
    from benchmark.models.contract import count_parameters

    spec = DATASETS.get(f"synthetic-{family}")
    meta = DatasetMeta(
        name=spec.name,
        family=family,
        classes=CLASS_NAMES[family],
        feature_dims=spec.feature_dims,
        n_speakers=9,
        source="list --params",
        source_kind="synthetic",
        fingerprint="",
        synthetic=True,
    )
    try:
        return f"{count_parameters(MODELS.get(model).build(meta, PROFILES.get('paper').dims, {})):,}"
    except BenchmarkError as err:
        return f"n/a ({err})"
