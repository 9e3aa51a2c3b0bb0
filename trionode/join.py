"""Joining a running cluster: learn our member id and the members from a peer.

A member added at run time (`POST /v2/members`, `trionodectl member add`) was given an id
by the member that took the request. The new member starts with --initial-cluster-state
existing and an --initial-cluster naming the running members; it asks their peer ports
(`GET /members`, answered by http/admin.py) for the member list, finds itself by its
advertised peer URLs, and takes the cluster id from the X-Etcd-Cluster-Id header, as an
etcd member does. Then it starts with an empty log and is sent a snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import trio

from .client.connection import Connection, TransportError, dial
from .cluster import Member
from .errors import ConfigError

__all__ = ["Joined", "JoinError", "fetch_cluster"]

#: how long one peer gets to answer before we try the next
_PEER_TIMEOUT = 5.0


class JoinError(ConfigError):
    """The running cluster cannot be reached, or does not list this member."""


@dataclass(frozen=True, slots=True)
class Joined:
    member_id: int
    cluster_id: int
    members: tuple[Member, ...]


async def fetch_cluster(peer_urls: Sequence[str], own_peer_urls: Sequence[str], log: Any) -> Joined:
    """Ask each peer URL in turn; the first good answer wins."""
    reasons = []
    for url in peer_urls:
        try:
            with trio.fail_after(_PEER_TIMEOUT):
                cluster_id, members = await _get_members(url)
        except (OSError, TransportError, trio.TooSlowError, ValueError, KeyError, TypeError) as exc:
            reasons.append(f"{url}: {exc or type(exc).__name__}")
            log.warning("join.peer_failed", peer=url, error=str(exc) or type(exc).__name__)
            continue
        me = [m for m in members if set(m.peer_urls) == set(own_peer_urls)]
        if not me:
            raise JoinError(
                f"this member ({','.join(own_peer_urls)}) is not a member of the cluster at {url}: "
                "add it first with 'trionodectl member add <name> <peer URL>'")
        if me[0].name:
            raise JoinError(f"member {me[0].id:x} ({','.join(own_peer_urls)}) has already started as "
                            f"{me[0].name!r}: a new member needs its own peer URL")
        return Joined(me[0].id, cluster_id, tuple(members))
    raise JoinError("could not get the member list from any peer of --initial-cluster: "
                    + "; ".join(reasons))


async def _get_members(url: str) -> tuple[int, list[Member]]:
    parts = urlsplit(url)
    stream = await dial(parts.hostname or "", parts.port or 80)
    conn = Connection(stream)
    try:
        await conn.send("GET", "/members", parts.netloc, None, None)
        head = await conn.read_head()
        body = await conn.read_body()
    finally:
        conn.close()
    if head.status != 200:
        raise ValueError(f"GET /members answered {head.status}")
    cluster_id = int(head.headers["x-etcd-cluster-id"], 16)
    members = [Member(int(m["id"], 16), m["name"], tuple(m["peerURLs"]), tuple(m["clientURLs"] or ()))
               for m in json.loads(body)]
    return cluster_id, members
