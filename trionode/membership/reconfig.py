"""Membership requests as a member carries them out: through the log, one at a time.

The checks are made twice: here, against what this member has applied, to answer at once
with etcd's error; and again when the entry is applied (members.py), where log order
decides between requests that raced through different members.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from ..storage import added_member_id
from ..store import Event, Store
from ..store.commands import Command, Op
from ..v2 import V2Error
from .clusterconfig import CONFIG_KEY, ClusterConfig
from .errors import MemberError
from .members import ChangeAction, Member, Membership, change_command

__all__ = ["Proposer", "Reconfig"]


class Proposer(Protocol):
    """What reconfiguring needs of the replica."""

    @property
    def store(self) -> Store: ...

    @property
    def membership(self) -> Membership: ...

    @property
    def applied(self) -> int: ...

    async def propose(self, command: Command) -> list[Event]: ...


class Reconfig:
    """What the members API and the peer-port admin API ask of the node."""

    def __init__(self, replica: Proposer, cluster_token: str, default_config: ClusterConfig) -> None:
        self._replica = replica
        self._token = cluster_token
        self._default = default_config

    @property
    def membership(self) -> Membership:
        return self._replica.membership

    @property
    def default_config(self) -> ClusterConfig:
        """This member's flags: what it publishes for a cluster that has no config yet."""
        return self._default

    def cluster_config(self) -> ClusterConfig:
        text = self._replica.store.value_of(CONFIG_KEY)
        return ClusterConfig.from_json(text) if text is not None else self._default

    async def set_cluster_config(self, config: ClusterConfig) -> ClusterConfig:
        await self._replica.propose(Command(Op.SET, CONFIG_KEY, config.to_json()))
        return self.cluster_config()

    async def add_member(self, peer_urls: Sequence[str]) -> Member:
        """A new voter, or a standby once activeSize voters exist (0.4, v2-spec §5.3)."""
        membership = self.membership
        membership.check_urls(peer_urls, exclude=0)
        member_id = added_member_id(peer_urls, self._token, int(time.time()))
        learner = len(membership.voters) >= self.cluster_config().active_size
        await self._change(change_command(ChangeAction.ADD, member_id, peer_urls, learner))
        return self.membership.get(member_id) or Member(member_id, "", tuple(peer_urls), (), learner)

    async def update_member(self, member_id: int, peer_urls: Sequence[str]) -> None:
        self.membership.existing(member_id)
        self.membership.check_urls(peer_urls, exclude=member_id)
        await self._change(change_command(ChangeAction.UPDATE, member_id, peer_urls))

    async def remove_member(self, member_id: int) -> int:
        """Returns the index this member had applied when the removal was (at or after it)."""
        self.membership.existing(member_id)
        await self._change(change_command(ChangeAction.REMOVE, member_id))
        return self._replica.applied

    async def promote(self, member_id: int) -> None:
        await self._change(change_command(ChangeAction.PROMOTE, member_id))

    async def demote(self, member_id: int) -> None:
        await self._change(change_command(ChangeAction.DEMOTE, member_id))

    async def _change(self, command: Command) -> None:
        try:
            await self._replica.propose(command)
        except V2Error as exc:  # no leader, or it timed out
            raise MemberError(500, exc.message) from None
