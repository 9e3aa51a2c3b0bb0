"""The replicated state machine: what applying a committed log entry does. Pure.

The key space (store/) and the membership (cluster.py) together; a snapshot holds both:

    u32 length of the store dump (big endian) | Store.dump() | Membership.dump()
"""

from __future__ import annotations

import struct

from .cluster import Membership
from .commands import Op
from .errors import EtcdError
from .payload import unpack
from .store import Event, Store

__all__ = ["Outcome", "StateMachine"]

_LEN = struct.Struct(">I")

#: what applying one entry gave: its request id and the store's events, or its error
Outcome = tuple[int, list[Event] | EtcdError]


class StateMachine:
    __slots__ = ("store", "membership", "history_size")

    def __init__(self, store: Store, membership: Membership, history_size: int) -> None:
        self.store = store
        self.membership = membership
        self.history_size = history_size

    def apply(self, data: bytes) -> Outcome | None:
        """Apply one entry's payload; None for a leader's empty no-op entry."""
        if not data:
            return None
        request_id, command = unpack(data)
        if command.op is Op.PUBLISH:
            self.membership.apply(command)
            return request_id, []
        try:
            return request_id, self.store.apply(command)
        except EtcdError as exc:
            return request_id, exc

    def dump(self) -> bytes:
        tree = self.store.dump()
        return _LEN.pack(len(tree)) + tree + self.membership.dump()

    def load(self, data: bytes) -> None:
        """Replace everything with a snapshot's state (restart, or one sent by the leader).

        Watchers of the old store are closed, not carried over: etcd drops them too
        when it recovers from a snapshot, and their clients see the long poll end.
        """
        (length,) = _LEN.unpack_from(data)
        self.store.close_watchers()
        self.store = Store.load(data[_LEN.size : _LEN.size + length], self.history_size)
        self.membership.load(data[_LEN.size + length :])
