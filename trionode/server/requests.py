"""The requests this member waits for (etcd's wait.Wait): a proposal until its entry is
applied here, a linearizable read until its read index is known and applied here.

Proposals are found again by request id (payload.py) when their entry is applied,
whichever member proposed them to the leader; reads by the context bytes the core echoes
in a ReadState. No cancel scope per request: one sweep (expire) fails every request that
waited longer than the request timeout.
"""

from __future__ import annotations

import struct

import trio

from ..membership import MemberError
from ..store import Event
from ..v2 import ErrorCode, V2Error
from .payload import RequestIds

__all__ = ["Requests", "Waiter", "fail"]

_CTX = struct.Struct(">Q")
#: the result of a request that waited longer than the request timeout
TIMED_OUT = V2Error(ErrorCode.RAFT_INTERNAL, "etcdserver: request timed out")

Result = list[Event] | V2Error | MemberError


class Waiter:
    __slots__ = ("done", "result", "index", "deadline")

    def __init__(self, deadline: float) -> None:
        self.done = trio.Event()
        self.result: Result | None = None
        self.index = 0  # read waiters: the read index, once known
        self.deadline = deadline

    async def wait(self) -> None:
        await self.done.wait()
        if self.result is TIMED_OUT:  # a fresh copy: one exception object raised in many tasks
            raise V2Error(TIMED_OUT.code, TIMED_OUT.cause)  # would share one traceback


def fail(waiter: Waiter, error: V2Error) -> None:
    waiter.result = error
    waiter.done.set()


class Requests:
    __slots__ = ("_ids", "_timeout", "_proposals", "_reads", "_pending_reads")

    def __init__(self, member_id: int, id_start: int, timeout: float) -> None:
        self._ids = RequestIds(member_id, id_start)
        self._timeout = timeout
        self._proposals: dict[int, Waiter] = {}
        self._reads: dict[bytes, Waiter] = {}
        self._pending_reads: list[Waiter] = []  # index known, waiting for apply

    def proposal(self, now: float) -> tuple[int, Waiter]:
        request_id = self._ids.next()
        waiter = self._proposals[request_id] = Waiter(now + self._timeout)
        return request_id, waiter

    def forget_proposal(self, request_id: int) -> None:
        del self._proposals[request_id]

    def resolve(self, request_id: int, result: Result) -> None:
        """An entry of ours was applied: its request gets the result."""
        waiter = self._proposals.get(request_id)
        if waiter is not None:
            waiter.result = result
            waiter.done.set()

    def read(self, now: float) -> tuple[bytes, Waiter]:
        ctx = _CTX.pack(self._ids.next())
        waiter = self._reads[ctx] = Waiter(now + self._timeout)
        return ctx, waiter

    def forget_read(self, ctx: bytes, waiter: Waiter) -> None:
        self._reads.pop(ctx, None)
        if waiter in self._pending_reads:
            self._pending_reads.remove(waiter)

    def read_index(self, ctx: bytes, index: int) -> None:
        """The core knows the read index of `ctx`: it waits for that index to be applied."""
        waiter = self._reads.pop(ctx, None)
        if waiter is not None:
            waiter.index = index
            self._pending_reads.append(waiter)

    def unanswered_reads(self) -> list[tuple[bytes, Waiter]]:
        """Reads whose index is not known yet: a new leader is asked again (reads are
        idempotent; a late second answer finds no waiter)."""
        return list(self._reads.items())

    def release(self, applied: int) -> None:
        """Answer the reads whose index has been applied."""
        ready = [w for w in self._pending_reads if w.index <= applied]
        if ready:
            self._pending_reads = [w for w in self._pending_reads if w.index > applied]
            for waiter in ready:
                waiter.done.set()

    def expire(self, now: float) -> None:
        """Fail requests whose entry or read index did not come within the request timeout
        (no leader, a partition)."""
        for waiter in [*self._proposals.values(), *self._reads.values(), *self._pending_reads]:
            if waiter.deadline <= now and not waiter.done.is_set():
                fail(waiter, TIMED_OUT)
