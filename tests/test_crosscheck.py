"""Our side of the cross-check (scripts/crosscheck): what the writers put on disk, read back by
loaders written here from each reference's documented input layout (their dataloader.py / dataset.py,
read, not copied), the patched import, the clone check and the selection. No reference code needed."""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import subprocess
import sys

import datasets
import numpy as np
import pytest

from benchmark.data.schema import CLASS_NAMES, MercDataset, features_for
from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import ModelDims, count_parameters
from benchmark.report.crosscheck import crosscheck_lines
from benchmark.store.records import SplitMetrics
from scripts.crosscheck import mmgcn, mult, multiemo, sdt
from scripts.crosscheck.__main__ import main
from scripts.crosscheck.compare import Side
from scripts.crosscheck.page import Progress, write_page
from scripts.crosscheck.reference import (
    EpochPredictions,
    Patch,
    Reference,
    Settings,
    select_on_validation,
    timed_epochs,
)
from scripts.crosscheck.registry import REFERENCES
from tests.model_fixtures import tiny_meta

LENGTHS = {"train": (6, 2, 3), "validation": (2,), "test": (3, 1)}


def tiny_dataset(family: str) -> MercDataset:
    """Three splits of a few dialogues; MELD with up to 9 speakers, IEMOCAP with 2."""
    meta = dataclasses.replace(
        tiny_meta(),
        family=family,
        classes=CLASS_NAMES[family],
        n_speakers=2 if family == "iemocap" else 9,
    )
    rng = np.random.default_rng(0)
    splits = {}
    for split, lengths in LENGTHS.items():
        rows = {"dialogue_id": [], "speakers": [], "labels": []} | {m: [] for m in meta.feature_dims}
        for i, n in enumerate(lengths):
            rows["dialogue_id"].append(f"{split}{i}")
            rows["speakers"].append(rng.integers(0, meta.n_speakers, n).tolist())
            rows["labels"].append([int(k % len(meta.classes)) for k in range(i, i + n)])
            for m, dim in meta.feature_dims.items():
                rows[m].append(rng.standard_normal((n, dim)).astype(np.float32))
        splits[split] = datasets.Dataset.from_dict(rows, features=features_for(meta.feature_dims))
    return MercDataset(meta, datasets.DatasetDict(splits))


def ours(dataset: MercDataset, split: str) -> dict:
    columns = dataset.splits[split].with_format("numpy")[:]
    return {str(d): i for i, d in enumerate(columns["dialogue_id"])}, columns


def read_feature_pickle(path, family: str, roberta_layers: bool) -> dict:
    """The tuple SDT's / MMGCN's IEMOCAPDataset and MELDDataset unpack (dataloader.py): videoIDs,
    videoSpeakers, videoLabels, videoText, [roberta2, roberta3, roberta4: SDT only], videoAudio,
    videoVisual, videoSentence, trainVid, testVid, and on MELD one more item."""
    with open(path, "rb") as handle:
        items = pickle.load(handle, encoding="latin1")
    names = ["ids", "speakers", "labels", "text"] + ["r2", "r3", "r4"] * roberta_layers
    names += ["audio", "visual", "sentences", "train", "test"] + ["extra"] * (family == "meld")
    assert len(items) == len(names)
    return dict(zip(names, items, strict=True))


def speaker_vector(family: str, speaker) -> list[float]:
    """__getitem__'s qmask row: IEMOCAP [1, 0] for 'M', [0, 1] otherwise; MELD the stored vector."""
    if family == "iemocap":
        return [1, 0] if speaker == "M" else [0, 1]
    return list(speaker)


@pytest.mark.parametrize("family", ["iemocap", "meld"])
@pytest.mark.parametrize(
    ("reference", "path", "roberta"),
    [(sdt.REFERENCE, sdt.FILES, True), (mmgcn.REFERENCE, mmgcn.FILES, False)],
    ids=["sdt", "mmgcn"],
)
def test_feature_pickle_reads_back_in_the_references_layout(tmp_path, family, reference, path, roberta):
    dataset = tiny_dataset(family)
    reference.write_inputs(dataset, tmp_path)
    stored = read_feature_pickle(tmp_path / path[family], family, roberta)
    assert stored["train"] == list(ours(dataset, "train")[0])
    assert stored["test"] == list(ours(dataset, "test")[0])
    for split in ("train", "validation", "test"):
        index, columns = ours(dataset, split)
        for dialogue, i in index.items():
            np.testing.assert_array_equal(stored["labels"][dialogue], columns["labels"][i])
            for modality in ("text", "audio", "visual"):
                np.testing.assert_array_equal(np.asarray(stored[modality][dialogue]), columns[modality][i])
            vectors = np.array([speaker_vector(family, s) for s in stored["speakers"][dialogue]])
            # one speaker per row, and the same speaker always gets the same vector
            assert (vectors.sum(1) == 1).all()
            assert len({tuple(v) for v in vectors}) == len(set(columns["speakers"][i].tolist()))
            assert (
                len(stored["ids"][dialogue])
                == len(stored["sentences"][dialogue])
                == len(columns["labels"][i])
            )


def test_mult_layout_reads_back_as_its_dataset_does(tmp_path):
    """src/dataset.py: pickle[split]['text'|'audio'|'vision'] [N, T, dim], ['labels'], ['id'] rows."""
    dataset = tiny_dataset("iemocap")
    mult.REFERENCE.write_inputs(dataset, tmp_path)
    with open(tmp_path / f"{mult.DATA_NAME}_data.pkl", "rb") as handle:
        stored = pickle.load(handle)
    for split, theirs in (("train", "train"), ("validation", "valid"), ("test", "test")):
        index, columns = ours(dataset, split)
        part = stored[theirs]
        longest = max(LENGTHS[split])
        assert part["text"].shape == (len(index), longest, dataset.meta.feature_dims["text"])
        assert part["labels"].shape == (len(index), longest, 1)
        for dialogue, i in index.items():
            assert part["id"][i][0] == dialogue
            n = len(columns["labels"][i])
            np.testing.assert_array_equal(part["labels"][i, :n, 0], columns["labels"][i])
            assert (part["labels"][i, n:] == mult.PADDING_LABEL).all()
            np.testing.assert_array_equal(part["vision"][i, :n], columns["visual"][i])
            assert not part["audio"][i, n:].any()


def read_multiemo_layout(folder, family: str) -> dict:
    """What Dataset/IEMOCAPDataset.py and MELDDataset.py read: Speakers.pkl, the tuple (_, videoSpeakers,
    videoLabels, _, _, _, _, trainVid, testVid) with a tenth item on MELD, and one pickled dict of
    dialogue id -> [utterances, dim] per modality (TextFeatures, AudioFeatures, VisualFeatures)."""
    with open(folder / "Speakers.pkl", "rb") as handle:
        items = pickle.load(handle, encoding="latin1")
    assert len(items) == (9 if family == "iemocap" else 10)
    stored = dict(
        zip(["speakers", "labels", "train", "test"], [items[1], items[2], items[7], items[8]], strict=True)
    )
    for modality, name in (
        ("text", "TextFeatures"),
        ("audio", "AudioFeatures"),
        ("visual", "VisualFeatures"),
    ):
        with open(folder / f"{name}.pkl", "rb") as handle:
            stored[modality] = pickle.load(handle)
    return stored


@pytest.mark.parametrize("family", ["iemocap", "meld"])
def test_multiemo_layout_reads_back_as_its_dataset_classes_do(tmp_path, family):
    dataset = tiny_dataset(family)
    multiemo.REFERENCE.write_inputs(dataset, tmp_path)
    stored = read_multiemo_layout(tmp_path / "Data" / family.upper(), family)
    assert stored["train"] == list(ours(dataset, "train")[0])
    assert stored["test"] == list(ours(dataset, "test")[0])
    for split in ("train", "validation", "test"):
        index, columns = ours(dataset, split)
        for dialogue, i in index.items():
            assert stored["labels"][dialogue] == columns["labels"][i].tolist()
            for modality in ("text", "audio", "visual"):
                np.testing.assert_array_equal(stored[modality][dialogue], columns[modality][i])
            # __getitem__'s speaker rows: IEMOCAP [1, 0] for 'M', [0, 1] otherwise; MELD the stored vector
            vectors = np.array([speaker_vector(family, s) for s in stored["speakers"][dialogue]])
            assert (vectors.sum(1) == 1).all()
            assert len({tuple(v) for v in vectors}) == len(set(columns["speakers"][i].tolist()))


def test_meld_with_more_speakers_than_the_layout_is_refused(tmp_path):
    dataset = tiny_dataset("meld")
    splits = dict(dataset.splits)
    splits["train"] = splits["train"].map(lambda row: {"speakers": [9] * len(row["speakers"])})
    crowded = MercDataset(dataset.meta, datasets.DatasetDict(splits))
    for reference in (sdt.REFERENCE, multiemo.REFERENCE):
        with pytest.raises(BenchmarkError, match="9 MELD speakers"):
            reference.write_inputs(crowded, tmp_path)


class Toy(Reference):
    name = "toy"
    rival = "sdt"
    repository = "someone/toy"
    commit = "0" * 40
    files = ("model.py",)
    patches = (Patch("model.py", "DEVICE = 'cuda'", "DEVICE = 'cpu'", "runs on a CPU"),)
    stubs = {"not_installed_anywhere": "an import the checked path never uses"}


def test_patched_import_applies_and_prints_each_patch_then_forgets_the_modules(tmp_path, capsys):
    (tmp_path / "model.py").write_text("import not_installed_anywhere\nDEVICE = 'cuda'\n")
    with Toy().imported(tmp_path) as modules:
        assert modules["model"].DEVICE == "cpu"
    printed = capsys.readouterr().out
    assert "patch toy/model.py: runs on a CPU" in printed and "not_installed_anywhere" in printed
    assert "model" not in sys.modules and "not_installed_anywhere" not in sys.modules


def test_a_clone_without_the_patched_code_is_refused(tmp_path):
    (tmp_path / "model.py").write_text("DEVICE = 'tpu'\n")
    with pytest.raises(BenchmarkError, match="lacks the code a patch replaces"):
        with Toy().imported(tmp_path):
            pass


def test_clone_check_demands_the_pinned_commit_and_warns_on_a_plain_folder(tmp_path, capsys):
    (tmp_path / "model.py").write_text("DEVICE = 'cuda'\n")
    Toy().check_clone(tmp_path)
    assert "not a git checkout" in capsys.readouterr().out
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "x",
            "--allow-empty",
        ],
        check=True,
    )
    with pytest.raises(BenchmarkError, match="pinned to 0000000"):
        Toy().check_clone(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(BenchmarkError, match="has no model.py"):
        Toy().check_clone(other)
    with pytest.raises(BenchmarkError, match="is not a folder"):
        Toy().check_clone(tmp_path / "absent")


def test_selection_takes_the_best_validation_epoch_not_the_best_test_one():
    dataset = tiny_dataset("iemocap")
    validation = np.concatenate(dataset.splits["validation"]["labels"])
    test = np.concatenate(dataset.splits["test"]["labels"])
    wrong = (test + 1) % 6
    epochs = [
        EpochPredictions(validation, wrong, 1.0),  # best on validation
        EpochPredictions((validation + 1) % 6, test, 3.0),  # best on test
    ]
    selected = select_on_validation(dataset, epochs)
    assert selected.best_epoch == 1 and selected.test.weighted_f1 == 0.0
    assert selected.seconds_per_epoch == 2.0


def test_every_reference_epoch_trains_once_then_predicts_validation_then_test():
    """The one epoch adapter the references share: the order matters (MultiEMO steps its schedule on
    the validation loss before the test pass; SDT and MMGCN number epochs from 0 in their own loops)."""
    calls = []

    def predict(loader, epoch):
        calls.append((loader, epoch))
        return np.array([epoch])

    epochs = timed_epochs(2, lambda epoch: calls.append(("train", epoch)), predict, "validation", "test")
    assert calls == [(step, e) for e in (0, 1) for step in ("train", "validation", "test")]
    assert [(e.validation.tolist(), e.test.tolist()) for e in epochs] == [([0], [0]), ([1], [1])]
    assert all(e.seconds >= 0 for e in epochs)


@pytest.mark.parametrize(
    ("rival", "dims", "feature_dims", "expected"),
    [
        # SDT's Transformer_Based_Model at its paper settings: 79,687,704, of which 18,432 are the
        # LayerNorms of its first layers, which it never calls
        (
            "sdt",
            ModelDims(1024, 8, 1, 0.5),
            {"text": 1024, "audio": 1582, "visual": 342},
            79_687_704 - 18_432,
        ),
        # MMGCN's DialogueGCNModel as run.sh builds it has 2,886,815, of which 507,509 (edge attention,
        # gated attention and layers of other variants) its MMGCN path never calls
        ("mmgcn", ModelDims(100, 1, 1, 0.4), {"text": 1024, "audio": 1582, "visual": 342}, 2_379_306),
        # MulT's MULTModel (per-utterance output, width 64, 4 heads, 1 layer), counted by the cross-check
        ("mult", ModelDims(64, 4, 1, 0.2), {"text": 1024, "audio": 1582, "visual": 342}, 2_572_550),
    ],
)
def test_rivals_have_their_references_parameter_count(rival, dims, feature_dims, expected):
    meta = dataclasses.replace(tiny_meta(), feature_dims=feature_dims)
    assert count_parameters(MODELS.get(rival).build(meta, dims, {})) == expected


def test_report_lines_state_each_checked_rivals_gap_from_the_csv(tmp_path):
    path = tmp_path / "crosscheck.csv"
    path.write_text(
        "reference,dataset,side,model,seeds,width,epochs,gap,pooled_std\n"
        "sdt,synthetic-iemocap,reference,SDT@60af921,0 1 2,64,8,,\n"
        "sdt,synthetic-iemocap,ours,sdt,0 1 2,64,8,0.40,0.90\n"
        "mult,synthetic-iemocap,ours,mult,0 1 2,64,2,-2.50,1.00\n"
        "sdt,synthetic-meld,ours,sdt,0 1 2,64,5,9.00,1.00\n"
    )
    lines = crosscheck_lines("synthetic-iemocap", ["sdt", "mult", "tfn"], path)
    assert any("`sdt`: ours − authors' = +0.40" in line and "within" in line for line in lines)
    assert any("`mult`" in line and "2 epochs" in line for line in lines)
    assert any("`mult`: ours − authors' = -2.50" in line and "**beyond**" in line for line in lines)
    assert not any("9.00" in line or "tfn" in line for line in lines)
    assert "No rival" in crosscheck_lines("iemocap", ["sdt"], path)[0]


def test_epoch_overrides_name_a_checked_reference_or_are_refused_in_one_line(tmp_path, capsys):
    for file in sdt.REFERENCE.files:
        (tmp_path / file).write_text("")
    for bad in ("mult=2", "sdt=0", "sdt"):
        assert main(["--sdt", str(tmp_path), "--epochs", bad, "--home", str(tmp_path / "home")]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and f"--epochs {bad!r}: expected REFERENCE=N" in error


@pytest.mark.parametrize("dataset", ["synthetic-iemocap", "synthetic-meld"])
def test_the_committed_crosscheck_states_every_checked_rival_in_the_reports(dataset):
    rivals = [reference.rival for reference in REFERENCES.values()]
    lines = crosscheck_lines(dataset, [*rivals, "tfn"])
    for rival in rivals:
        assert sum(f"`{rival}`: ours − authors' = " in line for line in lines) == 1, rival
    assert not any("`tfn`" in line for line in lines)


def _side(side: str, seed: int, f1: float) -> Side:
    test = SplitMetrics(f1, f1, f1, {"happy": f1, "sad": f1}, [[1, 0], [0, 1]])
    settings = Settings(64, 4, 0.2, 2e-3, 8, 16, 1e-5, (), 0.0, seed, "cpu", 1)
    model = "SDT@60af921" if side == "reference" else "sdt"
    return Side("sdt", "synthetic-iemocap", True, side, model, seed, 10, 0, 1, test, 1.0, settings)


def test_page_states_the_gap_the_pooled_spread_and_how_long_the_check_took(tmp_path):
    results = [_side("reference", s, f) for s, f in ((0, 0.70), (1, 0.72))]
    results += [_side("ours", s, f) for s, f in ((0, 0.69), (1, 0.69))]
    args = argparse.Namespace(width="fast", device="cpu", seeds=[0, 1])
    write_page(results, [REFERENCES["sdt"]], args, "python -m x", tmp_path, Progress(2, 2, 1500.0))
    page = (tmp_path / "crosscheck.md").read_text()
    assert "The whole check, 2 (reference, dataset) pairs, took 25.0 min of wall clock." in page
    assert "| sdt | synthetic-iemocap | sdt | 10 (0) | 64, 8 | 69.00 ± 0.00 | -2.00 | 1.0 | 1.00 |" in page
    write_page(results, [REFERENCES["sdt"]], args, "python -m x", tmp_path, Progress(1, 4, 90.0))
    page = (tmp_path / "crosscheck.md").read_text()
    assert "Interrupted: 1 of 4 (reference, dataset) pairs done after 1.5 min of wall clock." in page
