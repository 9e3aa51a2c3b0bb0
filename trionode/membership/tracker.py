"""Keeping this member in step with the applied membership: the peer transport's address
book follows every change, and a member that sees its own removal stops.

A member removed while it was down or cut off never applies its removal (the others no
longer talk to it), so after a while without a leader it asks them (join.removed_by_peers).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Protocol

import trio

from ..config.errors import ConfigError
from ..config.values import Url
from ..telemetry.logger import Logger
from .join import removed_by_peers
from .members import Change, Membership

__all__ = ["LeaderView", "MembershipTracker", "PeerBook", "peer_addresses"]

Address = tuple[str, int]


class PeerBook(Protocol):
    """The peer transport's address book."""

    def set_peers(self, peers: dict[int, Address]) -> None: ...


class LeaderView(Protocol):
    """What the removal tasks read of the replica."""

    @property
    def is_leader(self) -> bool: ...

    @property
    def leader_id(self) -> int: ...

    @property
    def role_changed(self) -> trio.Event: ...


def peer_addresses(membership: Membership, me: int, log: Logger) -> dict[int, Address]:
    """Every other member's first peer URL as (host, port)."""
    found = {}
    for member in membership.members:
        if member.id == me or not member.peer_urls:
            continue
        try:
            url = Url.parse(member.peer_urls[0])
        except ConfigError:  # the members API admits only dialable URLs; never crash on one
            log.error("peer.bad_url", peer=f"{member.id:x}", url=member.peer_urls[0])
            continue
        found[member.id] = (url.host, url.port)
    return found


class MembershipTracker:
    """The replica's MembershipSink."""

    def __init__(self, member_id: int, cluster_id: int, peers: PeerBook, log: Logger,
                 tls: ssl.SSLContext | None = None) -> None:
        self.member_id = member_id
        self.cluster_id = cluster_id
        self._tls = tls  # dials https peer URLs when we ask whether we were removed
        self.removed = trio.Event()
        self._peers = peers
        self._log = log
        self._peer_urls: list[str] = []  # whom to ask whether we were removed

    def changed(self, membership: Membership, changes: Sequence[Change], index: int) -> None:
        for change in changes:
            self._log.info("membership_changed", action=change.action.value,
                           member=f"{change.member.id:x}", index=index)
        self._peers.set_peers(peer_addresses(membership, self.member_id, self._log))
        me = self.member_id
        self._peer_urls = [m.peer_urls[0] for m in membership.members if m.id != me and m.peer_urls]
        if me in membership.removed and not self.removed.is_set():
            self._log.info("member_removed", member=f"{me:x}")
            self.removed.set()

    async def stop_when_removed(self, scope: trio.CancelScope, replica: LeaderView,
                                election_timeout: float, heartbeat: float) -> None:
        """A removed member stops: it has no vote and no one sends it anything any more. A
        removed leader first lets its hand-over (TIMEOUT_NOW, see raft) and last answers go."""
        await self.removed.wait()
        with trio.move_on_after(2 * election_timeout):
            while replica.is_leader:
                await replica.role_changed.wait()
        await trio.sleep(2 * heartbeat)
        self._log.info("stopping", reason="removed from the cluster")
        scope.cancel()

    async def ask_if_removed(self, replica: LeaderView, every: float) -> None:
        """After `every` seconds without a leader, ask the other members whether they
        removed this one (GET /members/<id> on their peer port)."""
        while not self.removed.is_set():
            await trio.sleep(every)
            if replica.leader_id:
                continue
            me = self.member_id
            if await removed_by_peers(self._peer_urls, me, self.cluster_id, self._log, self._tls):
                self._log.warning("member_removed", member=f"{me:x}",
                                  reason="the cluster says it removed this member")
                self.removed.set()
