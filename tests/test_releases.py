"""Named public sources, end to end against a loopback HTTP server (the `server` fixture): the real COSMIC
transcripts under conv-emotion's paths, files the tests write, a corrupted byte, a broken-off download
resumed with a Range request, an unreachable host. Nothing here touches the network."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time

import numpy as np
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data import releases
from benchmark.data.download import PARTIAL_SUFFIX, fetch, git_blob_id
from benchmark.errors import BenchmarkError
from tests.loopback import blob_id, with_entry, written_release
from tests.multiemo_fixtures import write_multiemo_folder


def test_git_blob_id_is_what_git_hash_object_prints(tmp_path):
    path = tmp_path / "some.pkl"
    path.write_bytes(bytes(range(256)) * 1000 + b"tail")
    expected = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_blob_id(path) == expected
    assert git_blob_id(path) != hashlib.sha1(path.read_bytes()).hexdigest()  # the header is part of it


@pytest.mark.parametrize("family", ["iemocap", "meld"])
def test_cosmic_downloads_verifies_its_real_blob_ids_and_imports_as_the_local_file(
    shared_data, server, home, family
):
    entry = releases.named_source("cosmic", family)
    (file,) = entry.files
    server.serve(entry, file, (shared_data / "cosmic" / f"{family}.pkl").read_bytes())
    fetched = data.import_source("cosmic", family, family, home)
    local = data.import_source(str(shared_data / "cosmic" / f"{family}.pkl"), family, family, home)
    assert git_blob_id(entry.cached_path(file, home)) == file.blob_id
    assert entry.cached_path(file, home).stat().st_size == file.size
    for split in local.splits:
        assert fetched.splits[split].to_dict() == local.splits[split].to_dict()
    assert fetched.meta.fingerprint == local.meta.fingerprint  # the same files
    assert fetched.meta.release == entry.label and local.meta.release is None
    assert fetched.meta.source == f"cosmic ({file.path})"
    requests_made = len(server.ranges)
    data.import_source("cosmic", family, family, home)  # verified in the cache: nothing fetched again
    assert len(server.ranges) == requests_made


def test_cosmic_through_the_command_line_names_the_release(shared_data, server, home, capsys):
    entry = releases.named_source("cosmic", "meld")
    server.serve(entry, entry.files[0], (shared_data / "cosmic" / "meld.pkl").read_bytes())
    argv = ["data", "--dataset", "meld", "--source", "cosmic", "--text-encoder", "none"]
    assert cli_main([*argv, "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "cosmic release, github.com/declare-lab/conv-emotion@6128ca20e9c7" in out
    assert data.load("meld", home).meta.release == entry.label  # remembered as the current import


@pytest.mark.parametrize("family, folder", [("iemocap", "IEMOCAP"), ("meld", "MELD")])
def test_multiemo_downloads_its_four_files_and_imports_the_folder(
    tmp_path, server, monkeypatch, home, family, folder
):
    written = write_multiemo_folder(tmp_path / folder, family)
    contents = {f"Data/{folder}/{p.name}": p.read_bytes() for p in written.folder.iterdir()}
    entry = written_release(server, "multiemo", family, contents)
    monkeypatch.setattr(releases, "SOURCES", with_entry(entry))
    dataset = data.load(family, home, "multiemo", data.ImportOptions(text_encoder=None))
    assert dataset.meta.source_kind == "multiemo-folder"
    assert dataset.meta.release == entry.label
    assert dataset.meta.source == f"multiemo (Data/{folder})"
    assert set(dataset.meta.feature_dims) == {"text", "audio", "visual"}
    assert dataset.meta.lineage["text"].startswith("MultiEMO release: EmoBERTa")
    assert list(dataset.meta.test_split_exposure) == ["text"]  # EmoBERTa may have seen the test split
    assert sorted(dataset.splits["test"]["dialogue_id"]) == sorted(map(str, written.test))
    for file in entry.files:
        assert git_blob_id(entry.cached_path(file, home)) == file.blob_id


PICKLED_SOURCES = [
    (e.name, e.family) for e in releases.SOURCES if e.name in ("mmgcn", "dialoguegcn", "bclstm")
]


@pytest.mark.parametrize("name, family", PICKLED_SOURCES, ids=lambda value: value)
def test_each_feature_pickle_release_downloads_and_imports_with_its_own_lineage(
    tmp_path, server, monkeypatch, home, name, family
):
    """Each named feature pickle in its release's exact layout (conv-emotion's IEMOCAP pickles unpack as
    MMGCN's nine items, bc-LSTM's MELD one has no visual), fetched and imported; the meta names the
    release and the lineage that release states, whichever loader's layout the file shares."""
    from tests.data_fixtures import write_feature_pickle

    (file,) = releases.named_source(name, family).files
    content = write_feature_pickle(tmp_path / "features.pkl", f"{name}-{family}").read_bytes()
    entry = written_release(server, name, family, {file.path: content})
    monkeypatch.setattr(releases, "SOURCES", with_entry(entry))
    dataset = data.load(family, home, name, data.ImportOptions(text_encoder=None))
    assert dataset.meta.source_kind.startswith("feature-pickle:") and dataset.meta.release == entry.label
    assert dataset.meta.source == f"{name} ({file.path})"
    assert set(dataset.meta.feature_dims) == set(entry.lineage)  # what the entry says the file holds
    for modality, lineage in dataset.meta.lineage.items():  # the release's, then the standardisation
        assert lineage.startswith(entry.lineage[modality] + ";")
    assert sorted(dataset.splits["test"]["dialogue_id"]) == ["d09", "d10", "d11"]


def test_a_corrupted_byte_is_refused_and_the_download_deleted(tmp_path, server, monkeypatch, home, capsys):
    content = np.arange(50_000, dtype=np.int64).tobytes()
    entry = releases.named_source("cosmic", "iemocap")
    entry = written_release(server, "cosmic", "iemocap", {entry.files[0].path: content})
    monkeypatch.setattr(releases, "SOURCES", with_entry(entry))
    server.serve(entry, entry.files[0], content[:100] + bytes([content[100] ^ 1]) + content[101:])
    argv = ["data", "--dataset", "iemocap", "--source", "cosmic", "--home", str(home.root)]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "git blob id" in err and entry.files[0].blob_id in err
    target = entry.cached_path(entry.files[0], home)
    assert not target.exists() and not target.with_name(target.name + PARTIAL_SUFFIX).exists()
    with pytest.raises(BenchmarkError, match="has not been imported"):
        data.load("iemocap", home)


def test_a_broken_off_download_resumes_where_it_stopped(tmp_path, server):
    content = np.random.default_rng(0).bytes(300_000)
    server.files["/f.bin"] = content
    server.cut_after["/f.bin"] = 120_000
    target = tmp_path / "cache" / "f.bin"
    with pytest.raises(BenchmarkError, match="broke off after [0-9,]+ bytes.*run the same command again"):
        fetch(f"{server.url}/f.bin", target, blob_id(content))
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    kept = partial.stat().st_size  # whole reads before the cut are kept, the one in flight is not
    assert 0 < kept <= 120_000 and not target.exists()
    fetch(f"{server.url}/f.bin", target, blob_id(content))
    assert server.ranges == [None, f"bytes={kept}-"]
    assert target.read_bytes() == content and not partial.exists()


def test_a_whole_partial_file_is_verified_without_fetching_more(tmp_path, server):
    content = b"complete already"
    server.files["/f.bin"] = content
    target = tmp_path / "f.bin"
    target.with_name(target.name + PARTIAL_SUFFIX).write_bytes(content)
    fetch(f"{server.url}/f.bin", target, blob_id(content))
    assert server.ranges == [f"bytes={len(content)}-"] and target.read_bytes() == content


def test_an_unreachable_host_says_so_in_one_line_at_once(home, monkeypatch, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(releases.BASE_URL_ENV, f"http://127.0.0.1:{port}")
    started = time.monotonic()
    argv = ["data", "--dataset", "iemocap", "--source", "multiemo", "--home", str(home.root)]
    assert cli_main(argv) == 2
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    entry = releases.named_source("multiemo", "iemocap")
    assert err.count("\n") == 1 and f"cannot reach 127.0.0.1:{port}" in err
    for file in entry.files:  # every URL to fetch by hand, and the source that imports them then
        assert entry.url(file, f"http://127.0.0.1:{port}") in err
    assert "--source FOLDER (holding Speakers.pkl, TextFeatures.pkl" in err


def test_a_release_without_the_dataset_names_those_that_have_it(home):
    with pytest.raises(BenchmarkError, match="the dialoguegcn release has no MELD files: .*mmgcn, multiemo"):
        data.import_source("dialoguegcn", "meld", "meld", home)


def test_the_table_lists_every_source_with_lineage_commit_and_an_honest_size(home, capsys):
    assert cli_main(["data", "--list-sources", "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    for entry in releases.SOURCES:
        assert f"github.com/{entry.repository}@{entry.commit}" in out
    assert "512,358 bytes" in out and "unknown until downloaded" in out
    assert "EmoBERTa" in out
    assert "size" in out and cli_main(["list"]) == 0
    assert "named sources" in capsys.readouterr().out


def test_data_without_a_dataset_asks_for_one_in_one_line(home, capsys):
    assert cli_main(["data", "--source", "mmgcn", "--home", str(home.root)]) == 2
    assert capsys.readouterr().err == (
        "error: data needs --dataset NAME (iemocap or meld to import; see `python -m benchmark list`)\n"
    )
