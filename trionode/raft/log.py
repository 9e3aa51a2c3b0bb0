"""The Raft log as one member holds it in memory: everything since its last snapshot.

    snapshot (index s, term t) | entries s+1 .. last
                               | <- stable ->| <- unstable ->|
    applied <= committed <= last

Entries up to `stable` are on disk (the edge persisted them and called advance());
the rest are handed out in the next Ready. A conflicting suffix (paper §5.3) is cut off
wherever it is; if it reached into the stable part, `stable` moves back and the storage
overwrites that suffix when it appends the Ready's entries. Committed entries are never
cut (Leader Completeness, paper §5.4). The entry at the snapshot's index survives
compaction as its term, so the log matching check still works at the boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

from .messages import Entry, Snapshot

__all__ = ["RaftLog"]


class RaftLog:
    __slots__ = ("snap_index", "snap_term", "entries", "stable", "committed", "applied",
                 "snapshot", "unstable_snapshot")

    def __init__(self, snapshot: Snapshot | None = None, entries: Sequence[Entry] = ()) -> None:
        """A log as recovered from disk: all of it is stable; applied = the snapshot."""
        self.snapshot = snapshot  # the latest snapshot, kept to send to lagging followers
        self.unstable_snapshot: Snapshot | None = None  # received, not yet persisted
        self.snap_index = snapshot.index if snapshot is not None else 0
        self.snap_term = snapshot.term if snapshot is not None else 0
        self.entries: list[Entry] = [e for e in entries if e.index > self.snap_index]
        for offset, entry in enumerate(self.entries):
            assert entry.index == self.snap_index + 1 + offset, f"gap in the log at {entry.index}"
        self.stable = self.last_index()
        self.committed = self.snap_index
        self.applied = self.snap_index

    # --- reading -------------------------------------------------------------------------

    def first_index(self) -> int:
        return self.snap_index + 1

    def last_index(self) -> int:
        return self.snap_index + len(self.entries)

    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snap_term

    def term(self, index: int) -> int | None:
        """The term of the entry at `index`; None if it was compacted or does not exist."""
        if index == self.snap_index:
            return self.snap_term
        if index < self.snap_index or index > self.last_index():
            return None
        return self.entries[index - self.snap_index - 1].term

    def match_term(self, index: int, term: int) -> bool:
        return self.term(index) == term

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """Is a log ending at (last_index, last_term) at least as up to date as ours?
        (paper §5.4.1: the later last term wins; with equal terms the longer log.)"""
        mine = self.last_term()
        return last_term > mine or (last_term == mine and last_index >= self.last_index())

    def slice(self, lo: int, hi: int) -> list[Entry]:
        """Entries lo <= index < hi; all of them must be present."""
        assert self.snap_index < lo <= hi <= self.last_index() + 1, f"slice [{lo},{hi}) out of log"
        base = self.snap_index + 1
        return self.entries[lo - base:hi - base]

    def entries_from(self, index: int, max_count: int) -> list[Entry] | None:
        """Up to `max_count` entries from `index` on; None if `index` was compacted."""
        if index <= self.snap_index:
            return None
        hi = min(self.last_index() + 1, index + max_count)
        return self.slice(index, hi) if index <= hi else []

    def unstable_entries(self) -> list[Entry]:
        return self.slice(self.stable + 1, self.last_index() + 1)

    def next_committed(self) -> list[Entry]:
        """Committed entries not applied yet (the app applies them after a pending snapshot)."""
        lo = max(self.applied + 1, self.first_index())
        return self.slice(lo, self.committed + 1) if lo <= self.committed else []

    def has_next_committed(self) -> bool:
        return self.committed >= max(self.applied + 1, self.first_index())

    def find_conflict(self, entries: Sequence[Entry]) -> int:
        """The index of the first entry that disagrees with ours (or is new); 0 if none."""
        for entry in entries:
            if not self.match_term(entry.index, entry.term):
                return entry.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The last index <= `index` whose term is <= `term`, with that term: no entry
        after it can match a log whose entry at `index` has `term`, so a whole term of
        mismatches is skipped per round trip (paper §5.3, end). (index, 0) if unknown."""
        while index > 0:
            mine = self.term(index)
            if mine is None:
                return index, 0
            if mine <= term:
                return index, mine
            index -= 1
        return 0, 0

    # --- changing ------------------------------------------------------------------------

    def maybe_append(self, index: int, log_term: int, commit: int,
                     entries: Sequence[Entry]) -> int | None:
        """A follower's AppendEntries (paper fig. 2): if our log holds (index, log_term),
        append `entries` after it, cutting any conflicting suffix, and learn `commit`.
        Returns the index of the last entry the leader sent, or None on a mismatch."""
        if not self.match_term(index, log_term):
            return None
        last_new = index + len(entries)
        conflict = self.find_conflict(entries)
        if conflict:
            assert conflict > self.committed, \
                f"entry {conflict} conflicts with the committed log (<= {self.committed})"
            self.append(entries[conflict - index - 1:])
        self.commit_to(min(commit, last_new))
        return last_new

    def append(self, entries: Sequence[Entry]) -> None:
        """Append after entries[0].index - 1, dropping whatever followed that index."""
        if not entries:
            return
        after = entries[0].index - 1
        assert after >= self.committed, f"appending at {after + 1} would cut committed entries"
        assert self.snap_index <= after <= self.last_index(), f"append at {after + 1} leaves a gap"
        del self.entries[after - self.snap_index:]
        self.stable = min(self.stable, after)
        self.entries.extend(entries)

    def commit_to(self, index: int) -> None:
        if index > self.committed:
            assert index <= self.last_index(), \
                f"commit {index} is past the last index {self.last_index()}: log lost or corrupt"
            self.committed = index

    def maybe_commit(self, index: int, term: int) -> bool:
        """Commit up to `index` if that entry is from `term`: a leader commits only entries
        of its own term by counting replicas (paper §5.4.2, fig. 8)."""
        if index > self.committed and self.term(index) == term:
            self.commit_to(index)
            return True
        return False

    def applied_to(self, index: int) -> None:
        assert index <= self.committed, f"applied {index} past commit {self.committed}"
        self.applied = max(self.applied, index)

    def stable_to(self, index: int, term: int) -> None:
        """The edge persisted entries up to (index, term); ignored if that entry has since
        been replaced (a step between ready() and advance() cut the suffix)."""
        if self.match_term(index, term) and index > self.stable:
            self.stable = index

    def stable_snapshot_to(self, index: int) -> None:
        if self.unstable_snapshot is not None and self.unstable_snapshot.index == index:
            self.unstable_snapshot = None
        self.applied = max(self.applied, min(index, self.committed))

    def restore(self, snapshot: Snapshot) -> None:
        """Replace the whole log with a received snapshot (paper §7: the follower's log
        does not hold the snapshot's last entry, so everything it has is discarded)."""
        assert snapshot.index > self.committed, "restoring a snapshot older than the commit"
        self.snapshot = self.unstable_snapshot = snapshot
        self.snap_index, self.snap_term = snapshot.index, snapshot.term
        self.entries = []
        self.stable = self.committed = snapshot.index

    def compact(self, snapshot: Snapshot) -> bool:
        """The app saved a snapshot at an applied index: drop the entries it covers, keep
        its term at the boundary. False (nothing done) if it is not newer than ours."""
        if snapshot.index <= self.snap_index:
            return False
        assert snapshot.index <= self.applied, \
            f"snapshot at {snapshot.index} covers unapplied entries (applied {self.applied})"
        assert self.term(snapshot.index) == snapshot.term, \
            f"snapshot term {snapshot.term} disagrees with the log at {snapshot.index}"
        del self.entries[:snapshot.index - self.snap_index]
        self.snap_index, self.snap_term = snapshot.index, snapshot.term
        self.snapshot = snapshot
        return True
