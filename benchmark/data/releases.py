"""Named public sources: the MERC releases that carry IEMOCAP and MELD inside their git repositories, pinned
to a commit, fetched by name (`--source mmgcn`) and verified by each file's git blob id before anything
is unpickled. Adding a release is one entry in `SOURCES`.

The files come from `$SUMMER_BENCH_RELEASES_URL/OWNER/REPO/COMMIT/PATH` (GitHub's raw file host unless
that variable names another, e.g. a mirror) into the home's download cache, `<home>/results/cache/
downloads/OWNER+REPO/COMMIT/PATH`, and import from there through the same path as a local copy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchmark.data import multiemo_folder
from benchmark.data.download import Unreachable, fetch
from benchmark.data.pickles import UNSTATED_LINEAGE
from benchmark.errors import BenchmarkError
from benchmark.home import Home

BASE_URL_ENV = "SUMMER_BENCH_RELEASES_URL"
DEFAULT_BASE_URL = "https://raw.githubusercontent.com"

MMGCN = ("hujingwen6666/MMGCN", "85732d984f70c1c84dd47c81aa97f1271397b899")
MULTIEMO = ("TaoShi1998/MultiEMO", "e96458b870a338890aba4c0549381dec610a7f10")
CONV_EMOTION = ("declare-lab/conv-emotion", "6128ca20e9c736605cce7e99d5d95db0356c35f5")


@dataclass(frozen=True)
class ReleaseFile:
    path: str  # inside the repository
    blob_id: str  # what the pinned commit's tree lists for it
    size: int | None = None  # bytes; None where no copy we could read holds the blob


@dataclass(frozen=True)
class NamedSource:
    """One release's files of one dataset."""

    name: str  # what --source takes
    family: str
    repository: str  # OWNER/NAME on GitHub
    commit: str
    files: tuple[ReleaseFile, ...]
    holds: str
    lineage: Mapping[str, str]  # modality -> as the release states it; empty for transcripts

    @property
    def label(self) -> str:
        """The release as reports name it: its name, repository and commit."""
        return f"{self.name} release, github.com/{self.repository}@{self.commit[:12]}"

    @property
    def repository_path(self) -> str:
        """The file, or the folder of the files, inside the repository."""
        return self.files[0].path if len(self.files) == 1 else str(Path(self.files[0].path).parent)

    def url(self, file: ReleaseFile, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.repository}/{self.commit}/{file.path}"

    def cached_path(self, file: ReleaseFile, home: Home) -> Path:
        return home.download_cache / self.repository.replace("/", "+") / self.commit / file.path

    def import_path(self, home: Home) -> Path:
        """What the import reads: the file, or the folder that holds a set of files."""
        paths = [self.cached_path(file, home) for file in self.files]
        return paths[0] if len(paths) == 1 else paths[0].parent

    def size(self, home: Home) -> str:
        """The total size as the blobs state it, as downloaded, or said to be unknown (never made up)."""
        if all(file.size is not None for file in self.files):
            return f"{sum(file.size for file in self.files):,} bytes"
        paths = [self.cached_path(file, home) for file in self.files]
        if all(path.is_file() for path in paths):
            return f"{sum(path.stat().st_size for path in paths):,} bytes (downloaded)"
        return "unknown until downloaded"


def _multiemo(family: str, folder: str, blob_ids: tuple[str, str, str, str], holds: str) -> NamedSource:
    files = tuple(
        ReleaseFile(f"Data/{folder}/{name}", blob)
        for name, blob in zip(multiemo_folder.FILES, blob_ids, strict=True)
    )
    return NamedSource("multiemo", family, *MULTIEMO, files, holds, multiemo_folder.LINEAGE)


# Lineage as each release states it. MMGCN's repository names its inputs only in train.py (`feat2dim`,
# the dims its model is built for); the paper's description of the extractors is not confirmed here.
_MMGCN = "MMGCN release, as its train.py names it (no extractor described): "
_MMGCN_IEMOCAP = {
    "text": _MMGCN + "textCNN, 100 dims",
    "audio": _MMGCN + "IS10, 1582 dims (openSMILE's INTERSPEECH 2010 paralinguistic set)",
    "visual": _MMGCN + "denseface, 342 dims",
}
_MMGCN_MELD = {
    "text": _MMGCN + "MELD_text, 600 dims",
    "audio": _MMGCN + "MELD_audio, 300 dims",
    "visual": _MMGCN + "denseface, 342 dims",
}
# conv-emotion states no extractor for these pickles; its train_IEMOCAP.py scripts (bc-LSTM, DialogueGCN)
# read the text features only, at 100 dims (D_m); the other modalities' dims are unconfirmed.
_CONV_EMOTION = {
    "text": UNSTATED_LINEAGE + " (its train_IEMOCAP.py reads text at 100 dims)",
    "audio": UNSTATED_LINEAGE,
    "visual": UNSTATED_LINEAGE,
}

SOURCES: tuple[NamedSource, ...] = (
    NamedSource(
        "mmgcn",
        "iemocap",
        *MMGCN,
        (ReleaseFile("IEMOCAP_features/IEMOCAP_features.pkl", "889532cad757903e78b3f87445306592eb8e2070"),),
        "text, audio, visual features; no validation split (carved from train)",
        _MMGCN_IEMOCAP,
    ),
    NamedSource(
        "mmgcn",
        "meld",
        *MMGCN,
        (ReleaseFile("MELD_features/MELD_features_raw1.pkl", "55873a76e17fa3e054bcc5afc534cd1dde2eb2d8"),),
        "text, audio, visual features; validation: the last item if it lists dev ids, else carved",
        _MMGCN_MELD,
    ),
    _multiemo(
        "iemocap",
        "IEMOCAP",
        (
            "a21501009647eb0774a638ccd123aba6668768cc",
            "dae1ed5cc0241c3f01308107a7ac94d749077f9b",
            "3940cd53ec7478925284fe7644234b33bab41ea9",
            "129a9c9428088d62fc625e8538a96ce43e2acd3c",
        ),
        "text, audio, visual features in four files; no validation split (carved from train)",
    ),
    _multiemo(
        "meld",
        "MELD",
        (
            "55873a76e17fa3e054bcc5afc534cd1dde2eb2d8",
            "a0763059fcc8be7ba8236ef38236b099e5d072a1",
            "d00862d3f7cf2168898c61f8df29ce352ad97256",
            "278dab61854faf0376ea1c45b95c0193c70163c6",
        ),
        "text, audio, visual features in four files; validation: as mmgcn's MELD file (the same blob)",
    ),
    NamedSource(
        "dialoguegcn",
        "iemocap",
        *CONV_EMOTION,
        (
            ReleaseFile(
                "DialogueGCN/IEMOCAP_features/IEMOCAP_features.pkl",
                "48a47d73b4b10c805ac7819fd9bcc61444119c65",
            ),
        ),
        "text, audio, visual features (also COGMEN's and CORECT's); no validation split (carved)",
        _CONV_EMOTION,
    ),
    NamedSource(
        "bclstm",
        "iemocap",
        *CONV_EMOTION,
        (
            ReleaseFile(
                "bc-LSTM-pytorch/IEMOCAP_features/IEMOCAP_features_raw.pkl",
                "a21501009647eb0774a638ccd123aba6668768cc",
            ),
        ),
        "text, audio, visual features (the same file as MultiEMO's IEMOCAP Speakers.pkl); no validation "
        "split (carved from train)",
        _CONV_EMOTION,
    ),
    NamedSource(
        "bclstm",
        "meld",
        *CONV_EMOTION,
        (
            ReleaseFile(
                "bc-LSTM-pytorch/MELD_features/MELD_features_raw.pkl",
                "0b2c026fee4f49f453f168c7f866a199fc51d84f",
            ),
        ),
        "text and audio features (no visual); no validation split (carved from train)",
        {m: UNSTATED_LINEAGE for m in ("text", "audio")},
    ),
    NamedSource(
        "cosmic",
        "iemocap",
        *CONV_EMOTION,
        (
            ReleaseFile(
                "COSMIC/feature-extraction/iemocap/iemocap.pkl",
                "eaa9a71a4c94fef7bdcee56820d87283a2d14cba",
                512_358,
            ),
        ),
        "transcripts, speakers, labels, official splits; text features come from --text-encoder",
        {},
    ),
    NamedSource(
        "cosmic",
        "meld",
        *CONV_EMOTION,
        (
            ReleaseFile(
                "COSMIC/feature-extraction/meld/meld.pkl", "6575f1a0eb83be0b7dda00b323a391def63e7cc9", 999_031
            ),
        ),
        "transcripts, speakers, labels, official splits; text features come from --text-encoder",
        {},
    ),
)


def is_named(source: str) -> bool:
    return any(entry.name == source for entry in SOURCES)


def named_source(name: str, family: str) -> NamedSource:
    for entry in SOURCES:
        if entry.name == name and entry.family == family:
            return entry
    has = [entry.name for entry in SOURCES if entry.family == family]
    raise BenchmarkError(
        f"the {name} release has no {family.upper()} files: named sources of {family} are {', '.join(has)} "
        "(`python -m benchmark data --list-sources`)"
    )


def base_url() -> str:
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def download(entry: NamedSource, home: Home) -> Path:
    """Every file of `entry` in the download cache, each verified by its blob id; the path to import."""
    base = base_url()
    try:
        for file in entry.files:
            fetch(entry.url(file, base), entry.cached_path(file, home), file.blob_id)
    except Unreachable as err:
        urls = " ".join(entry.url(file, base) for file in entry.files)
        hint = (
            f"PATH/{Path(entry.files[0].path).name}"
            if len(entry.files) == 1
            else f"FOLDER (holding {', '.join(Path(f.path).name for f in entry.files)})"
        )
        raise BenchmarkError(
            f"cannot reach {urlsplit(base).netloc or base} ({err}): fetch {urls} by hand, then import with "
            f"--source {hint}"
        ) from None
    return entry.import_path(home)
