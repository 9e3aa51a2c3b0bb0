"""Coarse connection deadlines, checked by one task for all connections.

Moving a trio cancel scope's deadline costs a heap update; a request needs three of
them (idle, request, write), which was a large share of a small GET. Instead each
connection writes a plain float and a single sweeper cancels the scopes whose time has
passed. Deadlines are kept to within `resolution` seconds, which is plenty for timeouts
measured in tens of seconds.
"""

from __future__ import annotations

import math
from typing import NoReturn, Protocol

import trio

__all__ = ["Sweeper", "Timed"]


class Timed(Protocol):
    deadline_at: float
    scope: trio.CancelScope


class Sweeper:
    __slots__ = ("resolution", "now", "_members")

    def __init__(self, resolution: float = 0.25) -> None:
        self.resolution = resolution
        #: trio time as of the last sweep: what deadlines are counted from
        self.now = trio.current_time()
        self._members: set[Timed] = set()

    def add(self, member: Timed) -> None:
        member.deadline_at = math.inf
        self._members.add(member)

    def discard(self, member: Timed) -> None:
        self._members.discard(member)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> NoReturn:
        task_status.started()
        while True:
            await trio.sleep(self.resolution)
            self.sweep()

    def sweep(self) -> None:
        now = self.now = trio.current_time()
        for member in [m for m in self._members if m.deadline_at <= now]:
            member.scope.cancel()
