"""The typed sections of a run record as report tests build them: a synthetic dataset, a CPU machine, the
config of a variant. Only the fields a test varies are arguments."""

from __future__ import annotations

from collections.abc import Sequence

from benchmark.data.schema import DatasetMeta
from benchmark.store.records import FULL_MODEL, Environment, RunConfig, RunKey, config_hash

FIXTURE_EPOCHS = 3  # the epoch cap of the fixture configs; no patience


def fixture_data(family: str, classes: Sequence[str]) -> DatasetMeta:
    return DatasetMeta(
        name=f"synthetic-{family}",
        family=family,
        classes=tuple(classes),
        feature_dims={"text": 8},
        n_speakers=2,
        source="summer-bench generator v1 (seed=0)",
        source_kind="synthetic",
        fingerprint="f" * 64,
        synthetic=True,
    )


def fixture_environment() -> Environment:
    return Environment(
        git_commit="abc123",
        python="3.11.7",
        numpy="2.0.0",
        scikit_learn="1.5.0",
        platform="Linux",
        cpu="a CPU",
        cpu_capability="AVX2",
        machine="x86_64",
        torch="2.13.0+cpu",
        threads=2,
        device="cpu",
        device_name="cpu",
        precision="fp32",
        deterministic=True,
    )


def fixture_config(key: RunKey, label: str) -> tuple[RunConfig, str]:
    """The config of `key`'s variant with its ablation `label`, and its hash."""
    config = RunConfig(
        model=key.model,
        ablation=key.ablation,
        ablation_label=label,
        ablation_origin=None if key.ablation == FULL_MODEL else "suite",
        model_config={},
        train={"epochs": FIXTURE_EPOCHS, "patience": 0},
        profile=key.profile,
        max_dialogues=None,
        precision="fp32",
    )
    return config, config_hash(config.to_json())
