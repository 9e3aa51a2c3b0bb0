"""Requests that arrive in many reads: read whole and in order, whatever the split.

Once a request spans reads the reader appends to a bytearray (http/reader.py), so a body
of up to the 5 MiB limit costs time linear in its size; before, `bytes +=` made it
quadratic. These tests check what the app receives: large bodies sent in small pieces in
every framing, a large head, and pipelined requests cut at every read size. Linear time
was measured when the buffer changed; it is not asserted here (no timing tests).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import trio
import trio.testing

from trionode.http.message import HttpResponse, Request
from trionode.http.server import HttpLimits, serve_connection

BIG = random.Random(4).randbytes(4 << 20)  # 4 MiB: under the 5 MiB body limit, and no pattern to line up by
PIECE = 1000  # what the client writes at a time
READ = 4096  # what the server reads at a time
AFTER = b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


class Log:
    def _record(self, event: str, **_: Any) -> None:
        raise AssertionError(f"unexpected log event {event}")

    info = error = warning = debug = exception = _record


class Recorder:
    """An app that keeps every request and answers with its method, path and body size."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def app(self, request: Request) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, [], b"%s %s %d\n" % (request.method.encode(), request.path.encode(), len(request.body)))


class AsBytes(trio.abc.HalfCloseableStream):
    """Reads as bytes, as from a socket (memory streams give bytearrays: the reader keeps either)."""

    def __init__(self, inner: trio.abc.HalfCloseableStream) -> None:
        self.inner = inner

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return bytes(await self.inner.receive_some(max_bytes))

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.inner.send_eof()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def converse(pieces: list[bytes], limits: HttpLimits, *, as_bytes: bool = False) -> tuple[bytes, list[Request]]:
    """Write `pieces` one by one, then read all the server says until it closes."""
    recorder = Recorder()
    client, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        stream = AsBytes(server) if as_bytes else server
        nursery.start_soon(serve_connection, stream, recorder.app, limits, Log())
        for piece in pieces:
            await client.send_all(piece)
        got = bytearray()
        while data := await client.receive_some(1 << 20):
            got += data
        await client.aclose()
    return bytes(got), recorder.requests


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def chunked(body: bytes, rng: random.Random) -> bytes:
    """`body` in HTTP chunks of 1 to 3000 bytes, then the last chunk."""
    out, pos = bytearray(), 0
    while pos < len(body):
        size = rng.randint(1, 3000)
        piece = body[pos : pos + size]
        out += b"%x\r\n%b\r\n" % (len(piece), piece)
        pos += size
    return bytes(out + b"0\r\n\r\n")


FRAMINGS = {
    # plain head: read by the fast path, body sliced off the reader's own buffer
    "content-length": b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG,
    # the same body through h11 (Expect takes it off the fast path)
    "content-length-h11": (b"PUT /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                           % len(BIG) + BIG),
    "chunked": b"POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(BIG, random.Random(5)),
}


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
async def test_large_body_in_small_pieces_is_read_whole(framing: str) -> None:
    data = FRAMINGS[framing] + AFTER  # the next request arrives behind the body's last bytes
    got, requests = await converse(cut(data, PIECE), HttpLimits(read_size=READ))
    assert [(r.method, r.path) for r in requests] == [(data[:4].strip().decode(), "/big"), ("GET", "/after")]
    assert requests[0].body == BIG and type(requests[0].body) is bytes
    assert requests[1].body == b""
    assert got.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert got.endswith(b"\r\n\r\nGET /after 0\n")
    assert b"%d\n" % len(BIG) in got


async def test_large_head_in_small_pieces_is_read_whole() -> None:
    pad = BIG[:450_000].hex().encode()  # 900 kB: a head near the 1 MiB limit
    head = b"GET /padded HTTP/1.1\r\nHost: x\r\nX-Pad: " + pad + b"\r\nConnection: close\r\n\r\n"
    got, requests = await converse(cut(head, PIECE), HttpLimits(read_size=READ))
    assert [r.path for r in requests] == ["/padded"]
    assert requests[0].header(b"x-pad") == pad and type(requests[0].header(b"x-pad")) is bytes
    assert got.endswith(b"\r\n\r\nGET /padded 0\n")


PIPELINE = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nvalue=1",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    b"GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz",
    b"DELETE /f HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"GET /g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


# the first read ends three bytes into the PUT's body, behind a whole GET
MID_BODY = len(PIPELINE[0]) + len(PIPELINE[1]) - 4


@pytest.mark.parametrize("as_bytes", [False, True], ids=["bytearray", "bytes"])
@pytest.mark.parametrize("read_size", [1, 2, 3, 7, 64, MID_BODY, 65536])
async def test_pipelined_requests_are_the_same_whatever_the_reads(read_size: int, as_bytes: bool) -> None:
    got, requests = await converse([b"".join(PIPELINE)], HttpLimits(read_size=read_size), as_bytes=as_bytes)
    assert [(r.method, r.target, r.body) for r in requests] == [
        ("GET", "/a?x=1", b""), ("PUT", "/b", b"value=1"), ("POST", "/c", b"abcde"), ("GET", "/d", b""),
        ("PUT", "/e", b"xyz"), ("DELETE", "/f", b""), ("GET", "/g", b""),
    ]
    assert all(type(r.body) is bytes for r in requests)
    assert got.count(b" 200 OK\r\n") == 7 and got.count(b"HTTP/1.1 100 Continue\r\n\r\n") == 1
    assert got.endswith(b"\r\n\r\nGET /g 0\n")
