"""Joining a running cluster: learn our member id and the members from a peer.

A member added at run time (`POST /v2/members`, `trionodectl member add`) was given an id
by the member that took the request. The new member starts with --initial-cluster-state
existing and an --initial-cluster naming the running members; it asks their peer ports
(`GET /members`, answered by http/admin.py) for the member list, finds itself by its
advertised peer URLs, and takes the cluster id from the X-Etcd-Cluster-Id header, as an
etcd member does. Then it starts with an empty log and is sent a snapshot.

etcd 0.4's `-peers` needs no `member add` first: the member asks to be added itself
(`POST /v2/members` on a member's client URL, learned from the same list), then joins the
same way. Beyond activeSize it is added as a standby, where 0.4 made it one too.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio

from ..client import Client, ClientError
from ..client.connection import TransportError, open_connection
from ..config.errors import ConfigError
from ..telemetry.logger import Logger
from .members import Member

__all__ = ["Joined", "JoinError", "fetch_cluster", "self_join", "removed_by_peers"]

#: how long one peer gets to answer before we try the next
_PEER_TIMEOUT = 5.0


class JoinError(ConfigError):
    """The running cluster cannot be reached, or does not list this member."""


@dataclass(frozen=True, slots=True)
class Joined:
    member_id: int
    cluster_id: int
    members: tuple[Member, ...]


async def fetch_cluster(peer_urls: Sequence[str], own_peer_urls: Sequence[str], log: Logger,
                        tls: ssl.SSLContext | None = None) -> Joined:
    """The cluster as the first peer that answers lists it; we must be in it, unstarted.
    `tls` (the peer port's client context) dials https peer URLs."""
    url, cluster_id, members = await _first_answer(peer_urls, log, tls)
    me = _find(members, own_peer_urls)
    if me is None:
        raise JoinError(
            f"this member ({','.join(own_peer_urls)}) is not a member of the cluster at {url}: "
            "add it first with 'trionodectl member add <name> <peer URL>'")
    return Joined(me.id, cluster_id, tuple(members))


async def self_join(peer_urls: Sequence[str], own_peer_urls: Sequence[str], log: Logger,
                    tls: ssl.SSLContext | None = None) -> Joined:
    """0.4's -peers: add ourselves unless already added, then join. The addition goes to
    the members' client URLs; when those are https, with the peer port's certificate and
    trust (`tls`), as 0.4's joins did everything with the peer certificate."""
    url, cluster_id, members = await _first_answer(peer_urls, log, tls)
    me = _find(members, own_peer_urls)
    if me is not None:
        return Joined(me.id, cluster_id, tuple(members))
    endpoints = [u for m in members for u in m.client_urls]
    if not endpoints:
        raise JoinError(f"the cluster at {url} lists no client URL to ask for our addition")
    async with Client(endpoints, ssl_context=tls) as client:
        try:
            added = await client.add_member(own_peer_urls[0])
        except (ClientError, ValueError) as exc:
            raise JoinError(f"could not add this member to the cluster at {url}: {exc}") from None
    log.info("join.added", member=added.id, via=",".join(endpoints))
    member = Member(int(added.id, 16), "", tuple(added.peer_urls))
    return Joined(member.id, cluster_id, (*members, member))


def _find(members: Sequence[Member], own_peer_urls: Sequence[str]) -> Member | None:
    me = next((m for m in members if set(m.peer_urls) == set(own_peer_urls)), None)
    if me is not None and me.name:
        raise JoinError(f"member {me.id:x} ({','.join(own_peer_urls)}) has already started as "
                        f"{me.name!r}: a new member needs its own peer URL")
    return me


async def _first_answer(peer_urls: Sequence[str], log: Logger,
                        tls: ssl.SSLContext | None) -> tuple[str, int, list[Member]]:
    """Ask each peer URL in turn for the member list; the first good answer wins."""
    reasons = []
    for url in peer_urls:
        try:
            with trio.fail_after(_PEER_TIMEOUT):
                return (url, *await _get_members(url, tls))
        except (OSError, TransportError, trio.TooSlowError, ValueError, KeyError, TypeError) as exc:
            reasons.append(f"{url}: {exc or type(exc).__name__}")
            log.warning("join.peer_failed", peer=url, error=str(exc) or type(exc).__name__)
    raise JoinError("could not get the member list from any peer: " + "; ".join(reasons))


async def removed_by_peers(peer_urls: Sequence[str], member_id: int, cluster_id: int, log: Logger,
                           tls: ssl.SSLContext | None = None) -> bool:
    """Whether a peer of our cluster says we were removed (410). Peers that do not know of
    us yet (404), or do not answer, prove nothing: only a removal applied by one does."""
    for url in peer_urls:
        try:
            with trio.fail_after(_PEER_TIMEOUT):
                status, headers, _ = await _get(url, f"/members/{member_id:x}", tls)
        except (OSError, TransportError, trio.TooSlowError) as exc:
            log.debug("join.peer_failed", peer=url, error=str(exc) or type(exc).__name__)
            continue
        if status == 410 and headers.get("x-etcd-cluster-id") == f"{cluster_id:x}":
            return True
    return False


async def _get(url: str, path: str, tls: ssl.SSLContext | None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    if secure and tls is None:
        raise TransportError(f"{url}: an https peer URL, and this member has no peer TLS settings")
    conn = await open_connection(parts.hostname or "", parts.port or (443 if secure else 80),
                                 ssl_context=tls if secure else None)
    try:
        await conn.send("GET", path, parts.netloc, None, None)
        head = await conn.read_head()
        return head.status, head.headers, await conn.read_body()
    finally:
        conn.close()


async def _get_members(url: str, tls: ssl.SSLContext | None) -> tuple[int, list[Member]]:
    status, headers, body = await _get(url, "/members", tls)
    if status != 200:
        raise ValueError(f"GET /members answered {status}")
    cluster_id = int(headers["x-etcd-cluster-id"], 16)
    members = [Member(int(m["id"], 16), m["name"], tuple(m["peerURLs"]), tuple(m["clientURLs"] or ()))
               for m in json.loads(body)]
    return cluster_id, members
