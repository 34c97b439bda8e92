"""The smoke profile cut down further, for tests whose assertions hold at any size of run (determinism,
the teacher cache, locks, records, run plans, tuning) or, as the rivals' above-chance bar, hold there by a
wide margin. Their runs keep the smoke profile's name, widths and training settings and train on fewer
dialogues for fewer epochs: what a test of training itself needs is more than one batch per epoch and more
than one epoch. The regression gate, and every test that compares with its reference, train the real
smoke profile."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark.experiment.profiles import PROFILES

SMOKE = PROFILES.get("smoke")
SMALLER_SMOKE = dataclasses.replace(
    SMOKE,
    train={family: dataclasses.replace(config, epochs=2) for family, config in SMOKE.train.items()},
    # at least two batches per epoch at both families' batch sizes (8 IEMOCAP, 16 MELD dialogues), and
    # every IEMOCAP class in train + validation, which its inverse-frequency class weights need
    max_dialogues={"train": 20, "validation": 4, "test": 8},
)


def use_smaller_smoke(patch: pytest.MonkeyPatch) -> None:
    """Make "smoke" mean SMALLER_SMOKE while `patch` holds, in a copy of the registry that is put back."""
    patch.setattr(PROFILES, "_items", dict(PROFILES.items()) | {"smoke": SMALLER_SMOKE})
