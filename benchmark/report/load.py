"""The run records a report stands on, from the store's query: per dataset and profile, the valid records
of the dataset's current import, and a one-line reason (with the fix) for each file left out."""

from __future__ import annotations

from collections.abc import Iterable

from benchmark.data.cache import current_import
from benchmark.home import Home
from benchmark.store.records import RunRecord
from benchmark.store.runs import StoredRuns, stored_groups, stored_runs


def load_groups(
    home: Home, datasets: Iterable[str] | None = None, profiles: Iterable[str] | None = None
) -> dict[tuple[str, str], StoredRuns]:
    """(dataset, profile) -> its stored runs, for the datasets and profiles asked for (all when None)."""
    datasets = None if datasets is None else set(datasets)
    profiles = None if profiles is None else set(profiles)
    return {
        (dataset, profile): stored_runs(home, dataset, profile, current_import(home, dataset))
        for dataset, profile in stored_groups(home)
        if (datasets is None or dataset in datasets) and (profiles is None or profile in profiles)
    }


def load_records(home: Home) -> tuple[list[RunRecord], list[str]]:
    """Every record a report would use, and one line per file or record it would leave out."""
    groups = load_groups(home)
    records = [record for stored in groups.values() for record in stored.records]
    return records, [line for (d, p), stored in groups.items() for line in stored.notes(d, p)]
