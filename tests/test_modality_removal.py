"""Missing modalities at test time, from the weights each run keeps beside its record."""

from __future__ import annotations

import dataclasses

import torch

from benchmark import data
from benchmark.data.collate import dialogues_from_split
from benchmark.executors import local
from benchmark.experiment.catalog import MODELS
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.training.loop import evaluate
from benchmark.training.modality_removal import ABSENT, CONDITIONS, ZERO_FILLED, evaluate_without_modalities
from tests.smoke_fixtures import SMALLER_SMOKE


def test_stored_weights_reproduce_the_record_and_removal_is_recorded(home, smaller_smoke):
    key = RunKey("text-teacher", "none", "synthetic-iemocap", "smoke", 0)
    record = local.run_key(key, home)
    dataset = data.subsample(data.load(key.dataset, home), smaller_smoke.max_dialogues)
    model = MODELS.get(key.model).build(dataset.meta, smaller_smoke.dims, {})
    model.load_state_dict(torch.load(RunStore(home).weights_path(key)))
    test = dialogues_from_split(dataset.splits["test"], dataset.meta.modalities)
    metrics, _ = evaluate(model, test, 8, dataset.meta.classes)
    assert metrics == record.test  # the kept weights are the validation-selected ones
    removed = record.missing_modalities
    assert list(removed) == list(CONDITIONS)
    assert removed["all three"].weighted_f1 == record.test.weighted_f1
    # the text teacher never reads audio: absent audio changes nothing; it cannot run without text
    assert removed["without audio"] == dataclasses.replace(removed["all three"], how=ABSENT)
    assert removed["without text"].how == ZERO_FILLED
    assert removed["without text"].weighted_f1 < record.test.weighted_f1


def test_a_fusion_model_that_needs_every_modality_is_zero_filled_and_says_so(home):
    dataset = data.subsample(data.load("synthetic-iemocap", home), SMALLER_SMOKE.max_dialogues)
    model = MODELS.get("tfn").build(dataset.meta, SMALLER_SMOKE.dims, {})
    results = evaluate_without_modalities(model, dataset, 8)
    assert results["all three"].how == ABSENT
    assert {results[c].how for c in CONDITIONS if c != "all three"} == {ZERO_FILLED}


def test_summer_without_text_is_the_same_whatever_the_text_features_were(home):
    """The same SUMMER and teacher evaluated on two datasets that differ only in their text features:
    every result without text is identical, while with text they differ (the text matters)."""
    import datasets

    from benchmark.data.collate import collate_dialogues
    from benchmark.training.modality_removal import without

    dataset = data.subsample(data.load("synthetic-iemocap", home), SMALLER_SMOKE.max_dialogues)
    generator = torch.Generator().manual_seed(0)

    def other_text(name: str, split: datasets.Dataset) -> datasets.Dataset:
        rows = [torch.randn(len(x), len(x[0]), generator=generator).tolist() for x in split["text"]]
        # the new column's fingerprint is given: datasets would otherwise hash its every number
        added = split.remove_columns("text").add_column("text", rows, new_fingerprint=f"other-text-{name}")
        return added.cast(split.features)

    other = dataclasses.replace(
        dataset, splits=datasets.DatasetDict({s: other_text(s, x) for s, x in dataset.splits.items()})
    )
    torch.manual_seed(0)
    model = MODELS.get("summer").build(dataset.meta, SMALLER_SMOKE.dims, {})
    teacher = MODELS.get("text-teacher").build(dataset.meta, SMALLER_SMOKE.dims, {})
    results, logits = [], []
    for each in (dataset, other):
        model.attach_teacher(teacher)  # a fresh cache of its outputs, filled from this dataset's text
        results.append(evaluate_without_modalities(model, each, 8))  # "all three" runs first, as in a run
        test = dialogues_from_split(each.splits["test"], each.meta.modalities)
        batch = collate_dialogues(without(test[:8], ("text",), zero_fill=True), absent=frozenset({"text"}))
        with torch.no_grad():
            logits.append(model(batch).logits)
    assert results[0]["without text"] == results[1]["without text"]
    assert results[0]["without text"].how == ZERO_FILLED
    assert torch.equal(logits[0], logits[1])
    assert results[0]["all three"] != results[1]["all three"]
