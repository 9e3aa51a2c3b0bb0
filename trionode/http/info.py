"""The small read-only endpoints: /version, /health, /v2/stats/*, /v2/members, /v2/machines.

Shapes and content types are etcd 3.4's (v2-spec §4), checked against the real server.
"""

from __future__ import annotations

import trio

from .. import ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION
from ..gocompat.jsontext import go_float, quote
from ..gocompat.timefmt import go_duration, rfc3339nano
from ..membership.members import Member
from ..v2.errors import ErrorCode, V2Error
from .api import LEADER, NodeApi
from .message import HttpResponse

__all__ = ["version", "health", "stats_self", "stats_leader", "stats_store", "members",
           "members_leader", "member_json", "machines", "leader", "peers"]

_JSON = ("Content-Type", "application/json")
_TEXT = ("Content-Type", "text/plain; charset=utf-8")


def version(node: NodeApi) -> HttpResponse:
    body = f'{{"etcdserver":"{ETCD_SERVER_VERSION}","etcdcluster":"{ETCD_CLUSTER_VERSION}"}}'
    return HttpResponse(200, [_JSON], body.encode())


def health(node: NodeApi) -> HttpResponse:
    # etcd 3.4 says text/plain although the body is JSON; without a leader it is unhealthy.
    if not node.raft_status().leader_id:
        return HttpResponse(503, [("Content-Type", "text/plain; charset=utf-8")], b'{"health":"false"}')
    return HttpResponse(200, [("Content-Type", "text/plain; charset=utf-8")], b'{"health":"true"}')


def stats_self(node: NodeApi) -> HttpResponse:
    me, raft, stats = node.identity, node.raft_status(), node.stats
    leader = f"{raft.leader_id:x}" if raft.leader_id else ""
    now = node.clock()
    rates = stats.append_rates(trio.current_time())  # the clock the replica records them on
    since = stats.leader_since_ns
    body = (
        f'{{"name":{quote(me.name)},"id":"{me.member_id:x}","state":"{raft.state}",'
        f'"startTime":"{rfc3339nano(me.start_ns)}",'
        f'"leaderInfo":{{"leader":"{leader}","uptime":"{go_duration(now - since)}",'
        f'"startTime":"{rfc3339nano(since)}"}},'
        f'"recvAppendRequestCnt":{stats.recv_append_count}{_rates("recv", *rates[:2])}'
        f',"sendAppendRequestCnt":{stats.send_append_count}{_rates("send", *rates[2:])}}}'
    )
    return HttpResponse(200, [_JSON], body.encode())


def _rates(direction: str, packets: float, bandwidth: float) -> str:
    """etcd omits a rate that is zero (omitempty)."""
    text = f',"{direction}PkgRate":{go_float(packets)}' if packets else ""
    return text + (f',"{direction}BandwidthRate":{go_float(bandwidth)}' if bandwidth else "")


def stats_leader(node: NodeApi) -> HttpResponse:
    if node.raft_status().state != LEADER:  # etcd 3.4 no longer redirects (GH #2806)
        return HttpResponse(403, [_JSON], b'{"message":"not current leader"}')
    me = node.identity.member_id
    followers = node.stats.follower_stats(m.id for m in node.membership.members if m.id != me)
    items = ",".join(f'"{member:x}":{stats.to_json()}' for member, stats in sorted(followers.items()))
    body = f'{{"leader":"{me:x}","followers":{{{items}}}}}'
    return HttpResponse(200, [_JSON], body.encode())


def stats_store(node: NodeApi) -> HttpResponse:
    return HttpResponse(200, [_JSON], node.store.stats.to_json())


def members(node: NodeApi) -> HttpResponse:
    items = ",".join(member_json(m) for m in node.membership.members)
    body = f'{{"members":[{items}]}}\n'.encode()
    return HttpResponse(200, [_JSON, ("X-Etcd-Cluster-Id", node.identity.cluster_id_hex)], body)


def machines(node: NodeApi) -> HttpResponse:
    urls = ", ".join(url for m in node.membership.members for url in m.client_urls)
    return HttpResponse(200, [("Content-Type", "text/plain; charset=utf-8")], urls.encode())


def member_json(member: Member) -> str:
    peers = ",".join(quote(u) for u in member.peer_urls)
    clients = ",".join(quote(u) for u in member.client_urls)
    return (f'{{"id":"{member.id:x}","name":{quote(member.name)},'
            f'"peerURLs":[{peers}],"clientURLs":[{clients}]}}')


def _leader(node: NodeApi) -> Member | None:
    """The leader, if one is known and is a member we know."""
    leader_id = node.raft_status().leader_id
    return node.membership.get(leader_id) if leader_id else None


def members_leader(node: NodeApi) -> HttpResponse:
    leader = _leader(node)
    cluster = ("X-Etcd-Cluster-Id", node.identity.cluster_id_hex)
    if leader is None:
        return HttpResponse(503, [_JSON, cluster], b'{"message":"During election"}')
    return HttpResponse(200, [_JSON, cluster], (member_json(leader) + "\n").encode())


# --- 0.4's endpoints (v2-spec §4.4): gone in 3.4, kept for 0.4 clients and the tutorial.

def leader(node: NodeApi) -> HttpResponse:
    """/v2/leader: the leader's *peer* URL as plain text (0.4 wrote no newline)."""
    member = _leader(node)
    if member is None or not member.peer_urls:
        error = V2Error(ErrorCode.LEADER_ELECT, "", node.store.index)
        return HttpResponse(error.status, [_JSON], error.to_json())
    return HttpResponse(200, [_TEXT], member.peer_urls[0].encode())


def peers(node: NodeApi) -> HttpResponse:
    """/v2/peers: 0.4 routed it to the same handler as /v2/machines, whose list of client
    URLs put the leader first (0.4 clients take the first entry for the leader)."""
    leader_id = node.raft_status().leader_id
    ordered = sorted(node.membership.members, key=lambda m: m.id != leader_id)  # stable: leader first
    urls = ", ".join(url for m in ordered for url in m.client_urls)
    return HttpResponse(200, [_TEXT], urls.encode())
