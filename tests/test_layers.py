"""The layers' direction: the report reads stored records, weights and study files and never imports the
trainer, so that writing a report can never train, and the trainer's imports never reach the report."""

from __future__ import annotations

import subprocess
import sys

from benchmark.home import PROJECT_ROOT

TRAINING = {
    "benchmark.training.loop",
    "benchmark.training.runner",
    "benchmark.training.teachers",
    "benchmark.training.tsne",
    "benchmark.training.modality_removal",
    "benchmark.executors.local",
    "benchmark.executors",
}
EVERY_REPORT_MODULE = (
    "import importlib, pkgutil, sys\n"
    "import benchmark.report as report\n"
    "for module in pkgutil.iter_modules(report.__path__):\n"
    "    importlib.import_module(f'benchmark.report.{module.name}')\n"
    "print(' '.join(sorted(sys.modules)))\n"
)


def test_the_report_imports_nothing_from_training():
    loaded = subprocess.run(
        [sys.executable, "-c", EVERY_REPORT_MODULE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "benchmark.report.tables" in loaded  # the probe did import the report
    assert sorted(TRAINING & set(loaded)) == []
