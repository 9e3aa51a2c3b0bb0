"""What the edges feed the Ready loop: peer messages, ticks, proposals and read requests.

Inputs wait here until the loop is between two Readys: the core is only ever stepped
outside a Ready (step*, ready, persist/send/apply, advance, step*, ...). Every input sets
one event, so the loop wakes once for whatever arrived meanwhile and one Ready carries
all of it. The peer transport delivers here, so the replica need not exist before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import trio

from ..raft import Message, MsgType
from .requests import Waiter

__all__ = ["Batch", "Inbox", "Observer", "tick_forever"]


class Observer(Protocol):
    """Who sees every message as it arrives (the stats sink)."""

    def received(self, message: Message, now: float) -> None: ...

    def unreachable(self, peer: int) -> None: ...


@dataclass(slots=True)
class Batch:
    """Everything that arrived since the last Ready, in the order it is stepped."""

    ticks: int = 0
    messages: list[Message] = field(default_factory=list)
    proposals: list[tuple[bytes, Waiter]] = field(default_factory=list)
    reads: list[tuple[bytes, Waiter]] = field(default_factory=list)


class Inbox:
    __slots__ = ("member_id", "_observer", "_batch", "_work")

    def __init__(self, member_id: int, observer: Observer) -> None:
        self.member_id = member_id
        self._observer = observer
        self._batch = Batch()
        self._work = trio.Event()

    # --- the peer transport

    def deliver(self, message: Message) -> None:
        self._observer.received(message, trio.current_time())
        self._batch.messages.append(message)
        self._work.set()

    def report_unreachable(self, peer: int) -> None:
        self._observer.unreachable(peer)
        self.deliver(Message(MsgType.UNREACHABLE, to=self.member_id, frm=peer))

    def report_snapshot(self, peer: int, ok: bool) -> None:
        self.deliver(Message(MsgType.SNAP_STATUS, to=self.member_id, frm=peer, reject=not ok))

    # --- the node

    def tick(self, count: int = 1) -> None:
        """`count` ticks of the core's logical clock (more than one: etcd's advanceTicks)."""
        self._batch.ticks += count
        self._work.set()

    def campaign(self) -> None:
        """Start an election now (a member alone has no one to wait for)."""
        self._local(Message(MsgType.HUP, to=self.member_id, frm=self.member_id))

    def transfer_leadership(self, to: int) -> None:
        self._local(Message(MsgType.TRANSFER_LEADER, to=self.member_id, frm=to))

    def _local(self, message: Message) -> None:
        self._batch.messages.append(message)
        self._work.set()

    # --- the replica

    def propose(self, data: bytes, waiter: Waiter) -> None:
        self._batch.proposals.append((data, waiter))
        self._work.set()

    def read(self, reads: list[tuple[bytes, Waiter]]) -> None:
        if reads:
            self._batch.reads.extend(reads)
            self._work.set()

    async def wait(self) -> None:
        """Until something arrived, then until every task that is ready to run (requests
        whose bytes arrived, peer readers) has queued its input too."""
        await self._work.wait()
        await trio.lowlevel.cancel_shielded_checkpoint()
        self._work = trio.Event()

    def take(self) -> Batch:
        batch, self._batch = self._batch, Batch()
        return batch


async def tick_forever(inbox: Inbox, interval: float) -> None:
    """The core's logical clock: one tick per heartbeat interval."""
    deadline = trio.current_time()
    while True:
        deadline += interval
        await trio.sleep_until(deadline)
        if trio.current_time() - deadline > 5 * interval:
            deadline = trio.current_time()  # we were starved; do not burst ticks to catch up
        inbox.tick()
