"""The small read-only endpoints: /version, /health, /v2/stats/*, /v2/members, /v2/machines.

Shapes and content types are etcd 3.4's (v2-spec §4), checked against the real server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .. import ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION
from ..gocompat.jsontext import go_float, quote
from ..gocompat.timefmt import go_duration, rfc3339nano
from ..store import Store
from ..v2.errors import ErrorCode, V2Error
from .message import Response

__all__ = ["InfoNode", "Member", "version", "health", "stats_self", "stats_leader",
           "stats_store", "members", "members_leader", "member_json", "machines", "leader", "peers"]

_JSON = ("Content-Type", "application/json")
_TEXT = ("Content-Type", "text/plain; charset=utf-8")


class Member(Protocol):
    id: int
    name: str
    peer_urls: Sequence[str]
    client_urls: Sequence[str]


class FollowerStats(Protocol):
    def to_json(self) -> str: ...


class InfoNode(Protocol):
    store: Store
    name: str
    member_id: int
    cluster_id_hex: str
    members: Sequence[Member]
    start_ns: int
    clock: Callable[[], int]
    #: "StateLeader", "StateFollower", "StateCandidate" or "StatePreCandidate" (etcd's names)
    raft_state: str
    leader_id: int  # 0 = none known
    leader_since_ns: int  # when this member last saw the leader change
    recv_append_count: int
    send_append_count: int

    def append_rates(self) -> tuple[float, float, float, float]:
        """(recvPkgRate, recvBandwidthRate, sendPkgRate, sendBandwidthRate); 0 = none."""
        ...

    def follower_stats(self) -> dict[int, FollowerStats] | None: ...


def version(node: InfoNode) -> Response:
    body = f'{{"etcdserver":"{ETCD_SERVER_VERSION}","etcdcluster":"{ETCD_CLUSTER_VERSION}"}}'
    return Response(200, [_JSON], body.encode())


def health(node: InfoNode) -> Response:
    # etcd 3.4 says text/plain although the body is JSON; without a leader it is unhealthy.
    if not node.leader_id:
        return Response(503, [("Content-Type", "text/plain; charset=utf-8")], b'{"health":"false"}')
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], b'{"health":"true"}')


def stats_self(node: InfoNode) -> Response:
    leader = f"{node.leader_id:x}" if node.leader_id else ""
    now = node.clock()
    rates = node.append_rates()
    body = (
        f'{{"name":{quote(node.name)},"id":"{node.member_id:x}","state":"{node.raft_state}",'
        f'"startTime":"{rfc3339nano(node.start_ns)}",'
        f'"leaderInfo":{{"leader":"{leader}","uptime":"{go_duration(now - node.leader_since_ns)}",'
        f'"startTime":"{rfc3339nano(node.leader_since_ns)}"}},'
        f'"recvAppendRequestCnt":{node.recv_append_count}{_rates("recv", *rates[:2])}'
        f',"sendAppendRequestCnt":{node.send_append_count}{_rates("send", *rates[2:])}}}'
    )
    return Response(200, [_JSON], body.encode())


def _rates(direction: str, packets: float, bandwidth: float) -> str:
    """etcd omits a rate that is zero (omitempty)."""
    text = f',"{direction}PkgRate":{go_float(packets)}' if packets else ""
    return text + (f',"{direction}BandwidthRate":{go_float(bandwidth)}' if bandwidth else "")


def stats_leader(node: InfoNode) -> Response:
    followers = node.follower_stats()
    if followers is None:  # etcd 3.4 no longer redirects (GH #2806)
        return Response(403, [_JSON], b'{"message":"not current leader"}')
    items = ",".join(f'"{member:x}":{stats.to_json()}' for member, stats in sorted(followers.items()))
    body = f'{{"leader":"{node.member_id:x}","followers":{{{items}}}}}'
    return Response(200, [_JSON], body.encode())


def stats_store(node: InfoNode) -> Response:
    return Response(200, [_JSON], node.store.stats.to_json())


def members(node: InfoNode) -> Response:
    items = ",".join(member_json(m) for m in node.members)
    body = f'{{"members":[{items}]}}\n'.encode()
    return Response(200, [_JSON, ("X-Etcd-Cluster-Id", node.cluster_id_hex)], body)


def machines(node: InfoNode) -> Response:
    urls = ", ".join(url for m in node.members for url in m.client_urls)
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], urls.encode())


def member_json(member: Member) -> str:
    peers = ",".join(quote(u) for u in member.peer_urls)
    clients = ",".join(quote(u) for u in member.client_urls)
    return (f'{{"id":"{member.id:x}","name":{quote(member.name)},'
            f'"peerURLs":[{peers}],"clientURLs":[{clients}]}}')


def members_leader(node: InfoNode) -> Response:
    leader = next((m for m in node.members if m.id == node.leader_id), None)
    if leader is None:
        return Response(503, [_JSON, ("X-Etcd-Cluster-Id", node.cluster_id_hex)],
                        b'{"message":"During election"}')
    body = (member_json(leader) + "\n").encode()
    return Response(200, [_JSON, ("X-Etcd-Cluster-Id", node.cluster_id_hex)], body)


# --- 0.4's endpoints (v2-spec §4.4): gone in 3.4, kept for 0.4 clients and the tutorial.

def leader(node: InfoNode) -> Response:
    """/v2/leader: the leader's *peer* URL as plain text (0.4 wrote no newline)."""
    member = next((m for m in node.members if m.id == node.leader_id), None)
    if member is None or not member.peer_urls:
        error = V2Error(ErrorCode.LEADER_ELECT, "", node.store.index)
        return Response(error.status, [_JSON], error.to_json())
    return Response(200, [_TEXT], member.peer_urls[0].encode())


def peers(node: InfoNode) -> Response:
    """/v2/peers: 0.4 routed it to the same handler as /v2/machines, whose list of client
    URLs put the leader first (0.4 clients take the first entry for the leader)."""
    ordered = sorted(node.members, key=lambda m: m.id != node.leader_id)  # stable: leader first
    urls = ", ".join(url for m in ordered for url in m.client_urls)
    return Response(200, [_TEXT], urls.encode())
