"""Fetching one pinned file over HTTP(S): resumable, shown with a progress bar, and verified by its git blob
id before anyone reads it.

A git repository names every file version by its blob id, SHA-1 over `blob <size>\\0` followed by the
content, so a file fetched from a repository at a pinned commit can be checked against the id the commit
lists, with no checksum published beside it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import requests
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from benchmark.errors import BenchmarkError

# bytes per read: a connection that drops loses at most the read in flight, the rest stays for the resume
CHUNK = 1 << 16
# (connect, read) seconds: an unreachable host fails within the first, and nothing is retried, so an
# offline machine hears so at once instead of after minutes of back-off.
TIMEOUT = (5, 60)
PARTIAL_SUFFIX = ".part"


class Unreachable(Exception):
    """The host could not be reached at all (offline, no DNS, refused, timed out): the caller, who knows
    the whole file set, turns it into the one-line message naming every URL to fetch by hand."""


def git_blob_id(path: Path) -> str:
    """What `git hash-object PATH` prints: SHA-1 over `blob <size>\\0` and the file's bytes."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, target: Path, blob_id: str) -> Path:
    """`target`, downloaded from `url` unless a copy with the right blob id is already there. A partial
    download (`target` + .part) is resumed with an HTTP Range request; the finished file is renamed into
    place only after its blob id matches, and deleted when it does not."""
    if target.is_file():
        if git_blob_id(target) == blob_id:
            return target
        target.unlink()  # altered since it was verified: fetch it again rather than trust it
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    _download(url, partial)
    found = git_blob_id(partial)
    if found != blob_id:
        partial.unlink()
        raise BenchmarkError(
            f"{url}: the download's git blob id is {found}, not the pinned {blob_id}: it was deleted; run "
            "the command again, and if this repeats the host serves other content than the pinned commit"
        )
    os.replace(partial, target)
    return target


def _download(url: str, partial: Path) -> None:
    """Append the rest of `url` to `partial` (all of it when the server ignores the Range header)."""
    have = partial.stat().st_size if partial.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = requests.get(url, headers=headers, stream=True, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise Unreachable(f"{type(err).__name__}") from None
    with response:
        if response.status_code == 416:  # nothing left past what we hold: the blob id decides
            return
        if response.status_code not in (200, 206):
            raise BenchmarkError(
                f"{url}: the server answered HTTP {response.status_code} {response.reason}: check the "
                "release's address (or the base URL you set) and that the commit is still public"
            )
        if response.status_code == 200:
            have = 0  # the server sent the whole file: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as progress, partial.open("ab" if have else "wb") as file:
            task = progress.add_task(f"downloading {partial.name.removesuffix(PARTIAL_SUFFIX)}", total=total)
            progress.update(task, completed=have)
            try:
                for chunk in response.iter_content(CHUNK):
                    file.write(chunk)
                    progress.advance(task, len(chunk))
            except requests.RequestException as err:  # a dropped connection, a short body
                file.flush()
                raise BenchmarkError(
                    f"{url}: the download broke off after {partial.stat().st_size:,} bytes "
                    f"({type(err).__name__}): run the same command again to resume it"
                ) from None
