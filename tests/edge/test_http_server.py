"""The HTTP edge on memory streams (virtual time) and on loopback sockets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing

from trionode.http.message import HttpResponse, Request
from trionode.http.server import HttpLimits, serve_connection, serve_http

LIMITS = HttpLimits()
GO_400 = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
CORS = (
    b"Access-Control-Allow-Headers: accept, content-type, authorization\r\n"
    b"Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
)
DATE = re.compile(rb"Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n")


class Log:
    """Records what the server logs, for assertions."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def _record(self, event: str, **_: Any) -> None:
        self.events.append(event)

    info = error = warning = debug = exception = _record


async def echo_app(request: Request) -> HttpResponse:
    if request.path == "/boom":
        raise RuntimeError("boom")
    body = f"{request.method} {request.path} {request.query} {len(request.body)}\n".encode()
    return HttpResponse(200, [("X-Test", "1"), ("Content-Type", "text/plain")], body)


def undated(data: bytes) -> bytes:
    return DATE.sub(b"Date: D\r\n", data)


async def read_all(stream: trio.abc.ReceiveStream) -> bytes:
    chunks = []
    while data := await stream.receive_some(65536):
        chunks.append(data)
    return b"".join(chunks)


def reply(body: bytes, *, close: bool = False) -> bytes:
    framing = b"Content-Length: %d\r\n" % len(body) + (b"Connection: close\r\n" if close else b"")
    return b"HTTP/1.1 200 OK\r\n" + CORS + b"Content-Type: text/plain\r\nX-Test: 1\r\nDate: D\r\n" + framing + b"\r\n" + body


async def exchange(data: bytes, app: Any = echo_app, limits: HttpLimits = LIMITS, log: Any = None) -> bytes:
    """Send `data`, then read everything the server writes until it closes."""
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, app, limits, log or Log())
        await client.send_all(data)
        got = await read_all(client)
        await client.aclose()  # lets the server's lingering close finish at once
    return undated(got)


def get(path: str, extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"


CLOSE = b"Connection: close\r\n"


async def test_pipelined_requests_are_answered_in_order() -> None:
    data = get("/a?1") + get("/b?2") + get("/c?3", CLOSE)
    assert await exchange(data) == (
        reply(b"GET /a 1 0\n") + reply(b"GET /b 2 0\n") + reply(b"GET /c 3 0\n", close=True)
    )


async def test_keep_alive_serves_requests_one_after_another(autojump_clock: Any) -> None:
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, echo_app, LIMITS, Log())
        for path in ("/one", "/two"):
            await trio.sleep(10)  # idle between requests is fine
            await client.send_all(get(path))
            expected = reply(b"GET " + path.encode() + b"  0\n")
            got = b""
            while len(got) < len(expected):
                got += await client.receive_some(65536)
            assert undated(got) == expected
        await client.aclose()


async def test_head_has_get_headers_and_no_body() -> None:
    got = await exchange(b"HEAD /k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert got == reply(b"HEAD /k  0\n", close=True)[: -len(b"HEAD /k  0\n")]


async def test_head_of_empty_body_has_no_length_like_go() -> None:
    async def empty(request: Request) -> HttpResponse:
        return HttpResponse(301, [("Location", "/x")])

    got = await exchange(b"HEAD /k HTTP/1.1\r\nHost: x\r\n\r\n" + get("/k", CLOSE), app=empty)
    head = b"HTTP/1.1 301 Moved Permanently\r\n" + CORS + b"Location: /x\r\nDate: D\r\n"
    assert got == head + b"\r\n" + head + b"Content-Length: 0\r\nConnection: close\r\n\r\n"


async def test_body_and_expect_100_continue() -> None:
    head = b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    got = await exchange(head + b"value=1")
    assert got == b"HTTP/1.1 100 Continue\r\n\r\n" + reply(b"PUT /k  7\n", close=True)


async def test_chunked_request_body() -> None:
    head = b"POST /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    assert await exchange(head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") == reply(b"POST /k  5\n", close=True)


async def test_http10_closes_unless_keep_alive() -> None:
    got = await exchange(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    first = reply(b"GET /a  0\n").replace(b"HTTP/1.1", b"HTTP/1.0").replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n")
    assert got == first + reply(b"GET /b  0\n").replace(b"HTTP/1.1", b"HTTP/1.0")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GARBAGE\r\n\r\n", GO_400),
        (b"GET /v2/keys/%zz HTTP/1.1\r\nHost: x\r\n\r\n", GO_400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", GO_400),
        (
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\n\r\n400 Bad Request: missing required Host header",
        ),
        (
            b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
            b"Unsupported transfer encoding",
        ),
    ],
)
async def test_bad_requests_get_gos_replies(data: bytes, expected: bytes, autojump_clock: Any) -> None:
    assert await exchange(data) == expected


async def test_a_good_request_before_a_bad_one_is_still_answered(autojump_clock: Any) -> None:
    assert await exchange(get("/ok") + b"BAD LINE\r\n\r\n") == reply(b"GET /ok  0\n") + GO_400


async def test_oversized_header_block_is_431(autojump_clock: Any) -> None:
    limits = HttpLimits(max_header_bytes=1000)
    expected = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    # complete in one read, and never complete
    assert (await exchange(get("/", b"X: " + b"a" * 1000 + b"\r\n"), limits=limits)).startswith(expected)
    assert (await exchange(b"GET / HTTP/1.1\r\nX: " + b"a" * 70000, limits=limits)).startswith(expected)


async def test_oversized_body_is_413(autojump_clock: Any) -> None:
    limits = HttpLimits(max_body_bytes=10)
    expected = b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    declared = b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
    assert (await exchange(declared, limits=limits)).startswith(expected)  # no 100 Continue first
    chunked = b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n"
    assert (await exchange(chunked, limits=limits)).startswith(expected)
    assert await exchange(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n" + b"v" * 10, limits=limits)


async def test_truncated_body_does_not_reach_the_app(autojump_clock: Any) -> None:
    called = []

    async def app(request: Request) -> HttpResponse:
        called.append(request)
        return HttpResponse(200, [])

    client, server = trio.testing.memory_stream_pair()
    log = Log()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, app, LIMITS, log)
        await client.send_all(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        await client.send_eof()
    assert called == [] and "http.connection_crashed" not in log.events


async def test_slow_request_gets_408_after_request_timeout(autojump_clock: Any) -> None:
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, echo_app, LIMITS, Log())
        await trio.sleep(100)  # idle, well under idle_timeout
        start = trio.current_time()
        await client.send_all(b"GET / HTTP/1.1\r\nHo")
        got = await read_all(client)
        assert trio.current_time() - start == pytest.approx(LIMITS.request_timeout)
    assert got == (
        b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        b"408 Request Timeout"
    )


async def test_idle_connection_closes_quietly(autojump_clock: Any) -> None:
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, echo_app, LIMITS, Log())
        assert await read_all(client) == b""
        assert trio.current_time() == pytest.approx(LIMITS.idle_timeout)


async def test_client_that_never_reads_is_dropped_after_write_timeout(autojump_clock: Any) -> None:
    async def big(request: Request) -> HttpResponse:
        return HttpResponse(200, [], b"x" * 100_000)

    client, server = trio.testing.lockstep_stream_pair()
    log = Log()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, big, LIMITS, log)
        await client.send_all(get("/"))
        await trio.sleep(LIMITS.write_timeout + 1)
        assert "http.write_timeout" in log.events
        assert b"x" * 100_000 not in await read_all(client)  # closed before the body went out


async def test_app_exception_is_a_500_and_the_connection_goes_on() -> None:
    log = Log()
    got = await exchange(get("/boom") + get("/ok", CLOSE), log=log)
    assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n" + CORS + b"Content-Type: text/plain; charset=utf-8\r\n")
    assert got.endswith(reply(b"GET /ok  0\n", close=True))
    assert log.events == ["http.app_error"]


async def test_header_injection_by_the_app_is_refused() -> None:
    async def bad(request: Request) -> HttpResponse:
        return HttpResponse(200, [("X-Evil", "a\r\nSet-Cookie: x")], b"")

    log = Log()
    got = await exchange(get("/"), app=bad, log=log)
    assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n") and b"Set-Cookie" not in got
    assert log.events == ["http.bad_response"]


# --- streaming


class Watch:
    """A stream like a watch handler's: an iterator whose aclose() frees the watcher.

    (An async generator would not do for a watch registered before the response: one
    that never started, as for HEAD, skips its `finally` when closed.)
    """

    def __init__(self) -> None:
        self.send, self.receive = trio.open_memory_channel[bytes](10)
        self.closed = False

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self.closed = True

    async def app(self, request: Request) -> HttpResponse:
        if request.path == "/watch":
            return HttpResponse(200, [("Content-Type", "application/json")], stream=self)
        return await echo_app(request)


async def test_stream_is_chunked_and_pipelined_requests_wait_for_it() -> None:
    watch = Watch()
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, watch.app, LIMITS, Log())
        await client.send_all(get("/watch") + get("/after", CLOSE))
        await watch.send.send(b'{"a":1}\n')
        await watch.send.send(b'{"a":2}\n')
        await watch.send.aclose()
        got = undated(await read_all(client))
        await client.aclose()
    head = b"HTTP/1.1 200 OK\r\n" + CORS + b"Content-Type: application/json\r\nDate: D\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b'8\r\n{"a":1}\n\r\n8\r\n{"a":2}\n\r\n0\r\n\r\n'
    assert got == head + chunks + reply(b"GET /after  0\n", close=True)
    assert watch.closed


async def test_client_disconnect_cancels_the_stream_promptly(autojump_clock: Any) -> None:
    watch = Watch()
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, watch.app, LIMITS, Log())
        await client.send_all(get("/watch"))
        await trio.sleep(5)
        assert not watch.closed
        await client.aclose()
    assert watch.closed
    assert trio.current_time() == pytest.approx(5)  # no timeout had to fire


async def test_client_disconnect_runs_a_generators_finally(autojump_clock: Any) -> None:
    finished = trio.Event()

    async def app(request: Request) -> HttpResponse:
        async def events() -> AsyncIterator[bytes]:
            try:
                await trio.sleep_forever()
                yield b""
            finally:
                finished.set()

        return HttpResponse(200, [], stream=events())

    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, server, app, LIMITS, Log())
        await client.send_all(get("/watch"))
        await trio.sleep(1)
        await client.aclose()
        await finished.wait()
        assert trio.current_time() == pytest.approx(1)


async def test_head_of_a_stream_closes_the_iterator() -> None:
    watch = Watch()
    got = await exchange(b"HEAD /watch HTTP/1.1\r\nHost: x\r\n\r\n" + get("/x", CLOSE), app=watch.app)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK" in got
    assert watch.closed


async def test_failing_stream_closes_the_connection() -> None:
    async def app(request: Request) -> HttpResponse:
        async def events() -> AsyncIterator[bytes]:
            yield b"one\n"
            raise RuntimeError("store broke")

        return HttpResponse(200, [], stream=events())

    log = Log()
    got = await exchange(get("/") + get("/never"), app=app, log=log)
    assert got.endswith(b"4\r\none\n\r\n")  # no terminating chunk: the client sees a broken body
    assert log.events == ["http.stream_error"]


# --- real sockets


async def test_loopback_server_survives_bad_clients(nursery: trio.Nursery) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    await nursery.start(serve_http, listeners, echo_app, LIMITS, Log())
    port = listeners[0].socket.getsockname()[1]

    async def call(data: bytes) -> bytes:
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(data)
            return undated(await read_all(stream))

    assert await call(b"NOT HTTP AT ALL\r\n\r\n") == GO_400
    assert await call(get("/again", CLOSE)) == reply(b"GET /again  0\n", close=True)
    got = await call(get("/", b"X: " + b"a" * ((1 << 20) + 5000) + b"\r\n"))
    assert got.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert await call(get("/", b"X: " + b"a" * ((1 << 20) + 4000) + b"\r\n" + CLOSE)) == reply(b"GET /  0\n", close=True)
    async with await trio.open_tcp_stream("127.0.0.1", port) as rude:  # hangs up without reading
        await rude.send_all(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
    assert await call(get("/still", CLOSE)) == reply(b"GET /still  0\n", close=True)


class ReadyWatch(Watch):
    """A one-shot Watch that says when its next step is there, as keys.py's watch does:
    after its one chunk the body is over."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    @property
    def ready(self) -> bool:
        return self.done or self.receive.statistics().current_buffer_used > 0

    async def __anext__(self) -> bytes:
        if self.done:
            raise StopAsyncIteration
        self.done = True
        return await super().__anext__()


class CountingStream(trio.abc.Stream):
    """The server's side of a memory stream pair, counting its writes."""

    def __init__(self, inner: trio.abc.Stream) -> None:
        self.inner, self.writes = inner, 0

    async def send_all(self, data: bytes) -> None:
        self.writes += 1
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self.inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_stream_whose_body_is_ready_goes_out_in_one_write() -> None:
    """A long poll whose event is already in the history: head, event and end in one send."""
    watch = ReadyWatch()
    await watch.send.send(b'{"a":1}\n')
    client, server = trio.testing.memory_stream_pair()
    counting = CountingStream(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, counting, watch.app, LIMITS, Log())
        await client.send_all(get("/watch", CLOSE))
        got = undated(await read_all(client))
        await client.aclose()
    assert got.endswith(b'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n{"a":1}\n\r\n0\r\n\r\n')
    assert counting.writes == 1 and watch.closed


async def test_a_stream_that_waits_sends_its_head_at_once_then_chunk_and_end_together() -> None:
    watch = ReadyWatch()
    client, server = trio.testing.memory_stream_pair()
    counting = CountingStream(server)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_connection, counting, watch.app, LIMITS, Log())
        await client.send_all(get("/watch", CLOSE))
        head = await client.receive_some(65536)  # the head, before any event (clients wait on it)
        assert head.endswith(b"\r\n\r\n") and counting.writes == 1
        await watch.send.send(b'{"a":1}\n')
        rest = await read_all(client)
        await client.aclose()
    assert rest == b'8\r\n{"a":1}\n\r\n0\r\n\r\n' and counting.writes == 2
