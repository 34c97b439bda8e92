"""Every `python -m benchmark data` example in README.md, docs/data.md and docs/real_data.md runs, word for
word apart from its placeholder path, which is replaced by a file of that kind the test writes (named
releases are fetched from the loopback server with the test's files in place of the pinned ones). A new
example whose source this file cannot make fails here until a maker is added."""

from __future__ import annotations

import pickle
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets
import pytest

from benchmark import data
from benchmark.commands.cli import main as cli_main
from benchmark.data import releases
from benchmark.home import PROJECT_ROOT, Home
from tests.data_fixtures import write_feature_pickle
from tests.loopback import LoopbackServer, with_entry, written_release
from tests.multiemo_fixtures import write_multiemo_folder
from tests.test_data_tables import write_abstracttts_parquet, write_meld_release

DOCS = ("README.md", "docs/data.md", "docs/real_data.md")
# examples that need the Hugging Face hub, which no test reaches; the same layout's parquet files run
NEEDS_THE_HUB = {"AbstractTTS/IEMOCAP@9f1696a135a65ce997d898d4121c952269a822ca"}


def documented_data_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `data`) of each `benchmark data` line in the docs' fenced bash blocks."""
    found = []
    for doc in DOCS:
        text = (PROJECT_ROOT / doc).read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line)
                if words[1:4] == ["-m", "benchmark", "data"]:
                    found.append((doc, words[4:]))
    return found


@dataclass(frozen=True)
class Where:
    """What a maker needs: a folder to write in, the dataset, the loopback server, the test's patcher."""

    tmp_path: Path
    family: str
    home: Home
    server: LoopbackServer
    monkeypatch: pytest.MonkeyPatch


def _transcripts(where: Where) -> str:
    """COSMIC's transcript layout: speakers, labels, sentences, train, test, valid ids."""
    ids = {"train": ["t0", "t1"], "test": ["s0"], "valid": ["v0"]}
    dialogues = [d for split in ids.values() for d in split]
    content = (
        {d: ["M", "F", "M"] for d in dialogues},
        {d: [0, 2, 5] for d in dialogues},
        {d: ["Hi there.", "Go away.", "Fine then."] for d in dialogues},
        ids["train"],
        ids["test"],
        ids["valid"],
    )
    path = where.tmp_path / "iemocap.pkl"
    path.write_bytes(pickle.dumps(content, protocol=4))
    return str(path)


def _meld_release(where: Where) -> str:
    turns = [("Hi.", "Joey", "joy"), ("What?", "Ross", "surprise")]
    folder = where.tmp_path / "MELD.Raw"
    write_meld_release(folder, {"train": [turns, turns], "validation": [turns], "test": [turns]})
    return str(folder)


def _abstracttts_parquet(where: Where) -> str:
    path = where.tmp_path / "iemocap" / "data" / "train-00000-of-00003.parquet"
    write_abstracttts_parquet(path)
    return str(path)


def _user_table(where: Where) -> str:
    rows = [  # conversation, index, who, utterance, emotion, fold
        ("c1", 0, "ann", "hello", "neutral", "train"), ("c1", 1, "bo", "grr", "angry", "train"),
        ("c2", 0, "bo", "yay", "happy", "train"), ("c3", 0, "ann", "hm", "sad", "dev"),
        ("c4", 0, "cy", "oh", "excited", "test"),
    ]  # fmt: skip
    names = ("conversation", "index", "who", "utterance", "emotion", "fold")
    path = where.tmp_path / "my_table.csv"
    datasets.Dataset.from_dict({n: [r[i] for r in rows] for i, n in enumerate(names)}).to_csv(str(path))
    return str(path)


def _canonical_folder(where: Where) -> str:
    pickled = write_feature_pickle(where.tmp_path / "features.pkl", "mmgcn-iemocap")
    canonical = data.import_source(str(pickled), where.family, where.family, where.home)
    canonical.splits.save_to_disk(str(where.tmp_path / "iemocap_canonical"))
    return str(where.tmp_path / "iemocap_canonical")


def _multiemo_folder(where: Where) -> str:
    return str(write_multiemo_folder(where.tmp_path / "IEMOCAP", where.family).folder)


def _mmgcn_pickle(where: Where) -> str:
    return str(write_feature_pickle(where.tmp_path / "MELD_features_raw1.pkl", "mmgcn-meld"))


def _named(name: str) -> Callable[[Where], str]:
    """The release `name`, served with files the test writes (their blob ids replace the pinned ones)."""

    def make(where: Where) -> str:
        entry = releases.named_source(name, where.family)
        if name == "multiemo":
            folder = write_multiemo_folder(where.tmp_path / "multiemo", where.family).folder
            contents = {file.path: (folder / Path(file.path).name).read_bytes() for file in entry.files}
        elif name == "cosmic":
            contents = {entry.files[0].path: Path(_transcripts(where)).read_bytes()}
        else:
            pickled = write_feature_pickle(where.tmp_path / "f.pkl", f"{name}-{where.family}")
            contents = {entry.files[0].path: pickled.read_bytes()}
        served = written_release(where.server, name, where.family, contents)
        where.monkeypatch.setattr(releases, "SOURCES", with_entry(served))
        return name

    return make


SOURCE_MAKERS: dict[str, Callable[[Where], str]] = {
    "/path/to/iemocap.pkl": _transcripts,
    "~/data/cosmic/iemocap.pkl": _transcripts,
    "~/data/MELD_features_raw1.pkl": _mmgcn_pickle,
    "~/data/MELD.Raw": _meld_release,
    "~/data/iemocap/data/train-00000-of-00003.parquet": _abstracttts_parquet,
    "my_table.csv": _user_table,
    "~/exports/iemocap_canonical": _canonical_folder,
    "~/MultiEMO/Data/IEMOCAP": _multiemo_folder,
    **{name: _named(name) for name in sorted({entry.name for entry in releases.SOURCES})},
}


@pytest.mark.parametrize(
    "doc, argv",
    documented_data_commands(),
    ids=lambda value: value if isinstance(value, str) else " ".join(value),
)
def test_each_documented_data_example_runs(tmp_path, home, server, monkeypatch, capsys, doc, argv):
    if "--home" in argv:  # an example's own home (`--home ~/ft-home`) becomes the test's: given once
        del argv[argv.index("--home") : argv.index("--home") + 2]
    if "--source" not in argv:
        assert cli_main(["data", *argv, "--home", str(home.root)]) == 0
        return
    at = argv.index("--source") + 1
    if argv[at] in NEEDS_THE_HUB:
        pytest.skip(f"{argv[at]} needs the Hugging Face hub")
    assert argv[at] in SOURCE_MAKERS, (
        f"{doc}: no test makes the source of `data {' '.join(argv)}`: add a maker"
    )
    family = argv[argv.index("--dataset") + 1]
    argv[at] = SOURCE_MAKERS[argv[at]](Where(tmp_path, family, home, server, monkeypatch))
    assert cli_main(["data", *argv, "--home", str(home.root)]) == 0, capsys.readouterr().err
    assert "fingerprint" in capsys.readouterr().out  # the summary of an import was printed
    assert data.load(family, home).meta.source_kind != "synthetic"


def test_the_docs_table_of_named_releases_matches_the_code():
    """docs/data.md repeats SOURCES for readers: each release's name, datasets, repository and commit."""
    text = (PROJECT_ROOT / "docs" / "data.md").read_text()
    # the table's rows: a release name, then cells naming REPOSITORY @ COMMIT
    rows = {
        match[1]: match[0] for match in re.finditer(r"^\| `([a-z]+)` \|.* @ .*$", text, flags=re.MULTILINE)
    }
    for entry in releases.SOURCES:
        row = rows[entry.name]
        assert entry.family in row and f"{entry.repository} @ {entry.commit[:8]}" in row, entry.name
        for file in entry.files:
            assert Path(file.path).parent.as_posix().split("/")[0] in row, file.path
    assert set(rows) == {entry.name for entry in releases.SOURCES}
