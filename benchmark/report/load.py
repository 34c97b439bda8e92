"""The run records a report stands on, from the store's query: per dataset and profile, the valid records
of the dataset's current import, and a one-line reason (with the fix) for each file left out."""

from __future__ import annotations

from collections.abc import Iterable

from benchmark.data.cache import current_import
from benchmark.home import Home
from benchmark.store.records import RunRecord
from benchmark.store.runs import StoredRuns, stored_groups, stored_runs
from benchmark.stored import StoredFileError


def load_groups(
    home: Home, datasets: Iterable[str] | None = None, profiles: Iterable[str] | None = None
) -> tuple[dict[tuple[str, str], StoredRuns], list[str]]:
    """(dataset, profile) -> its stored runs, for the datasets and profiles asked for (all when None),
    and one line per file or record left out."""
    datasets = None if datasets is None else set(datasets)
    profiles = None if profiles is None else set(profiles)
    groups, lines = {}, []
    current: dict[str, str | None] = {}  # dataset -> its current import, read once for all its profiles
    for dataset, profile in stored_groups(home):
        if (datasets is None or dataset in datasets) and (profiles is None or profile in profiles):
            if dataset not in current:
                try:
                    current[dataset] = current_import(home, dataset)
                except StoredFileError as err:  # then the import of the newest record stands for it
                    current[dataset] = None
                    lines.append(f"{err} (reporting the import of the newest {dataset} record meanwhile)")
            groups[(dataset, profile)] = stored = stored_runs(home, dataset, profile, current[dataset])
            lines += stored.notes(dataset, profile)
    return groups, lines


def load_records(home: Home) -> tuple[list[RunRecord], list[str]]:
    """Every record a report would use, and one line per file or record it would leave out."""
    groups, lines = load_groups(home)
    return [record for stored in groups.values() for record in stored.records], lines
