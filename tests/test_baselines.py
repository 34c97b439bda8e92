"""Every baseline: padded batches, padding invariance, gradients to every modality, absent modalities,
and learning above chance on the synthetic default."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.data.collate import collate_dialogues
from benchmark.errors import BenchmarkError
from benchmark.executors.local import run_key
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import ModelDims
from benchmark.store.records import RunKey
from tests.model_fixtures import assert_padding_invariant, tiny_dialogues, tiny_meta

FUSION_BASELINES = ["early-fusion", "late-fusion", "tfn", "lmf", "mult", "mmgcn", "sdt", "multiemo"]
DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.0)
MODALITIES_NEEDED = {"mult": 2, "sdt": 2, "multiemo": 3}


def build(name, meta=None):
    return MODELS.get(name).build(meta or tiny_meta(), DIMS, {})


@pytest.mark.parametrize("name", FUSION_BASELINES)
def test_forward_backward_on_a_padded_batch_reaches_every_modality(name):
    model = build(name)
    batch = collate_dialogues(tiny_dialogues(tiny_meta()))
    for features in batch.features.values():
        features.requires_grad_(True)
    output = model(batch)
    assert output.logits.shape == (*batch.mask.shape, 6)
    (output.logits[batch.mask].logsumexp(-1).sum() + sum(output.aux_losses.values())).backward()
    for modality, features in batch.features.items():
        assert features.grad[batch.mask].abs().sum() > 0, modality  # the modality's branch is trained
        assert features.grad[~batch.mask].abs().sum() == 0, modality  # padding feeds nothing back
    assert all(p.grad is not None for p in model.parameters()), "a parameter took no part in the loss"


@pytest.mark.parametrize("name", FUSION_BASELINES)
def test_padding_does_not_change_real_utterances(name):
    assert_padding_invariant(build(name), tiny_meta())


@pytest.mark.parametrize("name", FUSION_BASELINES)
def test_text_only_data_runs_or_fails_clearly(name):
    text_only = tiny_meta({"text": 12})
    if name in MODALITIES_NEEDED:
        with pytest.raises(BenchmarkError, match=f"at least {MODALITIES_NEEDED[name]} modalities"):
            build(name, text_only)
    else:
        assert build(name, text_only)(collate_dialogues(tiny_dialogues(text_only))).logits.shape[-1] == 6
    with pytest.raises(BenchmarkError, match="needs feature modalities|at least"):
        build(name, tiny_meta({}))


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(BenchmarkError, match="no option 'ranks'.*rank"):
        MODELS.get("lmf").build(tiny_meta(), DIMS, {"ranks": 2})


# MultiEMO does not clear this bar after the smoke profile's 4 epochs on 48 dialogues (its weighted-F1
# beside its authors' code: docs/measurements.md, "Rivals against their authors' code").
LEARNS_AT_SMOKE = [name for name in FUSION_BASELINES if name != "multiemo"]


# At the smaller smoke (2 epochs on 20 dialogues) every rival here clears the bar by 0.2 or more
# (MMGCN 0.49 and SDT 0.53 against 0.28, the others above 0.6), as they do at the smoke profile, which
# the regression gate trains.
@pytest.mark.parametrize("name", LEARNS_AT_SMOKE)
def test_trains_above_chance_on_synthetic_iemocap_smoke(name, home, smaller_smoke):
    record = run_key(RunKey(name, "none", "synthetic-iemocap", "smoke", 0), home)
    labels = np.concatenate(record.predictions.labels)
    proportions = np.bincount(labels) / len(labels)
    chance = float((proportions**2).sum())  # weighted-F1 of guessing by the test's class proportions
    majority = float(proportions.max() ** 2)  # weighted-F1 of always predicting the largest class
    assert record.test.weighted_f1 > max(chance, majority) + 0.1, (record.test.weighted_f1, chance)
