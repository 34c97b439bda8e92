"""MultiEMO's four-file data folder from a local path: value-exact features, official splits, speakers,
labels and the lineage the release states; a lone Speakers.pkl or an incomplete folder says what to pass."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data.pickles import carve_validation
from benchmark.errors import BenchmarkError
from tests.multiemo_fixtures import write_multiemo_folder


@pytest.mark.parametrize("family", ["iemocap", "meld"])
def test_the_folder_imports_value_exact_with_its_splits_speakers_and_labels(tmp_path, home, family):
    written = write_multiemo_folder(tmp_path / family, family)
    dataset = data.import_source(str(written.folder), family, family, home)
    assert dataset.meta.source_kind == "multiemo-folder"
    assert dataset.meta.feature_dims == {"text": 768, "audio": 512, "visual": 1000}
    assert dataset.meta.lineage == {
        "text": "MultiEMO release: EmoBERTa (its loaders' comment); 768 dims in its training script",
        "audio": "MultiEMO release: extractor not stated; 512 dims in its training script",
        "visual": "MultiEMO release: VisExtNet, MTCNN faces through a VGGFace2 ResNet-101, averaged over frames; "
        "1000 dims in its training script",
    }
    train = [str(d) for d in written.train]
    if family == "meld":  # the trailing item is MELD's official dev split
        expected = {"train": train[2:], "validation": train[:2], "test": [str(d) for d in written.test]}
    else:  # no validation in the file: the suite's seeded carve
        kept, carved = carve_validation(train)
        expected = {"train": kept, "validation": carved, "test": [str(d) for d in written.test]}
    for split, ids in expected.items():
        rows = dataset.splits[split].with_format("numpy")[:]
        assert sorted(rows["dialogue_id"].tolist()) == sorted(ids)
        for i, dialogue in enumerate(rows["dialogue_id"]):
            key = int(dialogue) if family == "meld" else str(dialogue)
            assert rows["labels"][i].tolist() == written.labels[key]
            for modality, per_dialogue in written.features.items():
                assert np.array_equal(rows[modality][i], per_dialogue[key])  # bit for bit
            speakers = written.speakers[key]
            # IEMOCAP letters in sorted order (F 0, M 1); MELD one-hot vectors by their index
            want = (
                [int(np.argmax(s)) for s in speakers]
                if family == "meld"
                else ["FM".index(s) for s in speakers]
            )
            assert rows["speakers"][i].tolist() == want


def test_the_folder_imports_through_the_data_command(tmp_path, home, capsys):
    folder = write_multiemo_folder(tmp_path / "MELD", "meld").folder
    argv = ["data", "--dataset", "meld", "--source", str(folder), "--home", str(home.root)]
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    assert "source kind: multiemo-folder" in out and "EmoBERTa" in out
    assert data.load("meld", home).meta.source_kind == "multiemo-folder"


def test_a_lone_speakers_file_says_what_it_is_and_to_pass_the_folder(tmp_path, home):
    folder = write_multiemo_folder(tmp_path / "IEMOCAP", "iemocap").folder
    with pytest.raises(
        BenchmarkError, match=f"MultiEMO's Speakers.pkl .*import the folder, --source {folder}$"
    ):
        data.import_source(str(folder / "Speakers.pkl"), "iemocap", "iemocap", home)


def test_an_incomplete_folder_names_the_missing_files(tmp_path, home):
    folder = write_multiemo_folder(tmp_path / "IEMOCAP", "iemocap").folder
    (folder / "VisualFeatures.pkl").unlink()
    with pytest.raises(BenchmarkError, match="a MultiEMO data folder without VisualFeatures.pkl"):
        data.import_source(str(folder), "iemocap", "iemocap", home)


def test_the_other_dataset_s_folder_names_the_right_dataset(tmp_path, home):
    folder = write_multiemo_folder(tmp_path / "MELD", "meld").folder
    with pytest.raises(
        BenchmarkError, match="MultiEMO's MELD folder, not IEMOCAP: import it with --dataset meld"
    ):
        data.import_source(str(folder), "iemocap", "iemocap", home)
