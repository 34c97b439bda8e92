"""Features whose extractor may have seen the test dialogues are flagged: MultiEMO's text features are
EmoBERTa's, whose author says the public checkpoint was trained on MELD and IEMOCAP, "I think" with their
test sets. The flag shows in the sources table, the import's summary, and the header and claims of a
report built on such an import; other sources are not flagged."""

from __future__ import annotations

import dataclasses

import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data import releases
from benchmark.data.schema import MAY_HAVE_TRAINED_ON_TEST, exposure_of
from benchmark.report import write_reports
from benchmark.store.runs import RunStore
from tests.data_fixtures import write_feature_pickle
from tests.multiemo_fixtures import write_multiemo_folder
from tests.test_report import ACCURACY, fixture_record

EVIDENCE = "github.com/tae898/erc/issues/29"


def test_only_the_releases_with_emoberta_text_are_flagged_and_the_table_says_so(home, capsys):
    for entry in releases.SOURCES:
        flagged = exposure_of(entry.lineage)
        assert set(flagged) == ({"text"} if entry.name == "multiemo" else set()), entry.label
    assert cli_main(["data", "--list-sources", "--home", str(home.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the table wraps its cells
    assert "test split seen by an extractor" in out
    assert "may have been trained on data including the test split" in out and "tae898/erc" in out
    assert "not that a source says" in out


def test_an_extractor_named_in_any_lineage_is_flagged_whoever_encoded(home):
    """The suite's own encoders, pointed at EmoBERTa's public checkpoint, make features as exposed."""
    flagged = exposure_of(
        {"text": "tae898/emoberta-base@0123abc, mean-pooled; standardised", "audio": "IS10"}
    )
    assert list(flagged) == ["text"] and flagged["text"].certainty == MAY_HAVE_TRAINED_ON_TEST


@pytest.fixture
def multiemo_import(tmp_path, home):
    folder = write_multiemo_folder(tmp_path / "IEMOCAP", "iemocap").folder
    return data.load("iemocap", home, str(folder), data.ImportOptions(text_encoder=None))


def test_a_multiemo_import_is_flagged_in_its_summary(multiemo_import, home, capsys):
    exposure = multiemo_import.meta.test_split_exposure
    assert list(exposure) == ["text"] and EVIDENCE in exposure["text"].evidence
    assert set(data.summarize(multiemo_import)["test_split_exposure"]) == {"text"}
    assert cli_main(["data", "--dataset", "iemocap", "--home", str(home.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "text features: EmoBERTa's public checkpoint may have been trained on data including the test" in out
    )


def test_a_report_on_a_flagged_import_says_so_in_its_header_and_claims(multiemo_import, tmp_path, home):
    store = RunStore(home)
    for variant in ACCURACY:
        for seed in (0, 1):
            record = fixture_record(variant, seed)
            key = dataclasses.replace(record.key, dataset="iemocap")
            store.write(dataclasses.replace(record, key=key, data=multiemo_import.meta))
    write_reports(home, resamples=50)
    report = (home.reports / "iemocap-fast" / "report.md").read_text()
    header = report.split("## Claims")[0]
    assert "**text features that may have seen the test dialogues**: EmoBERTa's public checkpoint" in header
    assert EVIDENCE in header
    claims = report.split("## Claims")[1].split("## Provenance")[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert rows and all("text features may have seen the test split (EmoBERTa" in row for row in rows)


def test_a_report_on_an_unflagged_import_says_nothing_of_it(tmp_path, home):
    meta = data.load("iemocap", home, str(write_feature_pickle(tmp_path / "a.pkl", "mmgcn-iemocap"))).meta
    assert meta.test_split_exposure == {}
    for seed in (0, 1):
        record = fixture_record("summer", seed)
        key = dataclasses.replace(record.key, dataset="iemocap")
        RunStore(home).write(dataclasses.replace(record, key=key, data=meta))
    write_reports(home, resamples=50)
    assert "may have seen the test" not in (home.reports / "iemocap-fast" / "report.md").read_text()
