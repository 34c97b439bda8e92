"""Fine-tuned text features (benchmark/data/fine_tune.py) on a few real IEMOCAP dialogues with the shipped
MiniLM, offline: what may and may not reach training, the cache key, the one-line errors."""

from __future__ import annotations

import argparse
import dataclasses
import pickle

import numpy as np
import pytest
import torch

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.commands.data import add_arguments, import_options
from benchmark.data import features
from benchmark.data.class_weighting import INVERSE_FREQUENCY, UNWEIGHTED
from benchmark.data.fine_tune import (
    FineTuneSettings,
    Turns,
    _Classifier,
    _frozen_batches,
    _run_layers,
    fine_tune,
)
from benchmark.data.safe_pickle import load_pickle
from benchmark.errors import BenchmarkError
from tests.data_fixtures import write_feature_pickle

TINY = FineTuneSettings(epochs=1, batch_size=16)


def write_transcripts(real, path, per_split: int = 1, scramble: str | None = None):
    """The first `per_split` dialogues of each split of COSMIC's iemocap.pkl (a few dozen utterances);
    `scramble` names a split whose labels are rotated within each dialogue and across classes."""
    speakers, labels, sentences, train, test, valid = load_pickle(real)
    kept = {"train": train[:per_split], "test": test[:per_split], "validation": valid[:per_split]}
    chosen = {d for ids in kept.values() for d in ids}
    labels = {d: list(v) for d, v in labels.items() if d in chosen}
    if scramble is not None:
        for d in kept[scramble]:
            labels[d] = [(y + 1) % 6 for y in labels[d][1:] + labels[d][:1]]
    per_dialogue = [{d: v for d, v in item.items() if d in chosen} for item in (speakers, sentences)]
    items = (per_dialogue[0], labels, per_dialogue[1], kept["train"], kept["test"], kept["validation"])
    path.write_bytes(pickle.dumps(items, protocol=4))
    return str(path)


def fine_tuned(home, source, settings=TINY):
    options = data.ImportOptions(text_encoder=features.TextEncoder(fine_tune=settings))
    return data.load("iemocap", home, source, options)


def text_rows(dataset):
    return {split: dataset.utterances(split, "text")[0] for split in ("train", "validation", "test")}


@pytest.fixture
def transcripts(shared_data):
    return shared_data / "cosmic" / "iemocap.pkl"


def test_a_tiny_fine_tune_runs_offline_and_test_labels_change_no_feature(
    transcripts, tmp_path, home, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    first = fine_tuned(home, write_transcripts(transcripts, tmp_path / "a.pkl"))
    scrambled = fine_tuned(home, write_transcripts(transcripts, tmp_path / "b.pkl", scramble="test"))
    assert (
        first.meta.fingerprint != scrambled.meta.fingerprint
    )  # other labels: imported again, not a cache hit
    assert first.meta.feature_dims == {"text": 384}
    assert "fine-tuned on the training split" in first.meta.lineage["text"]
    assert "epochs=1" in first.meta.lineage["text"] and "kept epoch 1 of 1" in first.meta.lineage["text"]
    for split, rows in text_rows(first).items():
        assert np.array_equal(rows, text_rows(scrambled)[split]), split
    # the classifier's test score is the one thing test labels decide
    [(name, score)] = first.meta.references.items()
    assert name == "fine-tuned classifier (context-free)" and 0 <= score <= 100
    assert scrambled.meta.references[name] != score


def split_inputs(path, home):
    dataset = data.import_source(str(path), "iemocap", "iemocap", home)
    turns, labels = {}, {}
    for split in ("train", "validation", "test"):
        rows = dataset.splits[split].with_format("numpy")[:]
        turns[split] = Turns([list(s) for s in rows["sentences"]], [list(s) for s in rows["speakers"]])
        labels[split] = np.concatenate(list(rows["labels"])).astype(np.int64)
    return turns, labels


def test_validation_labels_pick_the_epoch_but_never_train(transcripts, tmp_path, home):
    turns, labels = split_inputs(write_transcripts(transcripts, tmp_path / "a.pkl"), home)
    model = features._sentence_model(features.DEFAULT_TEXT_ENCODER, None)
    settings = FineTuneSettings(epochs=2, patience=2, batch_size=16)

    def run(validation_labels):
        return fine_tune(
            model[0].auto_model, model.tokenizer, turns, labels["train"], validation_labels, 6, settings
        )

    honest = run(labels["validation"])
    scrambled = run((labels["validation"] + 1) % 6)
    assert honest.train_loss == scrambled.train_loss  # the same training, epoch by epoch
    assert honest.validation_f1 != scrambled.validation_f1
    assert honest.train_loss[1] < honest.train_loss[0]  # it does train


def test_the_top_layers_on_cached_lower_layers_are_the_full_encoder(transcripts, tmp_path, home):
    turns, _ = split_inputs(write_transcripts(transcripts, tmp_path / "a.pkl"), home)
    model = features._sentence_model(features.DEFAULT_TEXT_ENCODER, None)
    encoder, tokenizer = model[0].auto_model, model.tokenizer
    inputs = turns["train"].inputs(context=0)
    [batch, *_] = _frozen_batches(encoder, tokenizer, inputs, 4, FineTuneSettings(), lambda n: None)
    with torch.no_grad():
        split = _run_layers(encoder.encoder.layer[4:], batch.hidden, batch.mask, encoder.config)
        texts = [inputs[i][0] for i in batch.rows]
        whole = encoder(**tokenizer(texts, padding=True, return_tensors="pt")).last_hidden_state
    tokens = batch.mask.bool()
    assert torch.allclose(split[tokens], whole[tokens], atol=1e-5)


def test_context_gives_the_previous_turns_with_speaker_names():
    turns = Turns([["hi", "hello", "bye"]], [[0, 1, 0]])
    assert turns.inputs(0) == [("hi", None), ("hello", None), ("bye", None)]
    assert turns.inputs(1) == [
        ("", "Speaker 0: hi"),
        ("Speaker 0: hi", "Speaker 1: hello"),
        ("Speaker 1: hello", "Speaker 0: bye"),
    ]


def test_every_setting_encoder_and_revision_is_part_of_the_cache_key(transcripts, tmp_path, home):
    raw = data.import_source(write_transcripts(transcripts, tmp_path / "a.pkl"), "iemocap", "iemocap", home)
    default = FineTuneSettings()

    def other(value):
        if isinstance(value, str):  # class_weighting: the other valid name
            return UNWEIGHTED if value != UNWEIGHTED else INVERSE_FREQUENCY
        return value + 1 if isinstance(value, int) else value * 2

    changed = [
        dataclasses.replace(default, **{f.name: other(getattr(default, f.name))})
        for f in dataclasses.fields(FineTuneSettings)
    ]
    encoders = [
        None,
        features.TextEncoder(),
        features.TextEncoder(fine_tune=default),
        features.TextEncoder(name="some/encoder", revision="a", fine_tune=default),
        features.TextEncoder(name="some/encoder", revision="b", fine_tune=default),
        *(features.TextEncoder(fine_tune=settings) for settings in changed),
    ]
    keys = {data.import_fingerprint(raw, encoder) for encoder in encoders}
    assert len(keys) == len(encoders) == 5 + len(dataclasses.fields(FineTuneSettings))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--fine-tune", "--text-encoder", "none"], "--fine-tune with --text-encoder none"),
        (["--fine-tune", "epochs=0"], "epochs=0: must be at least 1"),
        (["--fine-tune", "epoch=3"], "expected KEY=VALUE with KEY one of epochs, patience"),
        (["--fine-tune", "learning_rate=fast"], "learning_rate takes a float"),
        (["--fine-tune", "layers=7"], "layers=7: the encoder has 6 transformer layers"),
        (["--context", "2"], "--context applies to fine-tuning: add --fine-tune"),
        (["--fine-tune", "--context", "-1"], "--context -1: give 0 or more"),
        (["--fine-tune", "class_weighting=balanced"], "class_weighting=balanced: give one of none, inverse"),
    ],
)
def test_bad_fine_tune_settings_are_one_line(transcripts, tmp_path, home, capsys, arguments, message):
    source = write_transcripts(transcripts, tmp_path / "a.pkl")
    assert (
        cli_main(["data", "--dataset", "iemocap", "--source", source, "--home", str(home.root), *arguments])
        == 2
    )
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and message in error


@pytest.mark.parametrize(
    ("dataset", "text", "weighting"),
    [
        ("iemocap", "", INVERSE_FREQUENCY),
        ("meld", "", UNWEIGHTED),
        ("meld", "class_weighting=inverse-frequency", INVERSE_FREQUENCY),
        ("iemocap", "epochs=2,class_weighting=none", UNWEIGHTED),
    ],
)
def test_fine_tuning_weights_classes_as_the_dataset_trains_unless_told(dataset, text, weighting):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = import_options(parser.parse_args(["--dataset", dataset, "--fine-tune", text]))
    assert options.text_encoder.fine_tune.class_weighting == weighting


def test_unweighted_fine_tuning_gives_every_class_the_same_weight():
    labels = np.array([0, 0, 0, 1, 2, 2])
    settings = {w: dataclasses.replace(TINY, class_weighting=w) for w in (INVERSE_FREQUENCY, UNWEIGHTED)}
    layer = torch.nn.ModuleList()
    config = type("Config", (), {"hidden_size": 4})
    weights = {
        w: _Classifier(layer, config, labels, 3, s).class_weights.tolist() for w, s in settings.items()
    }
    assert weights[UNWEIGHTED] == [1.0, 1.0, 1.0]
    assert weights[INVERSE_FREQUENCY] == pytest.approx([6 / 9, 2.0, 1.0])


def test_fine_tuning_a_source_with_text_features_is_refused(tmp_path, home):
    source = write_feature_pickle(tmp_path / "features.pkl", "mmgcn-iemocap")
    with pytest.raises(BenchmarkError, match="--fine-tune needs transcripts without text features") as caught:
        fine_tuned(home, str(source), FineTuneSettings())
    assert "\n" not in str(caught.value)
