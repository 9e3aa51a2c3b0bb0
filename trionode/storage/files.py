"""The few file-system moves the storage layer makes durable (blocking; never trio).

A new or renamed directory entry is durable only once its directory is fsynced, so every
helper that creates, renames or removes a name says which directory to sync.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["datasync", "ensure_dir", "fsync_dir", "write_all", "write_atomic"]

# fdatasync skips metadata that is not needed to read the data back (mtime); the file size
# is such metadata, so appends stay durable. Not every platform has it.
datasync = getattr(os, "fdatasync", os.fsync)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path) -> None:
    """mkdir -p, making each directory it creates durable in its parent."""
    if path.is_dir():
        return
    ensure_dir(path.parent)
    path.mkdir()
    fsync_dir(path.parent)


def write_all(fd: int, buf: bytes) -> None:
    """write() the whole buffer: one call unless the kernel takes it in parts."""
    view = memoryview(buf)
    while view:
        view = view[os.write(fd, view) :]


def write_atomic(path: Path, pieces: Iterable[bytes]) -> None:
    """Replace `path` with the concatenated pieces: all of them or, after a crash, the old file.

    The bytes reach the disk before the rename does, and the rename before we return.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for piece in pieces:
                write_all(fd, piece)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the first error is the one to report
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
