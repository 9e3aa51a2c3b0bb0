"""Snapshot files (blocking I/O; never trio).

<data_dir>/member/snap/<term>-<index>.snap, both 16 lower-case hex digits, holds exactly
one SNAPSHOT record (records.py): header, u64 index, u64 term, data. A file is written
whole under a temporary name, fsynced, renamed and its directory fsynced, so a crash leaves
either the old set of files or the new one; a leftover .tmp is removed on open. Every file
is checked against its checksum and its name when loaded, newest (highest index) first.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..telemetry.logger import Logger
from .errors import WalCorruptError
from .files import ensure_dir, fsync_dir, write_atomic
from .records import HEADER_SIZE, SNAPSHOT_META_SIZE, RecordError, Snapshot, decode_snapshot, snapshot_prefix

__all__ = ["SnapshotDir", "snapshot_name"]

_NAME = re.compile(r"([0-9a-f]{16})-([0-9a-f]{16})\.snap")


def snapshot_name(term: int, index: int) -> str:
    return f"{term:016x}-{index:016x}.snap"


class SnapshotDir:
    def __init__(self, directory: Path, log: Logger) -> None:
        self._dir = directory
        self._log = log
        ensure_dir(directory)
        for tmp in directory.glob("*.snap.tmp"):
            log.warning("snapshot_tmp_removed", path=str(tmp))
            tmp.unlink()

    def files(self) -> list[tuple[int, Path]]:
        """(index, path) of every snapshot file, newest first."""
        found = []
        for path in self._dir.iterdir():
            match = _NAME.fullmatch(path.name)
            if match is not None:
                found.append((int(match[2], 16), int(match[1], 16), path))
        found.sort(reverse=True)
        return [(index, path) for index, _term, path in found]

    def load(self) -> tuple[Snapshot | None, list[tuple[int, WalCorruptError]]]:
        """The newest valid snapshot, and (index, error) for each newer file that failed its checks."""
        corrupt = []
        for index, path in self.files():
            try:
                return self._read(path), corrupt
            except WalCorruptError as exc:
                corrupt.append((index, exc))
        return None, corrupt

    def save(self, snap: Snapshot) -> Path:
        path = self._dir / snapshot_name(snap.term, snap.index)
        write_atomic(path, (snapshot_prefix(snap), snap.data))
        return path

    def purge(self, keep: int) -> list[Path]:
        """Delete all but the `keep` newest snapshot files."""
        removed = [path for _index, path in self.files()[keep:]]
        for path in removed:
            path.unlink()
        if removed:
            fsync_dir(self._dir)
        return removed

    @staticmethod
    def _read(path: Path) -> Snapshot:
        with path.open("rb") as f:
            # Read in three parts so that the (possibly large) data is not copied again.
            head, meta, data = f.read(HEADER_SIZE), f.read(SNAPSHOT_META_SIZE), f.read()
        try:
            snap = decode_snapshot(head, meta, data)
        except RecordError as exc:
            raise WalCorruptError(str(path), 0, str(exc)) from None
        if path.name != snapshot_name(snap.term, snap.index):
            raise WalCorruptError(str(path), 0, f"holds the snapshot of term {snap.term}, index {snap.index}")
        return snap
