"""A simulated disk for one node: what was written, and what of it is durable.

The node's Ready loop writes (snapshot, entries, hard state) into `view` right away and
queues the same operations in a write buffer; `sync()` (the fsync a Ready asks for with
must_sync) replays the buffer onto `durable`. A crash keeps only `durable`, plus, when the
sim asks for a torn crash, a prefix of the buffered writes whose last entry batch may itself
be cut short -- what a write-ahead log can look like after a power cut (writes reach the
platter in order; an unsynced tail may or may not have made it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from trionode.raft.messages import Entry, HardState, Snapshot

__all__ = ["DiskError", "LogState", "SimDisk", "Written"]


class DiskError(AssertionError):
    """The core asked the edge to write something no correct Raft log can hold."""


@dataclass(slots=True)
class LogState:
    """Hard state, latest snapshot and the entries after it (entries[0].index == snap_index + 1)."""

    hs: HardState = field(default_factory=HardState)
    snap: Snapshot | None = None
    ents: list[Entry] = field(default_factory=list)

    @property
    def snap_index(self) -> int:
        return self.snap.index if self.snap is not None else 0

    @property
    def last_index(self) -> int:
        return self.snap_index + len(self.ents)

    def term_at(self, index: int) -> int | None:
        """Term of the entry at `index`; None when compacted away or past the end."""
        base = self.snap_index
        if index == base:
            return self.snap.term if self.snap is not None else 0
        if base < index <= base + len(self.ents):
            return self.ents[index - base - 1].term
        return None

    def entry(self, index: int) -> Entry | None:
        base = self.snap_index
        if base < index <= base + len(self.ents):
            return self.ents[index - base - 1]
        return None

    def copy(self) -> LogState:
        return LogState(self.hs, self.snap, list(self.ents))

    def apply(self, op: tuple) -> None:
        kind, arg = op
        if kind == "hs":
            self.hs = arg
        elif kind == "ents":
            self._append(arg)
        elif kind == "install":
            # A snapshot received from the leader replaces the whole log (its prefix is
            # the snapshot; anything after it will be sent again).
            self.snap, self.ents = arg, []
        elif kind == "compact":
            # The app's own snapshot: entries up to its index go, later ones stay.
            drop = arg.index - self.snap_index
            self.snap, self.ents = arg, self.ents[max(drop, 0):]
        else:  # pragma: no cover - programming error in the harness
            raise ValueError(kind)

    def _append(self, ents: tuple[Entry, ...]) -> None:
        first = ents[0].index
        for prev, cur in zip(ents, ents[1:]):
            if cur.index != prev.index + 1 or cur.term < prev.term:
                raise DiskError(f"entries batch not contiguous/monotonic: {prev.term}/{prev.index} "
                                f"then {cur.term}/{cur.index}")
        if not self.snap_index < first <= self.last_index + 1:
            raise DiskError(f"append at {first} outside ({self.snap_index}, {self.last_index + 1}]: "
                            "a gap in the log or an overwrite of the snapshot")
        prev_term = self.term_at(first - 1)
        if prev_term is not None and ents[0].term < prev_term:
            raise DiskError(f"entry {ents[0].term}/{first} follows an entry of term {prev_term}")
        del self.ents[first - self.snap_index - 1:]
        self.ents.extend(ents)


class SimDisk:
    """`view` = everything written (what a running node reads back); `durable` = fsynced."""

    __slots__ = ("view", "durable", "_buffer", "syncs")

    def __init__(self) -> None:
        self.view = LogState()
        self.durable = LogState()
        self._buffer: list[tuple] = []
        self.syncs = 0

    def write(self, op: tuple) -> None:
        """Buffered write: visible to the running node now, durable only after sync()."""
        self.view.apply(op)
        self._buffer.append(op)

    def sync(self) -> None:
        for op in self._buffer:
            self.durable.apply(op)
        self._buffer.clear()
        self.syncs += 1

    def write_durable(self, op: tuple) -> None:
        """A separately fsynced file (the app's snapshot): flush the log first, then it."""
        self.sync()
        self.view.apply(op)
        self.durable.apply(op)

    def crash(self, rng: random.Random, torn: bool) -> int:
        """Lose the write buffer (torn: keep a random prefix of it). Returns ops kept."""
        kept = 0
        if torn and self._buffer:
            kept = rng.randint(0, len(self._buffer))
            for op in self._buffer[:kept]:
                self.durable.apply(op)
            if kept < len(self._buffer) and self._buffer[kept][0] == "ents":
                batch = self._buffer[kept][1]
                cut = rng.randint(0, len(batch) - 1)
                if cut:
                    self.durable.apply(("ents", batch[:cut]))
        self._buffer.clear()
        self.view = self.durable.copy()
        return kept

    def unsynced(self) -> int:
        return len(self._buffer)


class Written:
    """A node's log as it reads once a Ready is written, without writing it: the real node
    applies a Ready's committed entries before writing it, and the checker must know the
    commits (and their entries) by then. Read-only; duck-types LogState for the checker."""

    __slots__ = ("_view", "_rd")

    def __init__(self, view: LogState, rd) -> None:
        self._view, self._rd = view, rd

    @property
    def hs(self) -> HardState:
        return self._rd.hard_state or self._view.hs

    @property
    def snap(self) -> Snapshot | None:
        return self._rd.snapshot or self._view.snap

    @property
    def snap_index(self) -> int:
        return self._rd.snapshot.index if self._rd.snapshot is not None else self._view.snap_index

    @property
    def last_index(self) -> int:
        rd = self._rd
        if rd.entries:
            return rd.entries[-1].index  # an append cuts whatever followed its first index
        return rd.snapshot.index if rd.snapshot is not None else self._view.last_index

    def term_at(self, index: int) -> int | None:
        rd = self._rd
        if rd.entries and index >= rd.entries[0].index:
            offset = index - rd.entries[0].index
            return rd.entries[offset].term if offset < len(rd.entries) else None
        if rd.snapshot is not None:
            return rd.snapshot.term if index == rd.snapshot.index else None
        return self._view.term_at(index)
