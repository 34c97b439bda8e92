"""Files written whole or not at all, and one writer at a time, for every layer that writes: data cache,
teacher cache, run store, gate, reports."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psutil


def _user_mode() -> int:
    """0o666 less the process's umask: what open() would have given a new file (mkstemp gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write` fills a hidden temporary file beside `path`, which then replaces `path` in one rename:
    a reader sees the old file or the new one, and an interrupted write leaves neither half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:  # named by the folder it could not write into, not by a temporary name
        raise OSError(err.errno, err.strerror, str(path.parent)) from None
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, _user_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, content: dict, *, indent: int = 1, sort_keys: bool = False) -> None:
    text = json.dumps(content, indent=indent, sort_keys=sort_keys) + "\n"
    atomic_write(path, lambda temporary: temporary.write_text(text))


# What an OSError from reading or writing the home means, and the fix (`describe_os_error`).
OS_ERROR_FIXES = {
    errno.ENOSPC: "free some space, or choose a folder on another disk with --home; what was stored before is intact",
    errno.EISDIR: "a folder stands where a file belongs: move that folder away (or pass a file, not a folder)",
    errno.ENOTDIR: "a file stands where a folder belongs on this path: move that file away",
    errno.EEXIST: "a file stands where a folder belongs: move that file away",
    errno.EACCES: "you may not read or write it: give yourself access (chmod u+rwX), or choose a folder of yours "
    "with --home",
    errno.EROFS: "it is on a read-only file system: choose a home on a writable disk with --home",
}
OS_ERROR_FIXES[errno.EPERM] = OS_ERROR_FIXES[errno.EACCES]


def describe_os_error(err: OSError) -> str:
    """One line: what the system said, the path it concerns (the destination of a rename, never its
    temporary source) and what it means for the user, with the fix."""
    path = err.filename2 or err.filename
    where = f": {path}" if path else ""
    fix = OS_ERROR_FIXES.get(err.errno, "choose a writable folder with --home")
    return f"{err.strerror or err}{where}: {fix}"


@contextmanager
def exclusive(path: Path):
    """Hold the lock file beside `path`: a second process on the same key waits here, and says so on
    stderr (`waiting_line`). The holder writes its host and pid into the lock file, and removes the file
    before it lets go, so none is left behind, finished or failed; a waiter that then wins the lock of a
    removed file sees that and takes the current one instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(str(path) + ".lock")
    while True:
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, _user_mode())
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(waiting_line(lock, os.pread(handle, 256, 0).decode(errors="replace")), file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = os.stat(lock).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(handle)
    os.ftruncate(handle, 0)
    os.write(handle, f"{socket.gethostname()} {os.getpid()}\n".encode())
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(handle)


def waiting_line(lock: Path, holder: str) -> str:
    """What a process blocked on `lock` says: that it waits, for which process (`holder`: the lock file's
    "HOST PID"), and how to stop waiting. [why] A holder suspended with Ctrl-Z keeps its lock, so the
    waiter would otherwise sit after its plan line in silence."""
    host, _, pid = holder.strip().partition(" ")
    stop = "To stop waiting press Ctrl-C"
    if not pid.isdigit():  # the holder has just taken the lock and not yet written its name
        return f"waiting: another process holds {lock}; this goes on when it is done. {stop}"
    here = host == socket.gethostname()
    who = (
        f"process {pid}"
        + ("" if here else f" on {host}")
        + (", suspended," if here and _stopped(pid) else "")
    )
    return (
        f"waiting: {who} holds {lock} and works on the same thing; this goes on when it is done. {stop}; "
        f"if that process is stuck or suspended, resume it (`fg` in its terminal, or `kill -CONT {pid}`) or "
        f"end it (`kill {pid}`; `kill -9 {pid}` if suspended)"
    )


def _stopped(pid: str) -> bool:
    try:
        return psutil.Process(int(pid)).status() == psutil.STATUS_STOPPED
    except psutil.Error:
        return False


INCOMING_PREFIX = ".incoming-"  # the name of a folder being filled, before it is renamed into place


def owned_folder(parent: Path, prefix: str) -> Path:
    """A new temporary folder in `parent` whose name says which process on which host made it, so that
    one left behind by a killed process can be told from one still being filled (`left_by_the_dead`)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=parent, prefix=f"{prefix}{socket.gethostname()}-{os.getpid()}-"))


def left_by_the_dead(folder: Path, prefix: str) -> bool:
    """Whether an `owned_folder` was made on this host by a process that no longer runs."""
    owner, _, _ = folder.name.removeprefix(prefix).rpartition("-")  # HOST-PID-<mkdtemp's random part>
    host, _, pid = owner.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_stale_locks(root: Path) -> list[Path]:
    """Remove the lock files under `root` that no process holds (left by `kill -9`): each is taken as
    `exclusive` takes it, so a process waiting on one sees it removed and takes the current one."""
    removed = []
    for lock in sorted(root.rglob("*.lock")) if root.exists() else []:
        try:
            handle = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(lock).st_ino == os.fstat(handle).st_ino:
                lock.unlink()
                removed.append(lock)
        except OSError:  # held by a running process, or already gone
            pass
        finally:
            os.close(handle)
    return removed
