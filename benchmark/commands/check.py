"""`python -m benchmark check`: the metric regression gate CI runs."""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.commands._options import path
from benchmark.errors import BenchmarkError
from benchmark.home import REFERENCE_DIR, Home, resolve_home

GATE_PROFILE = "smoke"
SPREAD_SEEDS = (0, 1, 2)  # --update measures the seed spread the tolerances come from on these


@dataclass(frozen=True)
class GateHome(Home):
    """A home's datasets and caches with runs of the gate's own: the gate retrains under its profile's
    settings, and the home's runs (made with other threads, devices or settings) are neither reused nor
    replaced. Its runs are kept for the next check and for a look at what failed."""

    @property
    def runs(self) -> Path:
        return self.results / "cache" / "gate" / "runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update", action="store_true", help="rewrite the reference after an intended change"
    )
    parser.add_argument("--reference", type=path, default=REFERENCE_DIR / f"{GATE_PROFILE}.json")
    parser.add_argument("--model", action="append", help="only these models (default: every registered one)")
    parser.add_argument(
        "--dataset", action="append", help="only these datasets (default: both synthetic ones)"
    )
    parser.add_argument(
        "--home",
        help="use this home's datasets and caches; the gate trains in HOME/results/cache/gate/runs, kept and "
        "reused by the next check, and never touches the home's own runs (default: a fresh temporary home, "
        "trained anew)",
    )


def main(args: argparse.Namespace) -> int:
    from benchmark.commands.housekeeping import tidy
    from benchmark.executors.local import run_keys
    from benchmark.experiment.catalog import MODELS
    from benchmark.experiment.profiles import PROFILES
    from benchmark.report import regression_gate
    from benchmark.training.environment import machine_fingerprint
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs

    models = args.model or MODELS.names()
    datasets = args.dataset or list(DEFAULT_DATASETS)
    threads = PROFILES.get(GATE_PROFILE).train["iemocap"].threads
    fingerprint = machine_fingerprint(threads)
    reference = None if args.update else regression_gate.read_reference(args.reference)  # before training
    with tempfile.TemporaryDirectory(prefix="summer-bench-check-") as scratch:
        if args.home:
            home = GateHome(resolve_home(args.home).root)
            tidy(
                home
            )  # the gate's own runs and the shared caches: the home's runs are not the gate's to touch
            where = (
                f"{home.runs} (the gate's own runs; those under {Home(home.root).runs} are left as they are)"
            )
        else:
            home = Home(Path(scratch))
            where = f"a temporary home, {scratch}, removed when the check ends"
        print(f"the gate trains in {where}", file=sys.stderr)
        if args.update:
            return _update(args.reference, models, datasets, home, fingerprint)
        keys = plan(models, datasets, GATE_PROFILE, [reference.gate_seed])
        records = run_keys(resolve_runs(keys, home), home)
    findings = regression_gate.compare(reference, records, fingerprint)
    if not args.model and not args.dataset:
        findings += regression_gate.missing_entries(reference, keys)
    exact = fingerprint == reference.deterministic_on
    print(regression_gate.findings_markdown(findings, exact))  # plain: Markdown must not be re-wrapped
    return 1 if any(f.failed for f in findings) else 0


def _update(path: Path, models, datasets, home: Home, fingerprint: dict) -> int:
    from benchmark.executors.local import run_keys
    from benchmark.experiment.catalog import MODELS
    from benchmark.report import regression_gate
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs

    old = regression_gate.read_reference(path) if path.exists() else None
    if old is not None and (set(models) != set(MODELS.names()) or set(datasets) != set(DEFAULT_DATASETS)):
        raise BenchmarkError("check --update rewrites the whole reference: drop --model/--dataset")
    spread = run_keys(resolve_runs(plan(models, datasets, GATE_PROFILE, SPREAD_SEEDS), home), home)
    gate = [r for r in spread if r.key.seed == SPREAD_SEEDS[0]]
    new = regression_gate.build_reference(gate, spread, fingerprint)
    regression_gate.write_reference(path, new)
    print(regression_gate.reference_changes_markdown(old, new))
    print(f"wrote {path}")
    return 0
