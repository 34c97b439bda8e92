"""`python -m benchmark data`: imports and prints the summary; bad input is one line, exit status 2."""

from __future__ import annotations

from benchmark.commands.cli import main as cli_main
from tests.data_fixtures import write_feature_pickle


def test_data_command_imports_a_feature_pickle_and_prints_its_summary(tmp_path, home, capsys):
    path = write_feature_pickle(tmp_path / "iemocap_multimodal_features.pkl", "sdt-iemocap")
    assert cli_main(["data", "--dataset", "iemocap", "--source", str(path), "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "source kind: feature-pickle:sdt" in out and "text features: SDT release" in out
    assert "feature dims: text 1024, audio 1582, visual 342; absent modalities: none" in out
    assert "carved" in out and "fingerprint" in out and "frustrated" in out
    assert cli_main(["data", "--dataset", "iemocap", "--home", str(home.root)]) == 0  # the current import
    assert "text features: SDT release" in capsys.readouterr().out


def test_data_command_reports_bad_input_in_one_line(tmp_path, home, capsys):
    missing = tmp_path / "missing.pkl"
    assert cli_main(["data", "--dataset", "meld", "--source", str(missing), "--home", str(home.root)]) == 2
    assert "file not found" in capsys.readouterr().err
