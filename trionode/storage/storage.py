"""Storage: the node's durable Raft state, a WAL plus snapshots (blocking; never trio).

The node calls its methods one at a time: from a worker thread (trio.to_thread.run_sync),
or, for an append that needs no fsync, from the trio thread itself (server/replica.py).

Recovery = the newest valid snapshot, then the log entries after its index (wal.py). When
the newest snapshot file fails its checks, an older valid one is used only if the log
still holds every entry from just after it up to the damaged snapshot's index; otherwise
open() raises the damaged file's WalCorruptError. (Compaction after the damaged snapshot
was saved has usually deleted those entries, so in practice this fallback covers a
snapshot damaged before its segments were dropped.)

save_snapshot: the snapshot file is made durable first, and only then are the log
segments it covers deleted, then all but the two newest snapshot files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..telemetry.logger import Logger
from .errors import WalCorruptError
from .records import Entry, HardState, Snapshot
from .snapshot import SnapshotDir
from .wal import SEGMENT_BYTES, Wal

__all__ = ["Recovered", "Storage"]

_KEEP_SNAPSHOTS = 2


@dataclass(frozen=True, slots=True)
class Recovered:
    snapshot: Snapshot | None
    hard_state: HardState
    entries: list[Entry]  # contiguous, all with index > snapshot.index


class Storage:
    def __init__(self, wal: Wal, snapshots: SnapshotDir) -> None:
        self._wal = wal
        self._snapshots = snapshots

    @classmethod
    def open(cls, data_dir: Path, log: Logger, *, segment_bytes: int = SEGMENT_BYTES) -> tuple[Storage, Recovered]:
        """Recover the state under <data_dir>/member/ and open the log for appends."""
        member = data_dir / "member"
        snapshots = SnapshotDir(member / "snap", log)
        snap, corrupt = snapshots.load()
        snap_index = snap.index if snap is not None else 0
        try:
            wal, hard_state, entries = Wal.open(member / "wal", log, snap_index, segment_bytes=segment_bytes)
        except WalCorruptError as exc:
            if corrupt:  # most likely the log was compacted up to the damaged snapshot
                raise corrupt[0][1] from exc
            raise
        for index, exc in corrupt:
            if wal.last_index < index:
                wal.close()
                raise exc
            log.warning("snapshot_corrupt_skipped", path=exc.path, reason=exc.reason)
        return cls(wal, snapshots), Recovered(snap, hard_state, entries)

    @property
    def last_index(self) -> int:
        return self._wal.last_index

    def append(self, entries: Sequence[Entry], hard_state: HardState | None = None) -> None:
        """Write entries (then the hard state) in one write(), no fsync.

        An append whose first index is <= the last index replaces the log from there on.
        ValueError if the batch is not contiguous or does not follow (snapshot, last index].
        """
        self._wal.append(entries, hard_state)

    def sync(self) -> None:
        """fsync: after it returns, everything appended is durable."""
        self._wal.sync()

    def save_snapshot(self, snap: Snapshot) -> None:
        """Store the snapshot atomically, then drop the log segments and old snapshots it covers."""
        if snap.index < self._wal.snap_index:
            raise ValueError(f"snapshot at {snap.index} is older than the current one at {self._wal.snap_index}")
        self._snapshots.save(snap)
        self._wal.compact(snap.index)
        self._snapshots.purge(_KEEP_SNAPSHOTS)

    def close(self) -> None:
        """Sync pending appends (unless a write failed) and close."""
        self._wal.close()
