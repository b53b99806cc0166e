"""One writer per output folder: an operating-system lock on a file in the folder.

Two tankersim processes writing into one folder interleave their parts, stamps and manifests
into a folder that matches neither run. Every command that writes into a folder (and every
API function given ``out=``) first takes an exclusive lock on ``FOLDER/.tankersim.lock``
(``flock`` on POSIX, ``msvcrt.locking`` on Windows); a second writer is refused at once, in
one line naming the folder and the process that holds it. The operating system releases the
lock when the holder's file is closed: on exit, and on a crash or a kill, so a stale lock
cannot outlive its process. Readers of a run folder (``report``) take the lock shared, so they
are refused while a writer is at work, and do not stop one another.

Within one process the lock is re-entrant: the command line holds it for the whole command and
the API functions it calls take it again at no cost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.core.errors import FolderBusyError

LOCK_NAME = ".tankersim.lock"
"""The lock file in a locked folder (it stays; only its lock comes and goes)."""

_HELD: dict[Path, tuple[int, bool, int]] = {}
"""Folders this process holds: resolved path -> (file descriptor, exclusive, depth)."""


def _try_lock(fd: int, exclusive: bool) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def holder(folder: Path) -> str:
    """Who holds ``folder``'s lock, as the holder wrote it ("process 123 on host, ...")."""
    try:
        doc = json.loads((Path(folder) / LOCK_NAME).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        doc = {}
    if not isinstance(doc, dict) or "pid" not in doc:
        return "another process (reading it, or writing there)"
    what = f"process {doc.get('pid')} on {doc.get('host', '?')}"
    if doc.get("command"):
        what += f" ({doc['command']})"
    if doc.get("started_utc"):
        what += f", since {doc['started_utc']}"
    return what


def acquire(folder: str | Path, command: str = "", *, exclusive: bool = True) -> None:
    """Take ``folder``'s lock for the rest of this process (released when it exits, however
    it exits), or once more if this process holds it already. Raises
    :class:`~sim.core.errors.FolderBusyError` when another process holds it (for a shared
    lock: holds it to write)."""
    key = Path(folder).resolve()
    if key in _HELD:
        fd, excl, depth = _HELD[key]
        _HELD[key] = (fd, excl, depth + 1)
        return
    path = key / LOCK_NAME
    if exclusive:
        key.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    else:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # never written by a tankersim that locks: nobody to wait for
            return
    if not _try_lock(fd, exclusive):
        os.close(fd)
        raise FolderBusyError(str(folder), holder(key), writing=exclusive)
    if exclusive:
        doc = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "started_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(doc).encode())
    _HELD[key] = (fd, exclusive, 1)


def release(folder: str | Path) -> None:
    """Give back one hold of ``folder``'s lock (the lock itself with the last one)."""
    key = Path(folder).resolve()
    if key not in _HELD:
        return
    fd, excl, depth = _HELD[key]
    if depth > 1:
        _HELD[key] = (fd, excl, depth - 1)
        return
    del _HELD[key]
    try:
        if excl:
            os.ftruncate(fd, 0)  # nobody holds it now
        _unlock(fd)
    finally:
        os.close(fd)


@contextmanager
def writing(folder: str | Path | None, command: str = "") -> Iterator[None]:
    """Hold ``folder``'s lock exclusively for the block (nothing when ``folder`` is None)."""
    if folder is None:
        yield
        return
    acquire(folder, command)
    try:
        yield
    finally:
        release(folder)


@contextmanager
def reading(folder: str | Path) -> Iterator[None]:
    """Hold ``folder``'s lock shared for the block: refused while a writer holds it."""
    acquire(folder, exclusive=False)
    try:
        yield
    finally:
        release(folder)
