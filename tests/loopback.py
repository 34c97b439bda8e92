"""A loopback HTTP server for the named-release tests (nothing reaches the network): it serves bytes the
test gives it on 127.0.0.1, honours Range requests, can drop a connection part-way, records every Range
header it received, and shuts itself down after SERVER_LIFETIME_S whatever the test does."""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmark.data import releases

SERVER_LIFETIME_S = 120


@dataclasses.dataclass
class LoopbackServer:
    """`files`: URL path -> bytes. `cut_after[path]`: bytes into the next response to `path` after which
    the connection is dropped (once). `ranges`: the Range header of every request (None without one)."""

    url: str = ""
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    cut_after: dict[str, int] = dataclasses.field(default_factory=dict)
    ranges: list[str | None] = dataclasses.field(default_factory=list)

    def serve(self, entry: releases.NamedSource, file: releases.ReleaseFile, content: bytes) -> None:
        """Serve `content` where the release's file lies under any base URL."""
        self.files[entry.url(file, "")] = content


def blob_id(content: bytes) -> str:
    """The git blob id of `content`, written out here independently of benchmark/data/download.py."""
    return hashlib.sha1(f"blob {len(content)}\0".encode() + content).hexdigest()


def written_release(
    server: LoopbackServer, name: str, family: str, contents: dict[str, bytes]
) -> releases.NamedSource:
    """The table's entry `name` for `family` with the test's files (repository path -> bytes) and their
    blob ids in place of the pinned ones, served by `server`."""
    entry = releases.named_source(name, family)
    files = tuple(releases.ReleaseFile(file.path, blob_id(contents[file.path])) for file in entry.files)
    replaced = dataclasses.replace(entry, files=files)
    for file in files:
        server.serve(replaced, file, contents[file.path])
    return replaced


def with_entry(entry: releases.NamedSource) -> tuple[releases.NamedSource, ...]:
    """SOURCES with `entry` in place of the table's entry of the same name and dataset."""
    others = tuple(e for e in releases.SOURCES if (e.name, e.family) != (entry.name, entry.family))
    return (*others, entry)


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    state = LoopbackServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            body = state.files.get(self.path)
            range_header = self.headers.get("Range")
            state.ranges.append(range_header)
            if body is None:
                self.send_error(404)
                return
            start = int(range_header.removeprefix("bytes=").rstrip("-")) if range_header else 0
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            cut = state.cut_after.pop(self.path, None)
            self.wfile.write(body[start : start + cut] if cut is not None else body[start:])
            if cut is not None:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # shutdown() waits for the serving loop's next poll: at the default half second, most of a test's time
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    stopper = threading.Timer(SERVER_LIFETIME_S, httpd.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield state
    finally:
        stopper.cancel()
        httpd.shutdown()
        httpd.server_close()
