"""The small read-only endpoints: /version, /health, /v2/stats/*, /v2/members, /v2/machines.

Shapes and content types are etcd 3.4's (v2-spec §4), checked against the real server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .. import ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION
from ..commit import LogPosition
from ..jsontext import quote
from ..store import Store
from ..gotime import go_duration, rfc3339nano
from .message import Response

__all__ = ["InfoNode", "Member", "version", "health", "stats_self", "stats_leader",
           "stats_store", "members", "members_leader", "machines"]

_JSON = ("Content-Type", "application/json")


class Member(Protocol):
    id: int
    name: str
    peer_urls: Sequence[str]
    client_urls: Sequence[str]


class InfoNode(Protocol):
    store: Store
    position: LogPosition
    name: str
    member_id: int
    cluster_id_hex: str
    members: Sequence[Member]
    start_ns: int
    leader_since_ns: int
    clock: Callable[[], int]


def version(node: InfoNode) -> Response:
    body = f'{{"etcdserver":"{ETCD_SERVER_VERSION}","etcdcluster":"{ETCD_CLUSTER_VERSION}"}}'
    return Response(200, [_JSON], body.encode())


def health(node: InfoNode) -> Response:
    # etcd 3.4 says text/plain although the body is JSON.
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], b'{"health":"true"}')


def stats_self(node: InfoNode) -> Response:
    me = f"{node.member_id:x}"
    now = node.clock()
    body = (
        f'{{"name":{quote(node.name)},"id":"{me}","state":"StateLeader",'
        f'"startTime":"{rfc3339nano(node.start_ns)}",'
        f'"leaderInfo":{{"leader":"{me}","uptime":"{go_duration(now - node.leader_since_ns)}",'
        f'"startTime":"{rfc3339nano(node.leader_since_ns)}"}},'
        f'"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}}'
    )
    return Response(200, [_JSON], body.encode())


def stats_leader(node: InfoNode) -> Response:
    # A single member leads and has no followers to report latencies for.
    body = f'{{"leader":"{node.member_id:x}","followers":{{}}}}'
    return Response(200, [_JSON], body.encode())


def stats_store(node: InfoNode) -> Response:
    return Response(200, [_JSON], node.store.stats.to_json())


def members(node: InfoNode) -> Response:
    items = ",".join(_member_json(m) for m in node.members)
    body = f'{{"members":[{items}]}}\n'.encode()
    return Response(200, [_JSON, ("X-Etcd-Cluster-Id", node.cluster_id_hex)], body)


def machines(node: InfoNode) -> Response:
    urls = ", ".join(url for m in node.members for url in m.client_urls)
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], urls.encode())


def _member_json(member: Member) -> str:
    peers = ",".join(quote(u) for u in member.peer_urls)
    clients = ",".join(quote(u) for u in member.client_urls)
    return (f'{{"id":"{member.id:x}","name":{quote(member.name)},'
            f'"peerURLs":[{peers}],"clientURLs":[{clients}]}}')


def members_leader(node: InfoNode) -> Response:
    leader = next(m for m in node.members if m.id == node.member_id)
    body = (_member_json(leader) + "\n").encode()
    return Response(200, [_JSON, ("X-Etcd-Cluster-Id", node.cluster_id_hex)], body)
