"""The Raft edge: the Ready loop that moves bytes and time between the core and the world.

Inputs (peer messages, ticks, proposals, read requests) queue up in the Inbox and are
stepped into the core between two Readys. Each turn then does one Ready in a fixed order
(STYLE principle 2, with etcd's two refinements, see _turn): the leader's appends and
heartbeats leave at once; entries already committed are applied and their requests
answered; the new entries and hard state are written in one write and fsynced once when
must_sync (every proposal that arrived since the last turn shares it); only then go votes
and responses, which promise what the disk now holds; then advance. Requests wait by id
(requests.py), so a write accepted by a follower is answered when the follower applies it.

What the replica needs of the rest of the node comes in at construction as the Protocols
below (ports): where messages go, what applies entries, who counts traffic and who follows
the membership. It owns the core, the durable log and the state machine, and is the only
writer of each.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import trio

from ..membership import Membership
from ..membership.members import Change, ChangeAction
from ..raft import Message, MsgType, ProposalDropped, RaftCore, Ready, Role, Snapshot, SoftState, Status
from ..storage import Storage
from ..store import Event, Store
from ..store.commands import Command
from ..telemetry.logger import Logger
from ..v2 import ErrorCode, V2Error
from .inbox import Batch, Inbox
from .payload import pack
from .requests import Requests, fail
from .statemachine import Outcome

__all__ = ["Applier", "MembershipSink", "Replica", "ReplicaSettings", "StatsSink", "Transport"]


class Transport(Protocol):
    def send(self, messages: Iterable[Message]) -> None: ...


class Applier(Protocol):
    """The replicated state machine (statemachine.StateMachine)."""

    store: Store
    membership: Membership

    def apply(self, data: bytes) -> Outcome | None: ...

    def take_changes(self) -> list[Change]: ...

    def dump(self) -> bytes: ...

    def load(self, data: bytes) -> None: ...


class StatsSink(Protocol):
    """Counts the traffic and role changes the loop sees (stats.RaftStats)."""

    def sent(self, messages: Iterable[Message], now: float) -> None: ...

    def soft_state_changed(self, soft_state: SoftState, wall_ns: int) -> None: ...


class MembershipSink(Protocol):
    """Told after every applied membership change (membership.tracker.MembershipTracker)."""

    def changed(self, membership: Membership, changes: Sequence[Change], index: int) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplicaSettings:
    member_id: int
    snapshot_count: int  # entries applied between two snapshots
    request_timeout: float  # seconds a request waits for its entry or read index
    id_start: int  # where this life's request ids start (payload.RequestIds)


class Replica:
    def __init__(self, core: RaftCore, storage: Storage, machine: Applier, *, inbox: Inbox,
                 transport: Transport, stats: StatsSink, members: MembershipSink, log: Logger,
                 settings: ReplicaSettings, snapshot_index: int) -> None:
        self._core = core
        self.member_id = settings.member_id
        self.applied = self.snapshot_index = snapshot_index
        self.applied_term = 0
        self._machine = machine
        self._storage = storage
        self._inbox = inbox
        self._transport = transport
        self._stats = stats
        self._members = members
        self._log = log
        self._snapshot_count = settings.snapshot_count
        self._requests = Requests(settings.member_id, settings.id_start, settings.request_timeout)
        self._snapshot_now = False  # a member was added: snapshot before stepping anything else
        self.role_changed = trio.Event()

    # --- what the node reads

    @property
    def store(self) -> Store:
        return self._machine.store  # replaced when a snapshot is installed

    @property
    def membership(self) -> Membership:
        return self._machine.membership

    @property
    def is_leader(self) -> bool:
        return self._core.role is Role.LEADER

    @property
    def leader_id(self) -> int:
        return self._core.lead

    @property
    def term(self) -> int:
        return self._core.term

    @property
    def role(self) -> Role:
        return self._core.role

    def status(self) -> Status:
        return self._core.status

    # --- what requests call

    async def propose(self, command: Command) -> list[Event]:
        """Replicate `command`; its events once applied here, or its V2Error."""
        request_id, waiter = self._requests.proposal(trio.current_time())
        try:
            self._inbox.propose(pack(request_id, command), waiter)
            await waiter.wait()
        finally:
            self._requests.forget_proposal(request_id)
        result = waiter.result
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[return-value]

    async def read_barrier(self) -> None:
        """Wait until this member has applied everything committed when we asked (ReadIndex,
        Raft thesis §6.4): a read after this is linearizable."""
        ctx, waiter = self._requests.read(trio.current_time())
        try:
            self._inbox.read([(ctx, waiter)])
            await waiter.wait()
            if isinstance(waiter.result, V2Error):
                raise waiter.result
        finally:
            self._requests.forget_read(ctx, waiter)

    async def expire_requests(self, *, every: float = 0.25) -> None:
        """Fail requests that waited longer than the request timeout: one sweep for all."""
        while True:
            await trio.sleep(every)
            self._requests.expire(trio.current_time())

    # --- the loop

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self._inbox.wait()
            self._feed(self._inbox.take())
            while self._core.has_ready():
                await self._turn(self._core.ready())
                # After every turn, not once the core is idle: under steady load it never is
                # (each turn's fsync lets the next requests in), and the log would grow
                # without a snapshot. A member was added: snapshot before the core steps its
                # first answer, so its empty log is behind our first index and it is sent the
                # snapshot (with the membership in it) instead of entries from the start.
                if self._snapshot_now or self.applied - self.snapshot_index >= self._snapshot_count:
                    await self._snapshot()
                self._feed(self._inbox.take())

    def _feed(self, batch: Batch) -> None:
        """Step everything that arrived since the last Ready into the core."""
        core = self._core
        for _ in range(batch.ticks):
            core.tick()
        for message in batch.messages:
            core.step(message)
        if batch.proposals:
            try:  # all at once: one append and one APP per follower for the whole batch
                core.propose_all([data for data, _ in batch.proposals])
            except ProposalDropped:
                for _, waiter in batch.proposals:
                    fail(waiter, _no_leader())
        for ctx, waiter in batch.reads:
            try:
                core.read_index(ctx)
            except ProposalDropped:
                fail(waiter, _no_leader())

    async def _turn(self, ready: Ready) -> None:
        """One Ready. Committed entries are durable on a quorum already, so they are
        applied (and their requests answered) while this Ready's new entries are being
        written, as etcd does; a snapshot from the leader is made durable first."""
        persist = ready.snapshot is not None or ready.entries or ready.hard_state is not None
        early, late = _split(ready.messages) if persist else ((), ready.messages)
        if early:
            self._send(early)
        if ready.snapshot is None:
            self._apply_committed(ready)
        if persist and not ready.must_sync and ready.snapshot is None:
            # Only a new commit index to record: one small write() with no fsync, cheaper here
            # than a worker thread's round trip. The checkpoint still lets the requests this
            # turn answered go out before the next turn (without it, a busy Ready loop starves
            # the connections: p99 at 64 writers went from 16 ms to 28 ms).
            self._persist(ready)
            await trio.lowlevel.cancel_shielded_checkpoint()
        elif persist:
            # Not cancellable once started: a shutdown waits for the fsync in flight.
            await trio.to_thread.run_sync(self._persist, ready)
        if late:
            self._send(late)
        if ready.snapshot is not None:
            self._install(ready.snapshot)
            self._apply_committed(ready)
        self._after(ready)
        self._core.advance(ready)

    def _send(self, messages: Sequence[Message]) -> None:
        self._stats.sent(messages, trio.current_time())
        self._transport.send(messages)

    def _apply_committed(self, ready: Ready) -> None:
        for entry in ready.committed:
            self._apply(entry.index, entry.term, entry.data)

    def _after(self, ready: Ready) -> None:
        """Read states and role changes: what a Ready says besides the log."""
        for state in ready.read_states:
            self._requests.read_index(state.ctx, state.index)
        self._requests.release(self.applied)
        soft = ready.soft_state
        if soft is not None:
            # A read index asked of the old leader may never be answered: ask the new one.
            if soft.leader:
                self._inbox.read(self._requests.unanswered_reads())
            self._stats.soft_state_changed(soft, time.time_ns())
            self.role_changed.set()
            self.role_changed = trio.Event()
            self._log.info("raft.role", role=soft.role.name, leader=f"{soft.leader:x}", term=self._core.term)

    def _persist(self, ready: Ready) -> None:
        if ready.snapshot is not None:
            self._storage.save_snapshot(ready.snapshot)
        if ready.entries or ready.hard_state is not None:
            self._storage.append(list(ready.entries), ready.hard_state)
        if ready.must_sync:
            self._storage.sync()

    def _install(self, snapshot: Snapshot) -> None:
        self._machine.load(snapshot.data)
        self.applied = self.snapshot_index = snapshot.index
        self.applied_term = snapshot.term
        self._log.info("snapshot_installed", index=snapshot.index, term=snapshot.term)
        self._membership_changed((), snapshot.index)

    def _membership_changed(self, changes: Sequence[Change], index: int) -> None:
        membership = self._machine.membership
        self._core.set_membership(membership.voters, membership.learners)
        self._members.changed(membership, changes, index)

    def _apply(self, index: int, term: int, data: bytes) -> None:
        outcome = self._machine.apply(data)
        self.applied, self.applied_term = index, term
        changes = self._machine.take_changes()
        if changes:
            self._snapshot_now = self._snapshot_now or any(c.action is ChangeAction.ADD for c in changes)
            self._membership_changed(changes, index)
        if outcome is not None:
            self._requests.resolve(*outcome)

    async def _snapshot(self) -> None:
        self._snapshot_now = False
        snapshot = Snapshot(self.applied, self.applied_term, self._machine.dump())
        await trio.to_thread.run_sync(self._storage.save_snapshot, snapshot)
        self._core.compact(snapshot)
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


def _no_leader() -> V2Error:
    """What a request the core dropped gets (no leader known, or a transfer under way)."""
    return V2Error(ErrorCode.RAFT_INTERNAL, "etcdserver: no leader")
