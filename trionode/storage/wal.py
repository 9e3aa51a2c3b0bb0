"""The write-ahead log: a Raft log in numbered segment files (blocking I/O; never trio).

Layout: <data_dir>/member/wal/<seq>-<first>.wal, both 16 lower-case hex digits. `seq`
counts segments from 0 with no gaps; `first` is the index of the first entry written after
the segment was started, so names sort in log order and show where each segment begins.
Each segment is a sequence of records (records.py), starting with a hard state record.

Writing. append() encodes a batch (entries, then the hard state) into one buffer and
writes it with one write() call; sync() fsyncs. A batch whose first index is at or below
the last index overwrites that suffix (Raft paper §5.3). When the newest segment has
reached `segment_bytes`, the next batch starts a new one: the old segment is fsynced first
(so that only the newest segment can ever hold a torn write), the new file gets the current
hard state and is fsynced, then its directory.

Recovery replays the segments in order. A hard state record replaces the previous one.
An entry at index i (after the snapshot) drops every entry from i on and is appended; an
entry that would leave a gap is corruption. Entries at or below the snapshot index are
skipped: the snapshot holds them.

Damage (records.scan) is tolerated in one place only: a torn write at the end of the newest
segment, i.e. a record that is incomplete, or fails a checksum with only zero bytes after
it. It is truncated away with a warning naming file and offset. Anything else, a bad record
followed by data or a bad record in an older segment, raises WalCorruptError: an
acknowledged entry is never dropped in silence. A record with a damaged header followed by
non-zero bytes counts as corruption even at the tail, since its extent cannot be known.

Compaction after a snapshot at index s deletes segments from the oldest on while the next
segment's `first` is <= s + 1: every entry of the current log in such a segment is covered
by the snapshot (later writes of lower indexes land in later segments). The newest segment
is never deleted, and since every segment starts with the hard state, none is lost.

Any OSError while writing or syncing leaves the file in an unknown state (after a failed
fsync the kernel may have dropped the dirty pages), so it poisons the WAL: every later
call raises StorageFailedError. Restarting recovers through the rules above.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..telemetry.logger import Logger
from .errors import WalCorruptError
from .files import datasync, ensure_dir, fsync_dir, write_all
from .records import Entry, HardState, encode_batch, encode_hard_state, scan

__all__ = ["SEGMENT_BYTES", "StorageFailedError", "Wal", "segment_name"]

SEGMENT_BYTES = 64 << 20
_NAME = re.compile(r"([0-9a-f]{16})-([0-9a-f]{16})\.wal")


class StorageFailedError(OSError):
    """An earlier write or fsync failed; the log on disk is in an unknown state until restart."""


@dataclass(frozen=True, slots=True)
class _Segment:
    seq: int
    first: int
    path: Path


def segment_name(seq: int, first: int) -> str:
    return f"{seq:016x}-{first:016x}.wal"


class _Replay:
    """The log as recovery rebuilds it: entries[k] has index snap_index + 1 + k."""

    def __init__(self, snap_index: int) -> None:
        self.snap_index = snap_index
        self.entries: list[Entry] = []
        self.hard_state = HardState()

    def feed(self, path: Path, records: Sequence[tuple[int, Entry | HardState]]) -> None:
        for offset, rec in records:
            if isinstance(rec, HardState):
                self.hard_state = rec
                continue
            pos = rec.index - self.snap_index - 1
            if pos < 0:
                continue
            if pos > len(self.entries):
                last = self.snap_index + len(self.entries)
                raise WalCorruptError(str(path), offset, f"entry {rec.index} leaves a gap after index {last}")
            del self.entries[pos:]
            self.entries.append(rec)


class Wal:
    """The open log. Not thread-safe: one caller at a time (the node's storage worker)."""

    def __init__(self, directory: Path, segments: list[_Segment], fd: int, size: int,
                 replay: _Replay, segment_bytes: int) -> None:
        self._dir = directory
        self._segments = segments
        self._fd = fd
        self._size = size  # bytes in the newest segment
        self._segment_bytes = segment_bytes
        self._dirty = False
        self._failed: OSError | None = None
        self.snap_index = replay.snap_index
        self.last_index = replay.snap_index + len(replay.entries)
        self.hard_state = replay.hard_state

    @classmethod
    def open(cls, directory: Path, log: Logger, snap_index: int, *,
             segment_bytes: int = SEGMENT_BYTES) -> tuple[Wal, HardState, list[Entry]]:
        """Replay the log after `snap_index`, truncate a torn tail, and open it for appends."""
        ensure_dir(directory)
        segments = _list_segments(directory, log)
        replay = _Replay(snap_index)
        if not segments:
            if snap_index:
                raise WalCorruptError(str(directory), 0, f"no log segments, but a snapshot at index {snap_index}")
            segments = [_create_segment(directory, 0, 1, encode_hard_state(replay.hard_state))]
        for seg in segments:
            data = seg.path.read_bytes()
            records, damage = scan(data)
            if damage is not None and (seg is not segments[-1] or not damage.torn):
                raise WalCorruptError(str(seg.path), damage.offset, damage.reason)
            replay.feed(seg.path, records)
        # `data` and `damage` are the newest segment's. Only now that every record before the
        # damage checked out is the torn tail cut off.
        end = len(data) if damage is None else damage.offset
        if damage is not None:
            log.warning("wal_torn_tail_truncated", path=str(segments[-1].path), offset=damage.offset,
                        dropped_bytes=len(data) - damage.offset, reason=damage.reason)
        fd, size = _open_newest(segments[-1].path, end, replay.hard_state)
        return cls(directory, segments, fd, size, replay, segment_bytes), replay.hard_state, replay.entries

    def append(self, entries: Sequence[Entry], hard_state: HardState | None = None) -> None:
        """Write the batch with one write() call; durable only after sync()."""
        self._check_open()
        if entries:
            self._check_batch(entries)
        elif hard_state is None:
            return
        buf = encode_batch(entries, hard_state)
        with self._poison_on_error():
            if self._size >= self._segment_bytes:
                self._rotate(entries[0].index if entries else self.last_index + 1)
            write_all(self._fd, buf)
        self._size += len(buf)
        self._dirty = True
        if entries:
            self.last_index = entries[-1].index
        if hard_state is not None:
            self.hard_state = hard_state

    def sync(self) -> None:
        """fsync: everything appended so far is on disk when this returns."""
        self._check_open()
        if self._dirty:
            with self._poison_on_error():
                datasync(self._fd)
            self._dirty = False

    def compact(self, snap_index: int) -> list[Path]:
        """Entries up to `snap_index` now live in a durable snapshot: drop the segments they fill."""
        self._check_open()
        assert snap_index >= self.snap_index, "Storage.save_snapshot refuses older snapshots"
        self.snap_index = snap_index
        # A snapshot installed from a leader may lie beyond the log; appends resume after it.
        self.last_index = max(self.last_index, snap_index)
        removed = []
        while len(self._segments) > 1 and self._segments[1].first <= snap_index + 1:
            self._segments[0].path.unlink()
            removed.append(self._segments.pop(0).path)
        if removed:
            fsync_dir(self._dir)
        return removed

    def close(self) -> None:
        """Sync what is pending (unless a write already failed) and close; idempotent."""
        if self._fd < 0:
            return
        try:
            if self._failed is None:
                self.sync()
        finally:
            os.close(self._fd)
            self._fd = -1

    @property
    def segment_paths(self) -> list[Path]:
        return [seg.path for seg in self._segments]

    def _check_open(self) -> None:
        if self._failed is not None:  # first: a failed rotation also leaves no open file
            raise StorageFailedError(f"an earlier write to the WAL failed: {self._failed}") from self._failed
        if self._fd < 0:
            raise ValueError("the WAL is closed")

    def _check_batch(self, entries: Sequence[Entry]) -> None:
        first = entries[0].index
        if not self.snap_index < first <= self.last_index + 1:
            raise ValueError(f"append at index {first}: the log holds ({self.snap_index}, {self.last_index}]")
        for prev, e in itertools.pairwise(entries):
            if e.index != prev.index + 1:
                raise ValueError(f"entries not contiguous: {prev.index} then {e.index}")

    @contextlib.contextmanager
    def _poison_on_error(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self._failed = exc
            raise

    def _rotate(self, first: int) -> None:
        # Only the newest segment may end in a torn write, so the old one is made whole first.
        datasync(self._fd)
        os.close(self._fd)
        self._fd = -1
        head = encode_hard_state(self.hard_state)
        seg = _create_segment(self._dir, self._segments[-1].seq + 1, first, head)
        self._segments.append(seg)
        self._fd = os.open(seg.path, os.O_WRONLY | os.O_APPEND)
        self._size = len(head)
        self._dirty = False


def _list_segments(directory: Path, log: Logger) -> list[_Segment]:
    segments = []
    for path in directory.iterdir():
        match = _NAME.fullmatch(path.name)
        if match is None:
            log.warning("wal_unknown_file_ignored", path=str(path))
            continue
        segments.append(_Segment(int(match[1], 16), int(match[2], 16), path))
    segments.sort(key=lambda seg: seg.seq)
    for prev, seg in itertools.pairwise(segments):
        if seg.seq != prev.seq + 1:
            raise WalCorruptError(str(seg.path), 0, f"segment {prev.seq + 1} is missing before it")
    return segments


def _create_segment(directory: Path, seq: int, first: int, head: bytes) -> _Segment:
    """A new segment holding just `head` (a hard state record), durable with its directory entry."""
    path = directory / segment_name(seq, first)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        write_all(fd, head)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(directory)
    return _Segment(seq, first, path)


def _open_newest(path: Path, end: int, hard_state: HardState) -> tuple[int, int]:
    """Open the newest segment for appends after its last valid record (offset `end`): (fd, size).

    The fsync also covers records a crashed process wrote but never synced: recovery hands
    them to Raft as log entries, so they must be as durable as the rest before it acts.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        if os.fstat(fd).st_size != end:
            os.ftruncate(fd, end)
        if end == 0:
            # Torn while it was being started: it must still begin with the hard state.
            buf = encode_hard_state(hard_state)
            write_all(fd, buf)
            end = len(buf)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd, end
