"""Cluster membership as replicated state. Pure.

Members come from the static bootstrap (--initial-cluster: name and peer URLs); each
member, once it runs, publishes its client URLs through the log, as etcd does with its
`attributes` write, so that every member can answer /v2/members with everyone's client
URLs (etcdctl syncs its endpoints from that list). Ids are derived from the member name
and the cluster token (see storage/datadir.py), so every member computes the same ids
without talking to the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .commands import Command, Op

__all__ = ["Member", "Membership", "publish_command"]


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...] = ()


def publish_command(member_id: int, name: str, client_urls: Iterable[str]) -> Command:
    """The log entry that makes a member's name and client URLs known to all."""
    attributes = json.dumps({"name": name, "clientURLs": list(client_urls)}, separators=(",", ":"))
    return Command(Op.PUBLISH, f"/{member_id:x}", attributes)


class Membership:
    def __init__(self, cluster_id: int, members: Iterable[Member]) -> None:
        self.cluster_id = cluster_id
        self._members = {m.id: m for m in members}

    @property
    def members(self) -> list[Member]:
        return sorted(self._members.values(), key=lambda m: m.id)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(sorted(self._members))

    def get(self, member_id: int) -> Member | None:
        return self._members.get(member_id)

    def apply(self, command: Command) -> None:
        """Apply a PUBLISH; one for a member we do not know is ignored (it was removed)."""
        member_id = int(command.key[1:], 16)
        attributes = json.loads(command.value)
        member = self._members.get(member_id)
        if member is not None:
            self._members[member_id] = replace(member, name=attributes["name"],
                                               client_urls=tuple(attributes["clientURLs"]))

    def dump(self) -> bytes:
        return json.dumps([[m.id, m.name, list(m.peer_urls), list(m.client_urls)]
                           for m in self.members], separators=(",", ":")).encode()

    def load(self, data: bytes) -> None:
        self._members = {i: Member(i, n, tuple(p), tuple(c)) for i, n, p, c in json.loads(data)}
