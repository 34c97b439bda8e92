"""Datasets: the registry of names, one loader per source kind behind `load`, subsampling and summaries.

`load(name, home, source)` is the one entry point the harness uses (re-exported by `benchmark.data`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from benchmark.data import cache, features, multiemo_folder, releases, schema, synthetic, table_sources
from benchmark.data.features import TextEncoder
from benchmark.data.pickles import load_pickle_source
from benchmark.data.schema import SPLITS, MercDataset
from benchmark.data.table_files import table_builder
from benchmark.data.utterances import TableOptions
from benchmark.errors import BenchmarkError
from benchmark.home import Home
from benchmark.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    family: str  # "iemocap" or "meld"
    description: str
    synthetic: bool
    feature_dims: dict[str, int]  # the standard dims, for parameter counts without loading data


datasets.disable_progress_bars()  # the CLI has its own progress display

DATASETS: Registry[DatasetSpec] = Registry("dataset")
for _family in ("iemocap", "meld"):
    DATASETS.add(
        f"synthetic-{_family}",
        DatasetSpec(
            f"synthetic-{_family}",
            _family,
            f"generated with {_family.upper()}'s classes, proportions, dialogue lengths and dims (the default)",
            synthetic=True,
            feature_dims=synthetic.FEATURE_DIMS[_family],
        ),
    )
    DATASETS.add(
        f"synthetic-{_family}-text",
        DatasetSpec(
            f"synthetic-{_family}-text",
            _family,
            f"the synthetic {_family.upper()}'s text alone (the rival-order check against the real transcripts)",
            synthetic=True,
            feature_dims={"text": synthetic.FEATURE_DIMS[_family]["text"]},
        ),
    )
    DATASETS.add(
        _family,
        DatasetSpec(
            _family,
            _family,
            f"real {_family.upper()}: import once with `python -m benchmark data --dataset {_family} --source ...`",
            synthetic=False,
            feature_dims=synthetic.FEATURE_DIMS[_family],
        ),
    )


@dataclass(frozen=True)
class ImportOptions:
    """How a real source becomes training data: the text encoder for sources that have sentences and no
    text features (None keeps the transcripts only) and how per-utterance tables are read."""

    text_encoder: TextEncoder | None = TextEncoder()
    table: TableOptions = TableOptions()


def load(
    name: str, home: Home, source: str | None = None, options: ImportOptions | None = None
) -> MercDataset:
    """The dataset `name`: generated (or cached) if synthetic; imported from `source` and remembered as the
    current import; or, without a source, the remembered import."""
    spec = DATASETS.get(name)
    if spec.synthetic:
        if source is not None:
            raise BenchmarkError(
                f"dataset {name!r} is generated, it takes no --source; use --dataset {spec.family}"
            )
        modalities = tuple(spec.feature_dims)
        fingerprint = synthetic.generator_fingerprint(spec.family, synthetic.SYNTHETIC_SEED, modalities)
        return cache.generated(
            home,
            fingerprint,
            generator_identity(),
            lambda: synthetic.generate(spec.family, modalities=modalities),
        )
    if source is None:
        fingerprint = cache.current_import(home, name)
        if fingerprint is None:
            raise BenchmarkError(
                f"dataset {name!r} has not been imported: run "
                f"`python -m benchmark data --dataset {name} --source PATH_OR_HUB_ID`"
            )
        return cache.load(
            cache.folder(home, fingerprint),
            f"import {name} again with `python -m benchmark data --dataset {name} --source PATH_OR_HUB_ID`",
        )
    options = options or ImportOptions()
    raw = import_source(source, name, spec.family, home, options.table)
    table_settings = options.table.identity()
    if table_settings and raw.meta.source_kind not in TABLE_KINDS:
        given = ", ".join(f"--{setting.replace('_', '-')}" for setting in table_settings)
        raise BenchmarkError(
            f"{source}: {given} apply to a table of utterances (CSV, parquet, JSON lines or MELD's CSVs), and "
            f"this source is {raw.meta.source_kind}, which they would not change: leave them out"
        )
    encoder = options.text_encoder if _needs_text_features(raw) else None
    if options.text_encoder is not None and options.text_encoder.fine_tune is not None and encoder is None:
        has = (
            f"text features ({raw.meta.lineage.get('text', 'unknown')})"
            if "text" in raw.meta.feature_dims
            else "no sentences"
        )
        raise BenchmarkError(
            f"{source}: --fine-tune needs transcripts without text features, and this source has {has}: "
            "import a transcripts source (e.g. COSMIC's iemocap.pkl) or drop --fine-tune"
        )
    fingerprint = import_fingerprint(raw, encoder, options.table)
    imported = cache.cached(home, fingerprint, lambda: features.finish(raw, encoder, fingerprint))
    if imported.meta.source != raw.meta.source:  # the same content from a new place: say where it is now
        imported = cache.restate_source(home, fingerprint, raw.meta.source)
    cache.remember_import(home, name, fingerprint)
    return imported


def generator_identity() -> str:
    """What generated files depend on beyond their fingerprint (version, seed, parameters, statistics):
    the generator's and the schema's code, which may change before the version is bumped (calibration),
    the loader version, and numpy's and datasets' versions (random streams, file layout)."""
    code = b"".join(Path(module.__file__).read_bytes() for module in (synthetic, schema))
    parts = [
        hashlib.sha256(code).hexdigest(),
        str(cache.LOADER_VERSION),
        np.__version__,
        datasets.__version__,
    ]
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:16]


def import_fingerprint(
    raw: MercDataset, encoder: TextEncoder | None, table: TableOptions | None = None
) -> str:
    """The cache key of an import: the source's content, the loader version, the text encoder with its
    revision and fine-tuning settings, the normalisation, the named release it came from (its reports
    name it, so the same files imported from a local path are another cache entry, never one whose meta
    names the other provenance), and the table settings that change what a table's rows become
    (`--columns`, `--label-order`, `--drop-labels`): the same file read another way is other data."""
    table_settings = table.identity() if table is not None and raw.meta.source_kind in TABLE_KINDS else {}
    return features.derived_fingerprint(
        raw.meta.fingerprint,
        cache.LOADER_VERSION,
        encoder.identity() if encoder else None,
        features.STANDARDIZED,
        *([raw.meta.release] if raw.meta.release else []),
        *([table_settings] if table_settings else []),
    )


# the source kinds read through a per-utterance table, where the table settings apply
TABLE_KINDS = ("utterance-table", "meld-csv")


def _needs_text_features(raw: MercDataset) -> bool:
    return "text" not in raw.meta.feature_dims and "sentences" in raw.splits["train"].column_names


def import_source(
    source: str, name: str, family: str, home: Home, table: TableOptions | None = None
) -> MercDataset:
    """Dispatch on what `source` is: the name of a public release (`releases.SOURCES`), a .pkl file, a table
    file, a saved datasets folder, MultiEMO's data folder, a folder of split files (the MELD CSV release
    among them), a hub id with its revision."""
    if releases.is_named(source):
        return _import_release(releases.named_source(source, family), name, family, home)
    path = Path(source).expanduser()
    _check_path_kind(path, source)
    reader = table_sources.Reader(cache_dir=writable_cache(home), table=table or TableOptions())
    if path.is_file() and table_builder(path) is not None:
        return table_sources.load_table_file(path, name, family, reader)
    if path.name == multiemo_folder.SPEAKERS and path.is_file():
        raise multiemo_folder.lone_speakers_file(path)
    if path.suffix == ".pkl" or path.is_file():
        return load_pickle_source(path, name, family)
    if path.is_dir():
        if multiemo_folder.is_multiemo_folder(path):
            return multiemo_folder.load_multiemo_folder(path, name, family)
        if (path / "dataset_dict.json").exists() or (path / "dataset_info.json").exists():
            return table_sources.load_saved_folder(path, name, family, reader)
        return table_sources.load_data_files(path, name, family, reader)
    repo_id, at, _ = source.partition("@")
    if not at or source.startswith((".", "/", "~")) or repo_id.count("/") != 1:
        raise BenchmarkError(
            f"{source}: no such file or folder (relative paths start from {Path.cwd()}), and not a hub id: "
            "check the path, or give a hub dataset as OWNER/NAME@REVISION"
        )
    return table_sources.load_hub(source, name, family, reader)


def _check_path_kind(path: Path, source: str) -> None:
    """A path that exists as something other than a file or a folder (a device, a FIFO, a socket) or a
    symbolic link that leads nowhere is named as such, not taken for a missing path or a hub id."""
    try:
        kind = stat.S_IFMT(path.stat().st_mode)
    except FileNotFoundError:
        if path.is_symlink():
            raise BenchmarkError(
                f"{source}: a symbolic link to {os.readlink(path)}, which does not exist: fix the link or pass "
                "the file itself"
            ) from None
        return
    except OSError as err:  # a symbolic link loop (ELOOP), a path through a file (ENOTDIR), ...
        raise BenchmarkError(f"{source}: cannot be opened ({err.strerror}): pass the file itself") from None
    if kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise BenchmarkError(
            f"{source}: not a regular file or folder (a device, pipe or socket): pass a data file or folder"
        )


def writable_cache(home: Home) -> Path:
    """The `datasets` cache under the home, checked writable before any file is read, so that a read-only
    home is blamed for itself instead of surfacing as a file that cannot be read."""
    cache_dir = home.dataset_cache / "hf-datasets"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=cache_dir).close()
    except OSError as err:
        raise BenchmarkError(
            f"the home {home.root} is not writable ({err.strerror}: {err.filename or cache_dir}): an import "
            "caches its data there; choose a writable folder with --home"
        ) from None
    return cache_dir


def _import_release(entry: releases.NamedSource, name: str, family: str, home: Home) -> MercDataset:
    """Fetch (or find in the download cache) and verify the release's files, then import them as a local
    copy would be; the meta names the release and the lineage is the one the release states."""
    local = import_source(str(releases.download(entry, home)), name, family, home)
    meta = dataclasses.replace(
        local.meta,
        source=f"{entry.name} ({entry.repository_path})",
        release=entry.label,
        lineage={m: entry.lineage.get(m, "unknown") for m in local.meta.feature_dims},
    )
    return MercDataset(meta, local.splits)


def subsample(dataset: MercDataset, max_dialogues: dict[str, int]) -> MercDataset:
    """Keep the first `max_dialogues[split]` dialogues of a split in a fixed shuffled order that does not
    depend on the run's seed, so every seed and model of a profile sees the same subset."""
    if not max_dialogues:
        return dataset
    splits = dict(dataset.splits)
    for split, limit in max_dialogues.items():
        rows = len(splits[split])
        if rows > limit:
            order = np.random.default_rng(len(split)).permutation(rows)[:limit]
            splits[split] = splits[split].select(sorted(order.tolist()))
    note = "subsampled to " + ", ".join(f"{s} {n}" for s, n in max_dialogues.items()) + " dialogues"
    meta = dataclasses.replace(dataset.meta, notes=(*dataset.meta.notes, note))
    return MercDataset(meta, type(dataset.splits)(splits))


def summarize(dataset: MercDataset) -> dict:
    meta = dataset.meta
    per_split = {}
    for split in SPLITS:
        labels = dataset.splits[split]["labels"]
        counts = np.bincount(
            np.concatenate([np.asarray(x, dtype=int) for x in labels]), minlength=meta.n_classes
        )
        per_split[split] = {
            "dialogues": len(labels),
            "utterances": int(counts.sum()),
            "class_counts": dict(zip(meta.classes, counts.tolist(), strict=True)),
        }
    return {
        "name": meta.name,
        "source": meta.source,
        "source_kind": meta.source_kind,
        "release": meta.release,
        "lineage": dict(meta.lineage),
        "test_split_exposure": {m: e.describe() for m, e in meta.test_split_exposure.items()},
        "synthetic": meta.synthetic,
        "fingerprint": meta.fingerprint,
        "feature_dims": meta.feature_dims,
        "absent_modalities": list(meta.absent_modalities),
        "speakers": meta.n_speakers,
        "splits": per_split,
        "notes": list(meta.notes),
        "references": dict(meta.references),
    }
