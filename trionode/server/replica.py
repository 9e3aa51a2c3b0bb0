"""The Raft edge: the Ready loop that moves bytes and time between the core and the world.

Inputs (peer messages, ticks, proposals, read requests) queue up and are stepped into the
core between two Readys. Each turn then does one Ready in a fixed order (STYLE principle
2, with etcd's two refinements, see _turn): the leader's appends and heartbeats leave at
once; entries already committed are applied and their requests answered; the new entries
and hard state are written in one write and fsynced once when must_sync (every proposal
that arrived since the last turn shares it); only then go votes and responses, which
promise what the disk now holds; then advance. Requests wait by id (payload.py), so a
write accepted by a follower is answered when the follower applies it.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

import trio

from ..membership.members import Action
from ..raft import Message, MsgType, ProposalDropped, RaftCore, Ready, Role, Snapshot
from ..raft.messages import LOCAL_TYPES
from ..storage import Storage
from ..store import Event
from ..store.commands import Command
from ..v2.errors import EtcdError
from .payload import RequestIds, pack
from .statemachine import StateMachine
from .stats import FollowerStats, RequestRate

__all__ = ["Replica"]

_CTX = struct.Struct(">Q")
#: the result of a request that waited longer than the request timeout
_TIMED_OUT = EtcdError(300, "etcdserver: request timed out")


class _Waiter:
    __slots__ = ("done", "result", "index", "deadline")

    def __init__(self, deadline: float) -> None:
        self.done = trio.Event()
        self.result: list[Event] | Exception | None = None
        self.index = 0  # read waiters: the read index, once known
        self.deadline = deadline


class Replica:
    """Owns the core, the durable log and the state machine; the only writer of each."""

    def __init__(self, core: RaftCore, storage: Storage, machine: StateMachine, *, member_id: int,
                 applied: int, snapshot_index: int, snapshot_count: int, request_timeout: float,
                 send: Callable[[Iterable[Message]], None], log: Any, id_start: int,
                 on_membership: Callable[[], None] = lambda: None) -> None:
        self.core = core
        self.machine = machine
        self.member_id = member_id
        self.applied = applied
        self.applied_term = 0
        self.snapshot_index = snapshot_index
        self._storage = storage
        self._snapshot_count = snapshot_count
        self._timeout = request_timeout
        self._send = send
        self._log = log
        self._ids = RequestIds(member_id, id_start)
        self._waiters: dict[int, _Waiter] = {}
        self._reads: dict[bytes, _Waiter] = {}
        self._pending_reads: list[_Waiter] = []  # index known, waiting for apply
        self._work = trio.Event()
        # Inputs wait here until the loop is between two Readys: the core is only ever
        # stepped outside a Ready (step*, ready, persist/send/apply, advance, step*, ...).
        self._inbox: list[Message] = []
        self._proposals: list[tuple[bytes, _Waiter]] = []
        self._read_requests: list[tuple[bytes, _Waiter]] = []
        self._ticks = 0
        self.role_changed = trio.Event()
        # For /v2/stats: append counts, when the leader last changed, heartbeat round trips.
        self.recv_append_count = 0
        self.send_append_count = 0
        self.leader_since_ns = time.time_ns()
        self.followers: dict[int, FollowerStats] = {}
        self.send_rate = RequestRate()
        self.recv_rate = RequestRate()
        self._heartbeat_sent: dict[int, float] = {}
        # Membership: who to tell when it changes, when each peer was last heard from (for
        # removeDelay), whether a member was added (snapshot before stepping anything else),
        # and whether this member has been removed (the node stops).
        self._on_membership = on_membership
        self.last_heard: dict[int, float] = {}
        self._snapshot_now = False
        self.removed = trio.Event()

    # --- what the edge feeds in

    def deliver(self, message: Message) -> None:
        kind = message.type
        if kind not in LOCAL_TYPES:  # UNREACHABLE and SNAP_STATUS say nothing from the peer
            self.last_heard[message.frm] = trio.current_time()
        if kind is MsgType.APP:
            self.recv_append_count += 1
            self.recv_rate.record(trio.current_time(), _size(message))
        elif kind is MsgType.HEARTBEAT_RESP:
            sent = self._heartbeat_sent.pop(message.frm, None)
            if sent is not None:
                self._follower(message.frm).succeeded((trio.current_time() - sent) * 1000)
        self._inbox.append(message)
        self._work.set()

    def report_unreachable(self, peer: int) -> None:
        self._follower(peer).failed()
        self.deliver(Message(MsgType.UNREACHABLE, to=self.member_id, frm=peer))

    def _follower(self, peer: int) -> FollowerStats:
        stats = self.followers.get(peer)
        if stats is None:
            stats = self.followers[peer] = FollowerStats()
        return stats

    def _send_all(self, messages: tuple[Message, ...]) -> None:
        now = trio.current_time()
        for message in messages:
            if message.type is MsgType.APP:
                self.send_append_count += 1
                self.send_rate.record(now, _size(message))
            elif message.type is MsgType.HEARTBEAT:
                self._heartbeat_sent.setdefault(message.to, now)
        self._send(messages)

    def report_snapshot(self, peer: int, ok: bool) -> None:
        self.deliver(Message(MsgType.SNAP_STATUS, to=self.member_id, frm=peer, reject=not ok))

    def tick(self) -> None:
        self._ticks += 1
        self._work.set()

    def transfer_leadership(self, to: int) -> None:
        self._inbox.append(Message(MsgType.TRANSFER_LEADER, to=self.member_id, frm=to))
        self._work.set()

    # --- what requests call

    @property
    def is_leader(self) -> bool:
        return self.core.role is Role.LEADER

    async def propose(self, command: Command) -> list[Event]:
        """Replicate `command`; its events once applied here, or its EtcdError."""
        request_id = self._ids.next()
        waiter = self._waiters[request_id] = _Waiter(trio.current_time() + self._timeout)
        try:
            self._proposals.append((pack(request_id, command), waiter))
            self._work.set()
            await self._wait(waiter)
        finally:
            del self._waiters[request_id]
        result = waiter.result
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[return-value]

    async def read_barrier(self) -> None:
        """Wait until this member has applied everything committed when we asked (ReadIndex,
        Raft thesis §6.4): a read after this is linearizable."""
        ctx = _CTX.pack(self._ids.next())
        waiter = self._reads[ctx] = _Waiter(trio.current_time() + self._timeout)
        try:
            self._read_requests.append((ctx, waiter))
            self._work.set()
            await self._wait(waiter)
            if isinstance(waiter.result, EtcdError):
                raise waiter.result
        finally:
            self._reads.pop(ctx, None)
            if waiter in self._pending_reads:
                self._pending_reads.remove(waiter)

    @staticmethod
    async def _wait(waiter: _Waiter) -> None:
        # No cancel scope per request: expire_requests() fails the ones that waited too long.
        await waiter.done.wait()
        if waiter.result is _TIMED_OUT:
            raise EtcdError(300, "etcdserver: request timed out")

    async def expire_requests(self, *, every: float = 0.25) -> None:
        """Fail requests whose entry or read index did not come within the request timeout
        (no leader, a partition): one sweep for all of them instead of a timer each."""
        while True:
            await trio.sleep(every)
            now = trio.current_time()
            for waiter in [*self._waiters.values(), *self._reads.values(), *self._pending_reads]:
                if waiter.deadline <= now and not waiter.done.is_set():
                    _fail(waiter, _TIMED_OUT)

    # --- the loop

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self._work.wait()
            # Let every task that is ready to run (requests whose bytes arrived, peer
            # readers) queue its input first: one Ready then carries all of it.
            await trio.lowlevel.cancel_shielded_checkpoint()
            self._work = trio.Event()
            self._feed()
            while self.core.has_ready():
                await self._turn(self.core.ready())
                if self._snapshot_now:
                    # A member was added: snapshot before the core steps its first answer, so
                    # its empty log is behind our first index and it is sent the snapshot
                    # (with the membership in it) instead of entries from the start.
                    await self._snapshot()
                self._feed()
            if self.applied - self.snapshot_index >= self._snapshot_count:
                await self._snapshot()

    def _feed(self) -> None:
        """Step everything that arrived since the last Ready into the core."""
        core = self.core
        for _ in range(self._ticks):
            core.tick()
        self._ticks = 0
        inbox, self._inbox = self._inbox, []
        for message in inbox:
            core.step(message)
        proposals, self._proposals = self._proposals, []
        if proposals:
            try:  # all at once: one append and one APP per follower for the whole batch
                core.propose_all([data for data, _ in proposals])
            except ProposalDropped:
                for _, waiter in proposals:
                    _fail(waiter, EtcdError(300, "etcdserver: no leader"))
        reads, self._read_requests = self._read_requests, []
        for ctx, waiter in reads:
            try:
                core.read_index(ctx)
            except ProposalDropped:
                _fail(waiter, EtcdError(300, "etcdserver: no leader"))

    async def _turn(self, ready: Ready) -> None:
        """One Ready. Committed entries are durable on a quorum already, so they are
        applied (and their requests answered) while this Ready's new entries are being
        written, as etcd does; a snapshot from the leader is made durable first."""
        persist = ready.snapshot is not None or ready.entries or ready.hard_state is not None
        early, late = _split(ready.messages) if persist else ((), ready.messages)
        if early:
            self._send_all(early)
        if ready.snapshot is None:
            self._apply_committed(ready)
        if persist:
            # Not cancellable once started: a shutdown waits for the fsync in flight.
            await trio.to_thread.run_sync(self._persist, ready)
        if late:
            self._send_all(late)
        if ready.snapshot is not None:
            self._install(ready.snapshot)
            self._apply_committed(ready)
        self._after(ready)
        self.core.advance(ready)

    def _apply_committed(self, ready: Ready) -> None:
        for entry in ready.committed:
            self._apply(entry.index, entry.term, entry.data)

    def _after(self, ready: Ready) -> None:
        """Read states and role changes: what a Ready says besides the log."""
        for state in ready.read_states:
            waiter = self._reads.pop(state.ctx, None)
            if waiter is not None:
                waiter.index = state.index
                self._pending_reads.append(waiter)
        self._release_reads()
        if ready.soft_state is not None:
            # A read index asked of the old leader may never be answered: ask the new
            # one (reads are idempotent; a late second answer finds no waiter).
            if ready.soft_state.leader:
                self._read_requests.extend(self._reads.items())
            if ready.soft_state.role is not Role.LEADER:
                self.followers.clear()
                self._heartbeat_sent.clear()
            self.leader_since_ns = time.time_ns()
            self.role_changed.set()
            self.role_changed = trio.Event()
            self._log.info("raft.role", role=ready.soft_state.role.name, leader=f"{ready.soft_state.leader:x}",
                           term=self.core.term)

    def _persist(self, ready: Ready) -> None:
        if ready.snapshot is not None:
            self._storage.save_snapshot(ready.snapshot)
        if ready.entries or ready.hard_state is not None:
            self._storage.append(list(ready.entries), ready.hard_state)
        if ready.must_sync:
            self._storage.sync()

    def _install(self, snapshot: Snapshot) -> None:
        self.machine.load(snapshot.data)
        self.applied = self.snapshot_index = snapshot.index
        self.applied_term = snapshot.term
        self._log.info("snapshot_installed", index=snapshot.index, term=snapshot.term)
        self._sync_membership()

    def _sync_membership(self) -> None:
        """Tell the core and the node who the members are now; note our own removal."""
        membership = self.machine.membership
        self.core.set_membership(membership.voters, membership.learners)
        self._on_membership()
        if self.member_id in membership.removed and not self.removed.is_set():
            self._log.info("member_removed", member=f"{self.member_id:x}")
            self.removed.set()

    def _apply(self, index: int, term: int, data: bytes) -> None:
        machine = self.machine
        outcome = machine.apply(data)
        self.applied, self.applied_term = index, term
        if machine.changes:
            changes, machine.changes = machine.changes, []
            for change in changes:
                self._log.info("membership_changed", action=change.action.value,
                               member=f"{change.member.id:x}", index=index)
            self._snapshot_now = any(c.action is Action.ADD for c in changes) or self._snapshot_now
            self._sync_membership()
        if outcome is not None:
            waiter = self._waiters.get(outcome[0])
            if waiter is not None:
                waiter.result = outcome[1]
                waiter.done.set()

    def _release_reads(self) -> None:
        ready = [w for w in self._pending_reads if w.index <= self.applied]
        if ready:
            self._pending_reads = [w for w in self._pending_reads if w.index > self.applied]
            for waiter in ready:
                waiter.done.set()

    async def _snapshot(self) -> None:
        self._snapshot_now = False
        snapshot = Snapshot(self.applied, self.applied_term, self.machine.dump())
        await trio.to_thread.run_sync(self._storage.save_snapshot, snapshot)
        self.core.compact(snapshot)
        self.snapshot_index = snapshot.index
        self._log.info("snapshot_saved", index=snapshot.index, bytes=len(snapshot.data))


#: Messages that state nothing about this member's durable state, so they may leave before
#: the fsync: the leader's appends and heartbeats (Raft thesis §10.2.1: the leader writes
#: its log in parallel with replication; its own entries count toward a quorum only after
#: they are durable, when advance() reports them), and requests that carry no state.
#: Votes and every response wait: they promise something the disk must already hold.
_EARLY = frozenset({MsgType.APP, MsgType.HEARTBEAT, MsgType.SNAP, MsgType.TIMEOUT_NOW,
                    MsgType.PROP, MsgType.READ_INDEX})


def _split(messages: tuple[Message, ...]) -> tuple[list[Message], list[Message]]:
    early: list[Message] = []
    late: list[Message] = []
    for message in messages:
        (early if message.type in _EARLY else late).append(message)
    return early, late


def _size(message: Message) -> int:
    """Bytes an append request carries, for the bandwidth rates (entry payloads + headers)."""
    return 48 + sum(24 + len(entry.data) for entry in message.entries)


def _fail(waiter: _Waiter, error: EtcdError) -> None:
    waiter.result = error
    waiter.done.set()


async def tick_forever(replica: Replica, interval: float) -> None:
    """The core's logical clock: one tick per heartbeat interval."""
    deadline = trio.current_time()
    while True:
        deadline += interval
        await trio.sleep_until(deadline)
        if trio.current_time() - deadline > 5 * interval:
            deadline = trio.current_time()  # we were starved; do not burst ticks to catch up
        replica.tick()

