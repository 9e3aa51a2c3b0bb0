"""Reading whole requests off a connection: the fast path for plain heads, h11 for the rest.

Received bytes wait in the reader between requests. A plain head (see fasthead.py) is
parsed here and its Content-Length body sliced off the buffer; anything else goes to a
fresh h11.Connection holding the buffered bytes, and whatever h11 did not consume comes
back to the buffer afterwards, so pipelined requests are served in order either way.
Problems are raised as types: Reject carries the reply Go would send, PeerGone means
there is nobody left to answer.

The buffer is `_buf[_pos:]`. Nearly every request arrives whole in one read: then `_buf`
is the very object that read returned (bytes, from a socket), parsed in place and never
copied; a body is sliced out once. Only when a request spans reads does its start move
into a bytearray that later reads are appended to (amortized constant time per byte),
so a body of up to `max_body_bytes` in small reads costs linear time, not the quadratic
time of `bytes +=`. Consumed bytes are skipped by moving `_pos` (a pipelined request is
not copied to the front) and dropped from a bytearray at the next append, as
wire/decoder.py does with peer frames; h11 keeps a bytearray of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import h11
import trio

from ..net.streams import stream_io
from . import replies
from .fasthead import FALLBACK, FastHead, parse_head
from .message import Request
from .params import BadEscape
from .paths import decode_path, split_target

__all__ = ["Head", "PeerGone", "Reject", "RequestReader"]


class PeerGone(Exception):
    """The client closed or reset the connection."""


class Reject(Exception):
    """A request we will not serve; `reply` is the bare response, then the connection ends."""

    def __init__(self, reply: bytes) -> None:
        super().__init__(reply[:40])
        self.reply = reply


class Head:
    """What the connection needs to know about the request besides the Request itself."""

    __slots__ = ("keep_alive", "version")

    def __init__(self, keep_alive: bool, version: str) -> None:
        self.keep_alive = keep_alive
        self.version = version


class RequestReader:
    __slots__ = ("_stream", "_limits", "_buf", "_pos", "_direct")

    def __init__(self, stream: trio.abc.Stream, limits: Any) -> None:
        self._stream = stream
        self._limits = limits
        self._buf: bytes | bytearray = b""  # unconsumed: _buf[_pos:] (see the module doc)
        self._pos = 0
        self._direct = stream_io(stream)

    @property
    def pending(self) -> int:
        """How many received bytes wait to be read (pipelined requests, or part of one)."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray) -> None:
        """Keep `data`, received from the client, after the bytes already waiting.

        `data` becomes the reader's: it may be kept as it is, and a bytearray grown in place.
        """
        buf = self._buf
        if self._pos == len(buf):  # nothing waiting: keep the read itself, no copy
            self._buf, self._pos = data, 0
        elif type(buf) is bytearray:
            if self._pos:
                del buf[: self._pos]
                self._pos = 0
            buf += data
        else:  # a request spans reads: from now on, a bytearray grown in place
            with memoryview(buf) as view:
                grown = bytearray(view[self._pos :])
            grown += data
            self._buf, self._pos = grown, 0

    async def receive(self) -> bytes | bytearray:
        """The next bytes from the client; b"" at EOF (direct reads: net/streams.py)."""
        try:
            return await self._direct.receive_some(self._limits.read_size)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise PeerGone from exc

    async def read(self, send: Callable[[bytes], Awaitable[None]]) -> tuple[Request, Head] | None:
        """The next whole request, or None at a clean end of the connection.

        `send` writes an interim reply (100 Continue) for h11's path.
        """
        scanned = 0
        while True:
            head = parse_head(self._buf, self._limits.max_header_bytes, self._pos, scanned)
            if isinstance(head, FastHead):
                return await self._fast(head)
            if head is FALLBACK:
                return await self._h11(send, eof=False)
            scanned = self.pending
            data = await self.receive()
            if not data:
                return await self._h11(send, eof=True) if self.pending else None
            self.feed(data)

    async def _fast(self, head: FastHead) -> tuple[Request, Head]:
        size = head.content_length
        if size > self._limits.max_body_bytes:
            raise Reject(replies.TOO_LARGE_BODY)
        end = head.end + size
        if len(self._buf) < end:
            end = await self._receive_until(end)
        buf = self._buf
        body = _slice(buf, end - size, end) if size else b""
        if end == len(buf):
            self._buf, self._pos = b"", 0  # all read: drop the buffer, however large it grew
        else:
            self._pos = end  # a pipelined request follows
        keep_alive = True
        for name, value in head.headers:
            if name == b"connection":
                keep_alive = _keep_alive(value, keep_alive)
        raw_path, query, path = self._split(head.target)
        request = Request(head.method, head.target, path, raw_path, query, head.headers, body)
        return request, Head(keep_alive, "HTTP/1.1")

    async def _receive_until(self, end: int) -> int:
        """Receive until `_buf` holds `end` bytes; -> `end` as it is after feed() moved the rest."""
        while len(self._buf) < end:
            data = await self.receive()
            if not data:
                raise PeerGone
            end -= self._pos  # feed() drops the consumed prefix
            self.feed(data)
        return end

    def _split(self, target: str) -> tuple[str, str, str]:
        """(raw path, query, decoded path); Go answers a bad escape in the path with 400."""
        raw_path, query = split_target(target)
        try:
            return raw_path, query, decode_path(raw_path)
        except BadEscape:
            raise Reject(replies.BAD_REQUEST) from None

    async def _h11(self, send: Callable[[bytes], Awaitable[None]], eof: bool) -> tuple[Request, Head] | None:
        parser = h11.Connection(h11.SERVER, max_incomplete_event_size=self._limits.max_header_bytes)
        if self.pending:  # (h11 takes empty data for EOF)
            with memoryview(self._buf) as view:
                # h11 appends it to its own bytearray: any bytes-like will do, no copy needed here
                parser.receive_data(view[self._pos :])  # type: ignore[arg-type]
        self._buf, self._pos = b"", 0
        if eof:
            parser.receive_data(b"")
        try:
            result = await self._h11_request(parser, send)
        except h11.RemoteProtocolError as exc:
            raise Reject(replies.protocol_reply(exc)) from None
        self._buf = parser.trailing_data[0]  # bytes: what h11 read past this request
        return result

    async def _next_event(self, parser: h11.Connection) -> Any:
        event = parser.next_event()
        while event is h11.NEED_DATA:
            parser.receive_data(await self.receive())  # type: ignore[arg-type]  # (bytes-like)
            event = parser.next_event()
        return event

    async def _h11_request(self, parser: h11.Connection, send: Callable[[bytes], Awaitable[None]]) -> tuple[Request, Head] | None:
        event = await self._next_event(parser)
        if type(event) is not h11.Request:
            return None  # ConnectionClosed before a new request
        headers = list(event.headers)
        # h11 bounds only an incomplete head; a complete one can arrive in the last read.
        head_size = len(event.method) + len(event.target) + 13
        declared = 0
        keep_alive = event.http_version == b"1.1"
        for name, value in headers:
            head_size += len(name) + len(value) + 4
            if name == b"content-length":
                declared = int(value)  # h11 checked the syntax
            elif name == b"connection":
                keep_alive = _keep_alive(value, keep_alive)
        if head_size > self._limits.max_header_bytes:
            raise Reject(replies.TOO_LARGE_HEAD)
        if declared > self._limits.max_body_bytes:
            raise Reject(replies.TOO_LARGE_BODY)
        target = event.target.decode("ascii")  # h11 only lets visible ASCII through
        raw_path, query, path = self._split(target)
        body = await self._h11_body(parser, send)
        version = "HTTP/1.1" if event.http_version == b"1.1" else "HTTP/1.0"
        request = Request(event.method.decode("ascii"), target, path, raw_path, query, headers, body)
        return request, Head(keep_alive, version)

    async def _h11_body(self, parser: h11.Connection, send: Callable[[bytes], Awaitable[None]]) -> bytes:
        limit = self._limits.max_body_bytes
        if parser.they_are_waiting_for_100_continue:
            await send(replies.CONTINUE)
        # A list joined once: linear like a bytearray, and one copy fewer (no bytes() at the end).
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event(parser)
            if type(event) is h11.Data:
                size += len(event.data)
                if size > limit:
                    raise Reject(replies.TOO_LARGE_BODY)
                chunks.append(event.data)
            else:  # EndOfMessage; h11 raises RemoteProtocolError on EOF mid-body
                return b"".join(chunks)  # bytes, even from h11's bytearrays


def _slice(buf: bytes | bytearray, start: int, end: int) -> bytes:
    """`buf[start:end]` as bytes, copied once (a bytearray's slice would be copied twice)."""
    if type(buf) is bytes:
        return buf[start:end]
    with memoryview(buf) as view:
        return view[start:end].tobytes()


def _keep_alive(value: bytes, default: bool) -> bool:
    tokens = {token.strip() for token in value.lower().split(b",")}
    if b"close" in tokens:
        return False
    return default or b"keep-alive" in tokens
