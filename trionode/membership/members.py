"""Cluster membership as replicated state. Pure.

Members come from the static bootstrap (--initial-cluster: name and peer URLs), from
discovery, or from a runtime change (a MEMBER entry: add, remove, promote, demote,
update). Each member, once it runs, publishes its name and client URLs through the log, as
etcd does with its `attributes` write, so every member can answer /v2/members with
everyone's client URLs. A `learner` is a 0.4 standby: it follows the log without a vote.

Changes are checked when they are applied, not only when they are asked for: two requests
racing through different members are decided by log order, the same way on every member.
Removed ids are remembered so that a removed member cannot come back under its old id.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..store.commands import Command, Op
from .errors import MemberError

__all__ = ["Member", "Membership", "Change", "ChangeAction", "publish_command", "change_command"]


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...] = ()
    learner: bool = False


class ChangeAction(enum.Enum):
    ADD = "add"
    REMOVE = "remove"
    PROMOTE = "promote"  # standby -> voter
    DEMOTE = "demote"  # voter -> standby (activeSize lowered)
    UPDATE = "update"  # new peer URLs


@dataclass(frozen=True, slots=True)
class Change:
    """What one applied MEMBER entry did: the member as it was before (REMOVE) or after."""

    action: ChangeAction
    member: Member


def publish_command(member_id: int, name: str, client_urls: Iterable[str],
                    cluster_config: str | None = None) -> Command:
    """The log entry that makes a member's name and client URLs known to all. It also
    carries the member's cluster config (activeSize...) as JSON: the first member to
    publish sets it, as 0.4's first peer did (see server/statemachine.py)."""
    attributes: dict[str, object] = {"name": name, "clientURLs": list(client_urls)}
    if cluster_config is not None:
        attributes["clusterConfig"] = cluster_config
    return Command(Op.PUBLISH, f"/{member_id:x}", json.dumps(attributes, separators=(",", ":")))


def change_command(action: ChangeAction, member_id: int, peer_urls: Iterable[str] = (),
                   learner: bool = False) -> Command:
    body: dict[str, object] = {"action": action.value}
    if action in (ChangeAction.ADD, ChangeAction.UPDATE):
        body["peerURLs"] = list(peer_urls)
    if action is ChangeAction.ADD:
        body["learner"] = learner
    return Command(Op.MEMBER, f"/{member_id:x}", json.dumps(body, separators=(",", ":")))


class Membership:
    def __init__(self, cluster_id: int, members: Iterable[Member]) -> None:
        self.cluster_id = cluster_id
        self._members = {m.id: m for m in members}
        self.removed: set[int] = set()

    @property
    def members(self) -> list[Member]:
        return sorted(self._members.values(), key=lambda m: m.id)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(sorted(self._members))

    @property
    def voters(self) -> tuple[int, ...]:
        return tuple(sorted(i for i, m in self._members.items() if not m.learner))

    @property
    def learners(self) -> tuple[int, ...]:
        return tuple(sorted(i for i, m in self._members.items() if m.learner))

    def get(self, member_id: int) -> Member | None:
        return self._members.get(member_id)

    def publish(self, command: Command) -> Member | None:
        """Apply a PUBLISH; the member as published, or None for one we do not know (it
        was removed)."""
        member_id = int(command.key[1:], 16)
        attributes = json.loads(command.value)
        member = self._members.get(member_id)
        if member is None:
            return None
        member = replace(member, name=attributes["name"], client_urls=tuple(attributes["clientURLs"]))
        self._members[member_id] = member
        return member

    def change(self, command: Command) -> Change:
        """Apply a MEMBER entry; MemberError (etcd's status and text) if it cannot be done."""
        member_id = int(command.key[1:], 16)
        body = json.loads(command.value)
        action = ChangeAction(body["action"])
        if action is ChangeAction.ADD:
            return self._add(member_id, tuple(body["peerURLs"]), bool(body.get("learner")))
        member = self.existing(member_id)
        if action in (ChangeAction.REMOVE, ChangeAction.DEMOTE) and self.voters == (member_id,):
            # etcd answers 500 too; a cluster without a voter could never commit again
            raise MemberError(500, f"membership: {member_id:x} is the last voting member")
        if action is ChangeAction.REMOVE:
            del self._members[member_id]
            self.removed.add(member_id)
        elif action is ChangeAction.UPDATE:
            urls = tuple(body["peerURLs"])
            self.check_urls(urls, exclude=member_id)
            member = self._members[member_id] = replace(member, peer_urls=urls)
        elif member.learner == (action is ChangeAction.PROMOTE):
            self._members[member_id] = member = replace(member, learner=action is ChangeAction.DEMOTE)
        else:
            state = "a standby" if member.learner else "a voting member"
            raise MemberError(409, f"membership: member {member_id:x} is already {state}")
        return Change(action, member)

    def _add(self, member_id: int, urls: tuple[str, ...], learner: bool) -> Change:
        if member_id in self.removed:
            raise MemberError(409, "membership: ID removed")
        if member_id in self._members:
            raise MemberError(409, "membership: ID exists")
        self.check_urls(urls, exclude=0)
        member = self._members[member_id] = Member(member_id, "", urls, (), learner)
        return Change(ChangeAction.ADD, member)

    def existing(self, member_id: int) -> Member:
        """The member, or MemberError 404 (never was one) or 410 (removed)."""
        member = self._members.get(member_id)
        if member is not None:
            return member
        if member_id in self.removed:
            raise MemberError(410, f"Member permanently removed: {member_id:x}")
        raise MemberError(404, f"No such member: {member_id:x}")

    def check_urls(self, urls: Iterable[str], exclude: int) -> None:
        """MemberError 409 if another member than `exclude` has one of `urls`."""
        taken = {u for m in self._members.values() if m.id != exclude for u in m.peer_urls}
        if taken.intersection(urls):
            raise MemberError(409, "membership: peerURL exists")

    def dump(self) -> bytes:
        members = [[m.id, m.name, list(m.peer_urls), list(m.client_urls), m.learner] for m in self.members]
        return json.dumps({"members": members, "removed": sorted(self.removed)},
                          separators=(",", ":")).encode()

    def load(self, data: bytes) -> None:
        state = json.loads(data)
        if isinstance(state, list):  # snapshots written before runtime membership
            state = {"members": state, "removed": []}
        self._members = {row[0]: Member(row[0], row[1], tuple(row[2]), tuple(row[3]),
                                        bool(row[4]) if len(row) > 4 else False)
                         for row in state["members"]}
        self.removed = set(state["removed"])
