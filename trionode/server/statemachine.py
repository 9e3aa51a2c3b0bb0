"""The replicated state machine: what applying a committed log entry does. Pure.

The key space (store/) and the membership (membership/members.py) together; a snapshot holds both:

    u32 length of the store dump (big endian) | Store.dump() | Membership.dump()

Membership is mirrored into the key space the way etcd 0.4 did it (v2-spec §5.1): every
started member has a hidden key /_etcd/machines/<name> = "etcd=<client URL>&raft=<peer
URL>", written when it publishes and deleted when it is removed; and /_etcd/config holds
the cluster config (activeSize, removeDelay, syncInterval), created by the first member to
publish from its flags. These are ordinary store writes (indexed, watchable), made by the
apply itself, so every member makes them alike, and before any member serves a client.
"""

from __future__ import annotations

import json
import struct
from urllib.parse import quote_plus

from ..membership.clusterconfig import CONFIG_KEY
from ..membership.errors import MemberError
from ..membership.members import Change, ChangeAction, Member, Membership
from ..store import Event, Store
from ..store.commands import Command, Op
from ..v2.errors import V2Error
from .payload import unpack

__all__ = ["Outcome", "StateMachine", "MACHINES_DIR"]

_LEN = struct.Struct(">I")
MACHINES_DIR = "/_etcd/machines"

#: what applying one entry gave: its request id and the store's events, or its error
Outcome = tuple[int, list[Event] | V2Error | MemberError]


class StateMachine:
    __slots__ = ("store", "membership", "history_size", "_changes")

    def __init__(self, store: Store, membership: Membership, history_size: int) -> None:
        self.store = store
        self.membership = membership
        self.history_size = history_size
        self._changes: list[Change] = []  # applied since the last take_changes()

    def apply(self, data: bytes) -> Outcome | None:
        """Apply one entry's payload; None for a leader's empty no-op entry."""
        if not data:
            return None
        request_id, command = unpack(data)
        op = command.op
        try:
            if op is Op.PUBLISH:
                self._publish(command)
                return request_id, []
            if op is Op.MEMBER:
                self._change(command)
                return request_id, []
            if op is Op.REFUSED:
                return request_id, MemberError(
                    500, "membership: another membership change is still being applied; try again")
            return request_id, self.store.apply(command)
        except (V2Error, MemberError) as exc:
            return request_id, exc

    def _publish(self, command: Command) -> None:
        before = self.membership.get(int(command.key[1:], 16))
        member = self.membership.publish(command)
        if member is None:
            return
        if before is not None and before.name and before.name != member.name:
            self._forget(before)
        key, value = f"{MACHINES_DIR}/{member.name}", machine_value(member)
        if member.name and self.store.value_of(key) != value:  # a restart changes nothing
            self.store.apply(Command(Op.SET, key, value))
        config = json.loads(command.value).get("clusterConfig")
        if config is not None and self.store.value_of(CONFIG_KEY) is None:
            self.store.apply(Command(Op.SET, CONFIG_KEY, config))

    def _change(self, command: Command) -> None:
        change = self.membership.change(command)
        self._changes.append(change)
        if change.action is ChangeAction.REMOVE:
            self._forget(change.member)
        elif change.action is ChangeAction.UPDATE and change.member.name:
            self.store.apply(Command(Op.SET, f"{MACHINES_DIR}/{change.member.name}",
                                     machine_value(change.member)))

    def _forget(self, member: Member) -> None:
        if not member.name:
            return
        try:
            self.store.apply(Command(Op.DELETE, f"{MACHINES_DIR}/{member.name}"))
        except V2Error:
            pass  # someone deleted it by hand; the member is gone all the same

    def take_changes(self) -> list[Change]:
        """The membership changes applied since the last call (the replica acts on them)."""
        changes, self._changes = self._changes, []
        return changes

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


def machine_value(member: Member) -> str:
    """etcd 0.4's registry value: form-encoded, keys sorted, Go's QueryEscape."""
    client = member.client_urls[0] if member.client_urls else ""
    raft = member.peer_urls[0] if member.peer_urls else ""
    return f"etcd={quote_plus(client, safe='')}&raft={quote_plus(raft, safe='')}"
