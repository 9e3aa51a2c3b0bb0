"""ReadIndex bookkeeping on the leader (thesis §6.4).

Each read request is remembered with the commit index at the time it arrived; a heartbeat
round carries the request's ctx, and once a majority acknowledged it the leader knows it
was still the leader when the read arrived, so the read may be served at that index.
Requests are confirmed in arrival order: an ack for a later round also confirms every
earlier one, because the later round started after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PendingRead", "ReadOnly"]


@dataclass(slots=True)
class PendingRead:
    index: int  # the leader's commit index when the request arrived
    frm: int  # who asked (the leader itself for a local read)
    ctx: bytes
    acks: set[int] = field(default_factory=set)


class ReadOnly:
    __slots__ = ("_pending", "_order")

    def __init__(self) -> None:
        self._pending: dict[bytes, PendingRead] = {}
        self._order: list[bytes] = []

    def __len__(self) -> int:
        return len(self._order)

    def add(self, index: int, frm: int, ctx: bytes) -> bool:
        """Queue a request; False if one with this ctx is already waiting."""
        if ctx in self._pending:
            return False
        self._pending[ctx] = PendingRead(index, frm, ctx)
        self._order.append(ctx)
        return True

    def ack(self, frm: int, ctx: bytes) -> set[int] | None:
        """Record that `frm` answered the round for `ctx`; the acks so far, or None if the
        ctx is not (or no longer) pending."""
        pending = self._pending.get(ctx)
        if pending is None:
            return None
        pending.acks.add(frm)
        return pending.acks

    def confirm(self, ctx: bytes) -> list[PendingRead]:
        """`ctx`'s round reached a quorum: release it and every request queued before it."""
        if ctx not in self._pending:
            return []
        upto = self._order.index(ctx) + 1
        released = [self._pending.pop(c) for c in self._order[:upto]]
        del self._order[:upto]
        return released

    def rounds(self) -> list[tuple[bytes, set[int]]]:
        """Every pending round, oldest first, with the members that acknowledged it."""
        return [(ctx, self._pending[ctx].acks) for ctx in self._order]

    def last_ctx(self) -> bytes | None:
        return self._order[-1] if self._order else None
