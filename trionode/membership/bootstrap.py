"""Who a new member starts with: the static --initial-cluster, a discovery URL, or the
running cluster it joins (--initial-cluster-state existing after a `member add`, or etcd
0.4's -peers, which adds itself). Decided once, when the data dir is new, and recorded in
it (storage/datadir.py "bootstrap"): a restart replays the log from that same membership
whatever the flags or the discovery service say by then.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config.errors import ConfigError
from ..config.flags import Config
from ..gocompat.url import clean_path
from ..storage import member_id_for
from ..storage.files import ensure_dir, write_atomic
from ..telemetry.logger import Logger
from .discovery import discover
from .join import fetch_cluster, self_join
from .members import Member

__all__ = ["Bootstrap", "plan", "recorded", "cluster_token"]


@dataclass(frozen=True, slots=True)
class Bootstrap:
    members: tuple[Member, ...]
    #: True for a member added at run time: it waits, without a vote, for the leader's snapshot
    joined: bool = False
    #: (member id, cluster id) given by the cluster; None = derived from name and token
    ids: tuple[int, int] | None = None

    def record(self) -> dict:
        return {"members": [[m.id, m.name, list(m.peer_urls)] for m in self.members], "joined": self.joined}


def cluster_token(config: Config) -> str:
    """A discovery URL names one cluster: it is the token, as in etcd, in one spelling
    (case of scheme and host, a trailing slash): every member derives ids from it."""
    if not config.discovery:
        return config.initial_cluster_token
    parts = urlsplit(config.discovery)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), clean_path(parts.path or "/"), "", ""))


def recorded(record: dict | None, config: Config) -> Bootstrap:
    """The bootstrap a data dir recorded (data dirs older than the record: the flags')."""
    if record is None:
        return Bootstrap(tuple(static_members(config, cluster_token(config))))
    members = tuple(Member(i, name, tuple(urls)) for i, name, urls in record["members"])
    return Bootstrap(members, bool(record["joined"]))


async def plan(config: Config, log: Logger, peer_tls: ssl.SSLContext | None = None) -> Bootstrap:
    """The membership a brand-new member starts with; `peer_tls` dials https peers."""
    token = cluster_token(config)
    own = [str(u) for u in config.initial_advertise_peer_urls]
    if config.initial_cluster_state == "existing":
        asked = [str(u) for _, u in config.initial_cluster if str(u) not in own] or list(config.peers)
        if not asked:
            raise ConfigError("--initial-cluster-state existing: --initial-cluster must name the "
                              "running members to join")
        joined = await fetch_cluster(asked, own, log, peer_tls)
        return Bootstrap(joined.members, True, (joined.member_id, joined.cluster_id))
    if config.peers:
        joined = await self_join([p for p in config.peers if p not in own], own, log, peer_tls)
        return Bootstrap(joined.members, True, (joined.member_id, joined.cluster_id))
    if config.discovery:
        # A member stopped while it waited for its peers is resumed, not refused as a
        # reuse of the token: this mark in its data dir says it registered already.
        mark = config.data_dir / "member" / "discovering"
        resuming = mark.exists() and mark.read_text() == token
        ensure_dir(mark.parent)
        write_atomic(mark, [token.encode()])
        pairs = await discover(config.discovery, config.name, own, log,
                               member_id=member_id_for(config.name, token), resuming=resuming)
        return Bootstrap(tuple(_members(pairs, token)))
    return Bootstrap(tuple(static_members(config, token)))


def static_members(config: Config, token: str) -> list[Member]:
    """--initial-cluster as members; ids from name and token, the same on every member."""
    members = _members(((name, str(url)) for name, url in config.initial_cluster), token)
    if all(m.name != config.name for m in members):
        raise ConfigError(f'couldn\'t find local name "{config.name}" in the initial cluster configuration')
    return members


def _members(pairs: Any, token: str) -> list[Member]:
    urls: dict[str, list[str]] = {}
    for name, url in pairs:
        urls.setdefault(name, []).append(url)
    return [Member(member_id_for(name, token), name, tuple(peer_urls)) for name, peer_urls in urls.items()]
