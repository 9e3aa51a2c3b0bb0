"""The client port's router (http/app.py ClientApp) against a fake NodeApi, in process: which
handler each path and method reaches, 405 with Allow, 404, the Go mux's redirects, and the
discovery service only when enabled. Bodies and headers are checked exactly: they are etcd
3.4's, and the real comparisons (tests/compat) run only where etcd is installed."""

from __future__ import annotations

import re

import pytest
import trio
import trio.testing
from fake_api import T0, FakeApi, FakeFollower

from trionode import ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION
from trionode.http.api import CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE
from trionode.http.app import ClientApp
from trionode.http.message import HttpResponse, Request
from trionode.http.paths import decode_path, split_target
from trionode.membership.members import Member
from trionode.store.commands import Command, Op

JSON = ("Content-Type", "application/json")
TEXT = ("Content-Type", "text/plain; charset=utf-8")
NOSNIFF = ("X-Content-Type-Options", "nosniff")
FORM = (b"content-type", b"application/x-www-form-urlencoded")
NOT_FOUND = HttpResponse(404, [TEXT, NOSNIFF], b"404 page not found\n")


def not_allowed(allow: str) -> HttpResponse:
    return HttpResponse(405, [TEXT, NOSNIFF, ("Allow", allow)], b"Method Not Allowed\n")


async def call(api: FakeApi, method: str, target: str, body: bytes = b"", *,
               headers: tuple[tuple[bytes, bytes], ...] = (), discovery: bool = False) -> HttpResponse:
    raw_path, query = split_target(target)
    request = Request(method, target, decode_path(raw_path), raw_path, query,
                      [(b"host", b"h:2379"), *headers], body)
    return await ClientApp(api, discovery_service=discovery)(request)


def keys_headers(api: FakeApi, etcd_index: int) -> list[tuple[str, str]]:
    status = api.raft_status()
    return [JSON, ("X-Etcd-Cluster-Id", "c1"), ("X-Etcd-Index", str(etcd_index)),
            ("X-Raft-Index", str(status.applied)), ("X-Raft-Term", str(status.term))]


# --- /v2/keys -------------------------------------------------------------------------------

async def test_keys_write_then_read() -> None:
    api = FakeApi()
    response = await call(api, "PUT", "/v2/keys/a", b"value=1", headers=(FORM,))
    assert response == HttpResponse(201, keys_headers(api, 1),
                                b'{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,'
                                b'"createdIndex":1}}\n')
    assert api.calls == [("propose", Command(Op.SET, "/a", "1"))]
    response = await call(api, "GET", "/v2/keys/a")
    assert response == HttpResponse(200, keys_headers(api, 1),
                                b'{"action":"get","node":{"key":"/a","value":"1","modifiedIndex":1,'
                                b'"createdIndex":1}}\n')
    assert api.barriers == 0
    assert (await call(api, "GET", "/v2/keys/a?quorum=true")).status == 200
    assert api.barriers == 1


async def test_keys_raft_headers_follow_the_node() -> None:
    api = FakeApi()
    api.status = api.status._replace(applied=77, term=9)
    response = await call(api, "GET", "/v2/keys")
    assert response.status == 200
    assert response.headers == [JSON, ("X-Etcd-Cluster-Id", "c1"), ("X-Etcd-Index", "0"),
                                ("X-Raft-Index", "77"), ("X-Raft-Term", "9")]
    assert response.body == b'{"action":"get","node":{"dir":true}}\n'


async def test_keys_errors_carry_no_raft_headers() -> None:
    response = await call(FakeApi(), "GET", "/v2/keys/missing")
    assert response == HttpResponse(404, [JSON, ("X-Etcd-Cluster-Id", "c1"), ("X-Etcd-Index", "0")],
                                b'{"errorCode":100,"message":"Key not found","cause":"/missing","index":0}\n')


async def test_keys_store_is_read_afresh() -> None:
    """A snapshot install replaces the store: the router must not hold on to the old one."""
    api = FakeApi()
    app = ClientApp(api)
    old = api.store
    old.apply(Command(Op.SET, "/a", "old"))
    api.store = type(old)()
    api.store.apply(Command(Op.SET, "/a", "new"))
    request = Request("GET", "/v2/keys/a", "/v2/keys/a", "/v2/keys/a", "", [])
    assert b'"value":"new"' in (await app(request)).body


async def test_keys_watch_answers_with_the_next_event() -> None:
    api = FakeApi()
    response = await call(api, "GET", "/v2/keys/w?wait=true")
    assert response.status == 200 and response.headers == keys_headers(api, 0)
    assert response.stream is not None
    await api.propose(Command(Op.SET, "/w", "x"))
    with trio.fail_after(1):
        chunk = await response.stream.__anext__()
    assert chunk.startswith(b'{"action":"set","node":{"key":"/w","value":"x"')
    await response.stream.aclose()


@pytest.mark.parametrize("method", ["OPTIONS"])
async def test_keys_options_is_an_empty_200(method: str) -> None:
    assert (await call(FakeApi(), method, "/v2/keys/a")) == HttpResponse(200, [])


@pytest.mark.parametrize("method", ["PATCH", "TRACE", "CONNECT", "FOO"])
async def test_keys_other_methods_are_405(method: str) -> None:
    assert (await call(FakeApi(), method, "/v2/keys/a")) == not_allowed("HEAD,GET,PUT,POST,DELETE")
    assert (await call(FakeApi(), method, "/v2/keys")) == not_allowed("HEAD,GET,PUT,POST,DELETE")


# --- the small endpoints ----------------------------------------------------------------------

async def test_version() -> None:
    body = f'{{"etcdserver":"{ETCD_SERVER_VERSION}","etcdcluster":"{ETCD_CLUSTER_VERSION}"}}'.encode()
    assert (await call(FakeApi(), "GET", "/version")) == HttpResponse(200, [JSON], body)


async def test_health_follows_the_leader() -> None:
    assert (await call(FakeApi(), "GET", "/health")) == HttpResponse(200, [TEXT], b'{"health":"true"}')
    assert (await call(FakeApi(leader_id=0), "GET", "/health")) == HttpResponse(503, [TEXT], b'{"health":"false"}')


async def test_stats_self(mock_clock: trio.testing.MockClock) -> None:
    mock_clock.jump(12.5)
    api = FakeApi(leader_id=0xB2, state=FOLLOWER)
    api.now_ns = T0 + 90_500_000_000
    api.stats.recv_append_count, api.stats.send_append_count = 12, 3
    api.stats.leader_since_ns = T0 + 500_000_000
    api.stats.rates = (2.5, 100.0, 0.0, 0.0)
    response = await call(api, "GET", "/v2/stats/self")
    assert response == HttpResponse(200, [JSON], (
        b'{"name":"n1","id":"a1","state":"StateFollower","startTime":"2014-10-01T12:00:00Z",'
        b'"leaderInfo":{"leader":"b2","uptime":"1m30s","startTime":"2014-10-01T12:00:00.5Z"},'
        b'"recvAppendRequestCnt":12,"recvPkgRate":2.5,"recvBandwidthRate":100,'
        b'"sendAppendRequestCnt":3}'))
    assert api.stats.asked == [trio.current_time()]  # the rates are read on trio's (monotonic) clock


@pytest.mark.parametrize("state, name", [(LEADER, "StateLeader"), (FOLLOWER, "StateFollower"),
                                         (CANDIDATE, "StateCandidate"), (PRE_CANDIDATE, "StatePreCandidate")])
async def test_stats_self_names_the_state_as_etcd_does(state: str, name: str) -> None:
    body = (await call(FakeApi(state=state), "GET", "/v2/stats/self")).body
    assert f'"id":"a1","state":"{name}",'.encode() in body


async def test_stats_self_without_a_leader() -> None:
    body = (await call(FakeApi(leader_id=0, state=FOLLOWER), "GET", "/v2/stats/self")).body
    assert b'"leaderInfo":{"leader":"","uptime":"0s",' in body


async def test_stats_leader_lists_the_other_members() -> None:
    api = FakeApi([*FakeApi().membership.members, Member(0xC3, "c", ("http://10.0.0.3:7001",))])
    api.stats.followers[0xC3] = FakeFollower('{"c":3}')
    response = await call(api, "GET", "/v2/stats/leader")
    assert response == HttpResponse(200, [JSON], b'{"leader":"a1","followers":{"b2":{"latency":{},"counts":{}},'
                                             b'"c3":{"c":3}}}')
    assert api.stats.asked == [[0xB2, 0xC3]]


async def test_stats_leader_on_a_follower_is_403() -> None:
    api = FakeApi(leader_id=0xB2, state=FOLLOWER)
    assert (await call(api, "GET", "/v2/stats/leader")) == HttpResponse(
        403, [JSON], b'{"message":"not current leader"}')
    assert api.stats.asked == []


async def test_stats_store() -> None:
    api = FakeApi()
    api.store.apply(Command(Op.SET, "/a", "1"))
    response = await call(api, "GET", "/v2/stats/store")
    assert response.status == 200 and response.headers == [JSON]
    assert response.body == api.store.stats.to_json()
    assert b'"setsSuccess":1' in response.body


async def test_machines_peers_and_leader() -> None:
    api = FakeApi(leader_id=0xB2)
    assert (await call(api, "GET", "/v2/machines")) == HttpResponse(
        200, [TEXT], b"http://10.0.0.1:4001, http://10.0.0.2:4001")
    assert (await call(api, "HEAD", "/v2/machines")).status == 200
    assert (await call(api, "GET", "/v2/peers")) == HttpResponse(
        200, [TEXT], b"http://10.0.0.2:4001, http://10.0.0.1:4001")
    assert (await call(api, "GET", "/v2/leader")) == HttpResponse(200, [TEXT], b"http://10.0.0.2:7001")


@pytest.mark.parametrize("path, allow", [
    ("/version", "GET"), ("/health", "GET"), ("/v2/stats/self", "GET"), ("/v2/stats/leader", "GET"),
    ("/v2/stats/store", "GET"), ("/v2/machines", "GET,HEAD"), ("/v2/leader", "GET,HEAD"),
    ("/v2/peers", "GET,HEAD"),
])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_small_endpoints_refuse_other_methods(path: str, allow: str, method: str) -> None:
    assert (await call(FakeApi(), method, path)) == not_allowed(allow)


async def test_head_on_get_only_endpoints_is_405() -> None:
    assert (await call(FakeApi(), "HEAD", "/version")) == not_allowed("GET")


# --- /v2/members ------------------------------------------------------------------------------

async def test_members_list_and_leader() -> None:
    api = FakeApi()
    cluster = ("X-Etcd-Cluster-Id", "c1")
    assert (await call(api, "GET", "/v2/members")) == HttpResponse(200, [JSON, cluster], (
        b'{"members":[{"id":"a1","name":"n1","peerURLs":["http://10.0.0.1:7001"],'
        b'"clientURLs":["http://10.0.0.1:4001"]},{"id":"b2","name":"b-node",'
        b'"peerURLs":["http://10.0.0.2:7001","http://x:1"],"clientURLs":["http://10.0.0.2:4001"]}]}\n'))
    assert (await call(api, "GET", "/v2/members/leader")) == HttpResponse(200, [JSON, cluster], (
        b'{"id":"a1","name":"n1","peerURLs":["http://10.0.0.1:7001"],'
        b'"clientURLs":["http://10.0.0.1:4001"]}\n'))
    assert (await call(FakeApi(leader_id=0), "GET", "/v2/members/leader")) == HttpResponse(
        503, [JSON, cluster], b'{"message":"During election"}')


async def test_members_changes_reach_reconfig() -> None:
    api = FakeApi()
    api.reconfig.next_id = 0xC3
    body = b'{"peerURLs":["http://127.0.0.1:2390"]}'
    response = await call(api, "POST", "/v2/members", body, headers=((b"content-type", b"application/json"),))
    assert response == HttpResponse(201, [JSON, ("X-Etcd-Cluster-Id", "c1")],
                                b'{"id":"c3","name":"","peerURLs":["http://127.0.0.1:2390"],"clientURLs":[]}\n')
    response = await call(api, "DELETE", "/v2/members/c3")
    assert response == HttpResponse(204, [("X-Etcd-Cluster-Id", "c1")], b"")
    assert api.calls == [("add", ["http://127.0.0.1:2390"]), ("remove", 0xC3)]


async def test_members_other_methods() -> None:
    response = await call(FakeApi(), "PATCH", "/v2/members")
    assert response == HttpResponse(405, [TEXT, NOSNIFF, ("X-Etcd-Cluster-Id", "c1")], b"Method Not Allowed\n")


# --- everything else ----------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/", "/v2", "/v2/", "/v2/keysx", "/v2/stats", "/v2/stats/", "/v2/stats/x",
                                    "/versions", "/v2/admin/config", "/members", "/new", "/" + "a" * 32])
async def test_unknown_paths_are_404(target: str) -> None:
    assert (await call(FakeApi(), "GET", target)) == NOT_FOUND


@pytest.mark.parametrize("target, location", [
    ("/v2//keys/a", "/v2/keys/a"),
    ("/v2/keys/./a", "/v2/keys/a"),
    ("/v2/keys/b/../a?recursive=true", "/v2/keys/a?recursive=true"),
    ("/v2/stats/./self", "/v2/stats/self"),
    ("//version", "/version"),
    ("/v2/members/../machines", "/v2/machines"),
])
async def test_unclean_paths_redirect_as_gos_mux_does(target: str, location: str) -> None:
    api = FakeApi()
    response = await call(api, "GET", target)
    assert response == HttpResponse(301, [("Content-Type", "text/html; charset=utf-8"), ("Location", location)],
                                f'<a href="{location}">Moved Permanently</a>.\n\n'.encode())
    assert (await call(api, "HEAD", target)) == HttpResponse(
        301, [("Content-Type", "text/html; charset=utf-8"), ("Location", location)])
    assert (await call(api, "PUT", target, b"value=1", headers=(FORM,))) == HttpResponse(301, [("Location", location)])
    assert api.calls == []  # nothing reached a handler


# --- the discovery service ------------------------------------------------------------------------

async def test_discovery_paths_only_when_enabled() -> None:
    api = FakeApi()
    response = await call(api, "GET", "/new?size=5", discovery=True)
    assert response.status == 200 and response.headers == [TEXT]
    match = re.fullmatch(rb"http://h:2379/([0-9a-f]{32})", response.body)
    assert match is not None
    token = match.group(1).decode()
    assert api.store.value_of(f"/_etcd/registry/{token}/_config/size") == "5"
    response = await call(api, "GET", f"/{token}", discovery=True)
    assert response.status == 200
    assert response.body.startswith(f'{{"action":"get","node":{{"key":"/_etcd/registry/{token}","dir":true'
                                    .encode())
    assert (await call(api, "GET", f"/{token}")) == NOT_FOUND
    assert (await call(api, "DELETE", "/new", discovery=True)) == HttpResponse(
        405, [TEXT, NOSNIFF, ("Allow", "GET,PUT,POST")], b"Method Not Allowed\n")


async def test_keys_and_info_win_over_discovery() -> None:
    """With the service on, the etcd paths still route as before."""
    api = FakeApi()
    assert (await call(api, "GET", "/version", discovery=True)).status == 200
    assert (await call(api, "GET", "/v2/keys", discovery=True)).status == 200
    assert (await call(api, "GET", "/v2/keysx", discovery=True)) == NOT_FOUND
