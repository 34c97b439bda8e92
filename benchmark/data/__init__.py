"""Datasets: a registry of names, one loader per source kind, and a cache keyed by fingerprint.

`load(name, home, source)` is the one entry point the harness uses; the logic lives in
`benchmark/data/loading.py`.
"""

from benchmark.data.loading import (
    DATASETS,
    DatasetSpec,
    ImportOptions,
    import_fingerprint,
    import_source,
    load,
    subsample,
    summarize,
    writable_cache,
)

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "ImportOptions",
    "import_fingerprint",
    "import_source",
    "load",
    "subsample",
    "summarize",
    "writable_cache",
]
