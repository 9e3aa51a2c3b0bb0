"""The peer port serves HTTP and the binary protocol on one listener, told apart by the
first byte (proto/SPEC.md §1); whatever is wrong with one connection closes only it."""

from __future__ import annotations

import trio
from test_peer_faults import closed_by_peer, raw, still_serving
from test_peer_transport import FAST, Node, listen, until

from trionode.http.message import HttpResponse, Request
from trionode.peer import PeerLimits


async def echo_app(request: Request) -> HttpResponse:
    body = f"{request.method} {request.target} {len(request.body)}".encode()
    return HttpResponse(200, [("Content-Type", "text/plain")], body)


async def http_pair(nursery: trio.Nursery, *, limits_b: PeerLimits = FAST) -> tuple[Node, Node, int]:
    """Members 1 and 2; 2's peer port also serves echo_app. Returns 2's port too."""
    listeners_a, port_a = await listen()
    listeners_b, port_b = await listen()
    a = Node(1, {2: ("127.0.0.1", port_b)})
    b = Node(2, {1: ("127.0.0.1", port_a)}, limits=limits_b, http_app=echo_app)
    await a.start(nursery, listeners_a)
    await b.start(nursery, listeners_b)
    return a, b, port_b


async def exchange(stream: trio.SocketStream, request: bytes) -> bytes:
    """Send `request`, read one whole response (Content-Length framed)."""
    await stream.send_all(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive_some(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += await stream.receive_some(4096)
    return head + b"\r\n\r\n" + body


async def test_http_and_binary_on_one_port() -> None:
    async with trio.open_nursery() as nursery:
        a, b, port = await http_pair(nursery)
        await still_serving(a, b)
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        reply = await exchange(stream, b"GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and reply.endswith(b"\r\n\r\nGET /x?y 0")
        # keep-alive: a second request on the same connection, with a body
        reply = await exchange(stream, b"PUT /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        assert reply.endswith(b"\r\n\r\nPUT /c 3")
        await stream.aclose()
        await still_serving(a, b)
        assert not b.log.events("peer.refused") and not b.log.events("peer.bad_frame")
        nursery.cancel_scope.cancel()


async def test_a_request_split_after_its_first_byte_is_whole() -> None:
    """The sniffed bytes are handed to the HTTP server, never lost or read twice."""
    async with trio.open_nursery() as nursery:
        _, _, port = await http_pair(nursery)
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(b"P")
        await trio.sleep(0.05)
        reply = await exchange(stream, b"OST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
        assert reply.endswith(b"\r\n\r\nPOST /p 2")
        nursery.cancel_scope.cancel()


async def test_bad_http_gets_gos_reply_and_closes_only_that_connection() -> None:
    async with trio.open_nursery() as nursery:
        a, b, port = await http_pair(nursery)
        await still_serving(a, b)
        stream = await raw(port, b"GARBAGE\r\n\r\n")
        reply = b""
        with trio.fail_after(5):
            while data := await stream.receive_some(4096):
                reply += data
        assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        await still_serving(a, b)
        nursery.cancel_scope.cancel()


async def test_binary_garbage_closes_only_that_connection_with_http_on() -> None:
    async with trio.open_nursery() as nursery:
        a, b, port = await http_pair(nursery)
        await still_serving(a, b)
        stream = await raw(port, b"\x00\x00\x00\x00\x01\x00\xde\xad\xbe\xef")  # CRC wrong
        assert await closed_by_peer(stream)
        assert len(b.log.events("peer.bad_frame")) == 1
        await still_serving(a, b)
        http = await trio.open_tcp_stream("127.0.0.1", port)
        assert (await exchange(http, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")).endswith(b"GET / 0")
        nursery.cancel_scope.cancel()


async def test_http_connections_have_their_own_limit() -> None:
    limits = PeerLimits(backoff_min=0.01, backoff_max=0.05, max_inbound=2, max_inbound_http=1)
    async with trio.open_nursery() as nursery:
        a, b, port = await http_pair(nursery, limits_b=limits)
        await still_serving(a, b)
        first = await trio.open_tcp_stream("127.0.0.1", port)
        assert (await exchange(first, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")).endswith(b"GET /1 0")
        second = await raw(port, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        assert await closed_by_peer(second)
        await until(lambda: b.log.events("peer.refused"))
        assert b.log.events("peer.refused")[0]["reason"] == "too many HTTP connections"
        # the idle HTTP client holds no peer slot: the binary peer still gets through
        await still_serving(a, b)
        nursery.cancel_scope.cancel()


async def test_silent_connection_is_dropped_after_the_handshake_timeout() -> None:
    limits = PeerLimits(backoff_min=0.01, backoff_max=0.05, handshake_timeout=0.1)
    async with trio.open_nursery() as nursery:
        _, b, port = await http_pair(nursery, limits_b=limits)
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        assert await closed_by_peer(stream)
        assert b.log.events("peer.refused")[0]["reason"] == "no Hello within the handshake timeout"
        nursery.cancel_scope.cancel()
