"""Connections, pooling, failover and timeouts, against the in-process fake server.

Every expected error text here was printed by etcdctl 3.4.23 against a server that did
the same thing (refused, closed, reset, cut a body short, answered 500/502, stalled).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import replace

import pytest
import trio

from trionode.client import (
    Client,
    ClusterError,
    EndpointError,
    HTTPStatusError,
    KeyNotFound,
    NoEndpointsError,
    RequestInfo,
)

from .conftest import Reply, error_reply, keys_reply

NODE = {"action": "get", "node": {"key": "/k", "value": "v", "modifiedIndex": 5,
                                  "createdIndex": 5}}


def always(reply):
    return lambda seen: reply


async def server_closed(client, server):
    """The one pooled connection to `server`, once the server's close of it reached us (its
    socket reads EOF): what a fixed sleep after a hangup reply would only hope for."""
    [conn] = client._pool._idle[("http", "127.0.0.1", server.port)]
    with trio.fail_after(5):
        await trio.lowlevel.wait_readable(conn._sock)
    assert conn.dropped()
    return conn


async def test_keep_alive_connections_are_reused(fake_server):
    server = await fake_server(always(keys_reply(NODE)))
    async with Client([server.url]) as client:
        for _ in range(3):
            assert (await client.get("/k")).node.value == "v"
    assert [s.conn for s in server.seen] == [1, 1, 1]
    assert server.seen[0].target == "/v2/keys/k?quorum=false&recursive=false&sorted=false"


async def test_a_connection_the_server_closes_is_not_reused(fake_server):
    server = await fake_server(always(Reply(200, (), b'{"action":"get","node":{}}',
                                            close=True)))
    async with Client([server.url]) as client:
        await client.get("/k")
        await client.get("/k")
    assert [s.conn for s in server.seen] == [1, 2]


async def test_chunked_and_read_until_close_bodies(fake_server):
    body = b'{"action":"get","node":{"key":"/k","value":"chunked"}}'
    server = await fake_server(always(Reply(200, (), body, chunked=True)))
    async with Client([server.url]) as client:
        assert (await client.get("/k")).node.value == "chunked"
        assert (await client.get("/k")).node.value == "chunked"
    assert [s.conn for s in server.seen] == [1, 1]
    raw = b"HTTP/1.0 200 OK\r\n\r\n" + body
    server = await fake_server(always(Reply(raw=raw)))
    async with Client([server.url]) as client:
        assert (await client.get("/k")).node.value == "chunked"


async def test_idle_connections_are_bounded_and_closed(fake_server):
    server = await fake_server(always(keys_reply(NODE)))
    client = Client([server.url], max_idle=1)
    async with trio.open_nursery() as nursery:
        for _ in range(3):             # three at once: three connections
            nursery.start_soon(client.get, "/k")
    endpoint = client._endpoints[0]
    assert client._pool.idle_count(endpoint) == 1
    await client.aclose()
    assert client._pool.idle_count(endpoint) == 0


async def test_a_pooled_connection_the_server_closed_is_not_used(fake_server):
    # keep-alive reply, then the server closes the idle connection (its idle timeout)
    server = await fake_server(always(replace(keys_reply(NODE), hangup=True)))
    async with Client([server.url]) as client:
        await client.get("/k")
        await server_closed(client, server)
        await client.set("/k", "v")
    assert [(s.conn, s.method) for s in server.seen] == [(1, "GET"), (2, "PUT")]


async def test_a_get_on_a_connection_that_died_unnoticed_is_sent_again(fake_server):
    server = await fake_server(always(replace(keys_reply(NODE), hangup=True)))
    seen: list[RequestInfo] = []
    async with Client([server.url], on_request=seen.append) as client:
        await client.get("/k")
        conn = await server_closed(client, server)
        conn.dropped = lambda: False       # the close raced with our pick
        assert (await client.get("/k")).node.value == "v"
    assert [s.conn for s in server.seen] == [1, 2]
    assert len(seen) == 2                  # one attempt as far as failover is concerned


async def test_sync_switches_to_the_advertised_client_urls(fake_server):
    live = await fake_server(always(keys_reply(NODE)))
    members = ('{"members":[{"id":"a1","name":"n1","peerURLs":["http://127.0.0.1:9"],'
               f'"clientURLs":["{live.url}"]}},'
               '{"id":"b2","name":"","peerURLs":["http://127.0.0.1:8"],"clientURLs":[]}]}')
    seed = await fake_server(always(Reply(200, (), members.encode())))
    seen: list[RequestInfo] = []
    async with Client([seed.url], on_request=seen.append) as client:
        assert await client.sync() == (live.url,)
        assert client.endpoints == (live.url,)
        await client.get("/k")
    assert [i.url for i in seen] == [seed.url + "/v2/members",
                                     live.url + "/v2/keys/k?quorum=false&recursive=false&sorted=false"]


async def test_sync_without_client_urls_is_no_endpoints(fake_server):
    seed = await fake_server(always(Reply(200, (), b'{"members":[{"id":"a","clientURLs":[]}]}')))
    async with Client([seed.url]) as client:
        with pytest.raises(NoEndpointsError):
            await client.sync()
        assert client.endpoints == (seed.url,)


async def test_all_endpoints_down_is_a_cluster_error(dead_port):
    async with Client([f"http://127.0.0.1:{dead_port}", "http://127.0.0.1:1"]) as client:
        with pytest.raises(ClusterError) as info:
            await client.get("/x")
    assert info.value.errors == (
        f"dial tcp 127.0.0.1:{dead_port}: connect: connection refused",
        "dial tcp 127.0.0.1:1: connect: connection refused")
    assert str(info.value).startswith(
        "client: etcd cluster is unavailable or misconfigured; error #0: dial tcp ")


@pytest.mark.parametrize("reply, message", [
    (Reply(drop=True), "EOF"),
    (Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"act"), "unexpected EOF"),
    (Reply(500), "client: etcd member {url} has no leader"),
    (Reply(503), "client: etcd member {url} has no leader"),
    (Reply(502), "client: etcd member {url} returns server error [Bad Gateway]"),
])
async def test_failures_per_attempt_use_go_texts(fake_server, reply, message):
    server = await fake_server(always(reply))
    async with Client([server.url]) as client:
        with pytest.raises(ClusterError) as info:
            await client.get("/x")
    assert info.value.errors == (message.format(url=server.url),)


async def test_a_reset_is_reported_as_go_does():
    # a listener that resets the connection (SO_LINGER 0) after reading the request
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]

    async def resetter():
        conn, _ = await sock.accept()
        await conn.recv(65536)
        conn.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(resetter)
        async with Client([f"http://127.0.0.1:{port}"]) as client:
            with pytest.raises(ClusterError) as info:
                await client.get("/x")
    sock.close()
    [message] = info.value.errors
    assert message.startswith("read tcp 127.0.0.1:")
    assert message.endswith(f"->127.0.0.1:{port}: read: connection reset by peer")


async def test_an_etcd_error_is_raised_without_failover(fake_server):
    first = await fake_server(always(error_reply(100, "Key not found", "/x", 9, 404)))
    second = await fake_server(always(keys_reply(NODE)))
    async with Client([first.url, second.url]) as client:
        with pytest.raises(KeyNotFound) as info:
            await client.get("/x")
    assert (str(info.value), info.value.status) == ("100: Key not found (/x) [9]", 404)
    assert second.seen == []


async def test_a_non_json_404_is_invalid_json(fake_server):
    server = await fake_server(always(Reply(404, (), b"404 page not found\n")))
    async with Client([server.url]) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.set("../..", "v")
    assert str(info.value).startswith("client: response is invalid json.")
    assert server.seen[0].target == "/"


async def test_create_and_delete_are_never_resent(fake_server, dead_port):
    server = await fake_server(always(keys_reply(NODE)))
    seen: list[RequestInfo] = []
    dead = f"http://127.0.0.1:{dead_port}"
    async with Client([dead, server.url], on_request=seen.append) as client:
        with pytest.raises(EndpointError) as info:
            await client.create("/k", "v")
        assert str(info.value) == f"dial tcp 127.0.0.1:{dead_port}: connect: connection refused"
        assert len(seen) == 1
        # the pin moved on: the next one-shot request goes to the live endpoint
        await client.delete("/k")
    assert [s.method for s in server.seen] == ["DELETE"]


async def test_head_timeout_fails_over(fake_server):
    stalled = await fake_server(always(Reply(stall=True)))
    live = await fake_server(always(keys_reply(NODE)))
    async with Client([stalled.url, live.url], timeout=0.2) as client:
        with trio.fail_after(5):
            assert (await client.get("/k")).node.value == "v"
    async with Client([stalled.url], timeout=0.2) as client:
        with pytest.raises(ClusterError) as info:
            await client.get("/k")
    assert info.value.errors == (f"client: endpoint {stalled.url} exceeded header timeout",)


async def test_wait_has_no_head_timeout_and_retries_an_empty_200(fake_server):
    event = {"action": "set", "node": {"key": "/k", "value": "new", "modifiedIndex": 9,
                                       "createdIndex": 9}}
    answers = iter([Reply(200), Reply(200, (), b"", close=True)])

    async def respond(seen):
        if "wait=true" not in seen.target:
            return keys_reply(NODE)
        reply = next(answers, None)
        if reply is None:
            await trio.sleep(0.5)          # longer than the client's timeout
            return keys_reply(event)
        return reply
    server = await fake_server(respond)
    async with Client([server.url], timeout=0.2) as client:
        with trio.fail_after(5):
            got = await client.wait("/k", wait_index=9)
    assert got.node.value == "new"
    assert [s.target for s in server.seen] == ["/v2/keys/k?recursive=false&wait=true&waitIndex=9"] * 3


async def test_cancelling_a_wait_closes_its_connection(fake_server):
    server = await fake_server(always(Reply(stall=True)))
    async with Client([server.url]) as client:
        with trio.move_on_after(0.1):
            await client.wait("/k")
        assert client._pool.idle_count(client._endpoints[0]) == 0


async def test_on_request_sees_method_full_url_and_body(fake_server):
    server = await fake_server(always(keys_reply(NODE)))
    seen: list[RequestInfo] = []
    async with Client([server.url], on_request=seen.append) as client:
        await client.set("/k", "v w", ttl=5)
        await client.mkdir("/d")
        await client.delete("/k", prev_index=3)
    assert seen == [
        RequestInfo("PUT", server.url + "/v2/keys/k", b"ttl=5&value=v+w"),
        RequestInfo("PUT", server.url + "/v2/keys/d?dir=true&prevExist=false", b""),
        RequestInfo("DELETE", server.url + "/v2/keys/k?prevIndex=3", None),
    ]
    put = server.seen[0]
    assert put.headers["content-type"] == "application/x-www-form-urlencoded"
    assert put.body == b"ttl=5&value=v+w"


def stalled_listener() -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: Linux drops further SYNs, connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(filler)
    return listener, fillers


async def test_a_hanging_connect_counts_against_the_timeout():
    listener, fillers = stalled_listener()
    url = "http://127.0.0.1:%d" % listener.getsockname()[1]
    try:
        async with Client([url], timeout=0.2) as client:
            with trio.fail_after(5):
                with pytest.raises(ClusterError) as info:
                    await client.get("/x")
                assert info.value.errors == (f"client: endpoint {url} exceeded header timeout",)
                # a long poll has no head limit, but dialing is still bounded
                with pytest.raises(ClusterError) as info:
                    await client.wait("/x")
                assert info.value.errors[0].endswith(": i/o timeout")
    finally:
        for sock in (listener, *fillers):
            sock.close()


async def test_a_garbled_reply_is_a_broken_connection(fake_server):
    server = await fake_server(always(Reply(raw=b"hello there\r\n\r\n")))
    async with Client([server.url]) as client:
        with pytest.raises(ClusterError) as info:
            await client.get("/x")
    [message] = info.value.errors
    assert message.startswith("net/http: HTTP/1.x transport connection broken: ")
