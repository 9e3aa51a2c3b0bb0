"""The commit loop: group commit of proposals into the durable log, then apply.

This is the single-member shape of the Raft Ready loop (STYLE principle 2): proposals
queue up while the previous batch is being fsynced; each turn of the loop takes all of
them, appends them as (term, index) entries in one write, fsyncs once, then applies them
to the store in log order and only then wakes the requests waiting for them. Nothing is
acknowledged before its entry is on disk. When Raft arrives it replaces the middle of
this loop (persist -> send -> apply) and keeps both ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import trio

from .commands import Command, Op
from .errors import EtcdError
from .storage import Entry, HardState, Snapshot, Storage
from .store import Event, Store

__all__ = ["CommitLog", "LogPosition", "replay"]


@dataclass(slots=True)
class LogPosition:
    """What the log has reached; read by the HTTP layer for the X-Raft-* headers."""

    term: int = 0
    #: index of the last entry applied to the store (== committed on a single member)
    applied: int = 0
    #: index of the entry the last snapshot covers
    snapshot_index: int = 0


class _Proposal:
    __slots__ = ("command", "done", "events", "error")

    def __init__(self, command: Command) -> None:
        self.command = command
        self.done = trio.Event()
        self.events: list[Event] = []
        self.error: EtcdError | None = None


class CommitLog:
    """Owns the durable log and the store; the only writer of either."""

    def __init__(self, storage: Storage, store: Store, position: LogPosition, *, member_id: int,
                 snapshot_count: int, max_batch: int, log: Any) -> None:
        self._storage = storage
        self.store = store
        self.position = position
        self._member_id = member_id
        self._snapshot_count = snapshot_count
        self._max_batch = max_batch
        self._log = log
        self._queue: list[_Proposal] = []
        self._has_work = trio.Event()

    async def propose(self, command: Command) -> list[Event]:
        """Log, fsync and apply `command`; the store's events, or its EtcdError."""
        proposal = _Proposal(command)
        self._queue.append(proposal)
        self._has_work.set()
        await proposal.done.wait()
        if proposal.error is not None:
            raise proposal.error
        return proposal.events

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await self._begin_term()
        task_status.started()
        while True:
            await self._has_work.wait()
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            if not self._queue:
                self._has_work = trio.Event()
            await self._commit(batch)

    async def _begin_term(self) -> None:
        """Start a new term with an empty entry, as a Raft leader does (§5.4.2 of the paper):
        it makes X-Raft-Term move on every restart and proves the log is writable."""
        self.position.term += 1
        noop = Entry(self.position.term, self.position.applied + 1, Command(Op.NOOP).encode())
        hard = HardState(self.position.term, self._member_id, noop.index)
        await trio.to_thread.run_sync(self._persist, [noop], hard)
        self.position.applied = noop.index
        self._log.info("term_started", term=self.position.term, index=noop.index)

    async def _commit(self, batch: list[_Proposal]) -> None:
        first = self.position.applied + 1
        term = self.position.term
        entries = [Entry(term, first + i, p.command.encode()) for i, p in enumerate(batch)]
        hard = HardState(term, self._member_id, first + len(batch) - 1)
        # Not cancellable: once the write started, we wait for its fsync to finish, so
        # a shutdown never leaves an acknowledged-looking half batch behind.
        await trio.to_thread.run_sync(self._persist, entries, hard)
        for proposal in batch:
            self._apply(proposal)
        self.position.applied = hard.commit
        for proposal in batch:
            proposal.done.set()
        if self.position.applied - self.position.snapshot_index >= self._snapshot_count:
            await self._snapshot()

    def _persist(self, entries: list[Entry], hard: HardState) -> None:
        self._storage.append(entries, hard)
        self._storage.sync()

    def _apply(self, proposal: _Proposal) -> None:
        try:
            proposal.events = self.store.apply(proposal.command)
        except EtcdError as exc:
            proposal.error = exc

    async def _snapshot(self) -> None:
        snap = Snapshot(self.position.applied, self.position.term, self.store.dump())
        await trio.to_thread.run_sync(self._storage.save_snapshot, snap)
        self.position.snapshot_index = snap.index
        self._log.info("snapshot_saved", index=snap.index, bytes=len(snap.data))


def replay(store: Store, entries: list[Entry], position: LogPosition) -> None:
    """Apply recovered entries to a store rebuilt from its snapshot (restart)."""
    for entry in entries:
        try:
            store.apply(Command.decode(entry.data))
        except EtcdError:
            pass  # it failed the first time too: failures are deterministic
        position.applied = entry.index
        position.term = max(position.term, entry.term)
