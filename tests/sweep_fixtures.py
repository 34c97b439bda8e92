"""What two sweeps of the same keys must agree on, whatever executor trained them."""

from __future__ import annotations

from benchmark.executors import run_sweep
from benchmark.training.runner import resolve_runs


def sweep(keys, home, placement, *, force=False) -> list:
    """`run_sweep` of `keys`, each resolved once with the placement's device settings, as the commands do."""
    return run_sweep(resolve_runs(keys, home, placement.execution), home, placement, force=force)


def comparable(record) -> dict:
    """A run record less what depends on the machine's timing (epoch seconds, environment)."""
    curves = [{k: v for k, v in vars(epoch).items() if k != "seconds"} for epoch in record.curves]
    return {
        "config_hash": record.config_hash,
        "best_epoch": record.best_epoch,
        "validation": record.validation,
        "test": record.test,
        "predictions": record.predictions,
        "test_oracle": record.test_oracle_weighted_f1,
        "curves": curves,
        "missing_modalities": record.missing_modalities,
    }
