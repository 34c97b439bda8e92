"""The layers' direction: the report reads stored records, weights and study files, the store keeps them
and the models are what training trains; none of the three imports the trainer or an executor, so that
writing a report, reading a record or building a model can never train."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmark.home import PROJECT_ROOT

TRAINING = ("benchmark.training", "benchmark.executors")
EVERY_MODULE_OF = (
    "import importlib, pkgutil, sys\n"
    "package = importlib.import_module({package!r})\n"
    "for module in pkgutil.iter_modules(package.__path__):\n"
    "    importlib.import_module(f'{package}.{{module.name}}')\n"
    "print(' '.join(sorted(sys.modules)))\n"
)


def modules_loaded_by(package: str) -> set[str]:
    """Every module a fresh interpreter holds after importing each module of `package`."""
    return set(
        subprocess.run(
            [sys.executable, "-c", EVERY_MODULE_OF.format(package=package)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    )


def training_modules(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == t or m.startswith(t + ".") for t in TRAINING))


@pytest.mark.parametrize(
    ("package", "one_of_its_modules"),
    [
        ("benchmark.report", "benchmark.report.tables"),
        ("benchmark.store", "benchmark.store.runs"),
        ("benchmark.models", "benchmark.models.layers"),
    ],
)
def test_a_layer_below_training_imports_nothing_from_it(package, one_of_its_modules):
    loaded = modules_loaded_by(package)
    assert one_of_its_modules in loaded  # the probe did import the package's modules
    assert training_modules(loaded) == []


def test_the_probe_sees_the_trainer_where_it_is_imported():
    assert "benchmark.training.runner" in training_modules(modules_loaded_by("benchmark.executors"))
