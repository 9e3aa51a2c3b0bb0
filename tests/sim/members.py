"""Membership in the simulated state machine, as the real node keeps it (trionode/membership/members.py):
change entries are client payloads like any other, so the applied payload list -- and every
snapshot of it -- carries the membership; a node folds it over the first membership.

    b"c<serial> v <id>"   make <id> a voter (adds it, or promotes a learner)
    b"c<serial> l <id>"   add <id> as a learner (ignored for a voter: no demotion)
    b"c<serial> r <id>"   remove <id> (ignored if it would leave no voter)

Each change is idempotent, so a retried proposal applied twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Members", "change", "is_conf", "fold", "apply_change", "is_add"]

Members = tuple[tuple[int, ...], tuple[int, ...]]  # (voters, learners), sorted


def change(serial: int, kind: str, member: int) -> bytes:
    assert kind in ("v", "l", "r")
    return b"c%d %s %d" % (serial, kind.encode(), member)


def is_conf(data: bytes) -> bool:
    """RaftConfig.is_conf_change for the sim (client payloads start with b"p")."""
    return data[:1] == b"c"


def _parse(data: bytes) -> tuple[str, int]:
    _, kind, member = data.split(b" ")
    return kind.decode(), int(member)


def is_add(data: bytes) -> bool:
    """A change that may bring in a member with an empty log (the node snapshots after it)."""
    return is_conf(data) and _parse(data)[0] in ("v", "l")


def apply_change(members: Members, data: bytes) -> Members:
    voters, learners = set(members[0]), set(members[1])
    kind, member = _parse(data)
    if kind == "v":
        voters.add(member)
        learners.discard(member)
    elif kind == "l" and member not in voters:
        learners.add(member)
    elif kind == "r" and voters - {member}:
        voters.discard(member)
        learners.discard(member)
    return tuple(sorted(voters)), tuple(sorted(learners))


def fold(first: Members, payloads: Iterable[bytes]) -> Members:
    members = first
    for data in payloads:
        if is_conf(data):
            members = apply_change(members, data)
    return members
