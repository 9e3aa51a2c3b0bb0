"""Reading whole requests off a connection: the fast path for plain heads, h11 for the rest.

Bytes live in `self.buffer` between requests. A plain head (see fasthead.py) is parsed
here and its Content-Length body sliced off the buffer; anything else goes to a fresh
h11.Connection holding the buffered bytes, and whatever h11 did not consume comes back
to the buffer afterwards, so pipelined requests are served in order either way.
Problems are raised as types: Reject carries the reply Go would send, PeerGone means
there is nobody left to answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import h11
import trio

from ..net.sockio import DirectSocket
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
    __slots__ = ("_stream", "_limits", "buffer", "_direct")

    def __init__(self, stream: trio.abc.Stream, limits: Any) -> None:
        self._stream = stream
        self._limits = limits
        self.buffer = b""
        self._direct = DirectSocket(stream) if isinstance(stream, trio.SocketStream) else None

    async def receive(self) -> bytes:
        """The next bytes from the client; b"" at EOF (direct reads on sockets: net/sockio.py)."""
        try:
            if self._direct is not None:
                return await self._direct.receive_some(self._limits.read_size)
            return await self._stream.receive_some(self._limits.read_size)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise PeerGone from exc

    async def read(self, send: Callable[[bytes], Awaitable[None]]) -> tuple[Request, Head] | None:
        """The next whole request, or None at a clean end of the connection.

        `send` writes an interim reply (100 Continue) for h11's path.
        """
        while True:
            head = parse_head(self.buffer, self._limits.max_header_bytes)
            if isinstance(head, FastHead):
                return await self._fast(head)
            if head is FALLBACK:
                return await self._h11(send, eof=False)
            data = await self.receive()
            if not data:
                return await self._h11(send, eof=True) if self.buffer else None
            self.buffer += data

    async def _fast(self, head: FastHead) -> tuple[Request, Head]:
        if head.content_length > self._limits.max_body_bytes:
            raise Reject(replies.TOO_LARGE_BODY)
        end = head.end + head.content_length
        while len(self.buffer) < end:
            data = await self.receive()
            if not data:
                raise PeerGone
            self.buffer += data
        body = self.buffer[head.end : end]
        self.buffer = self.buffer[end:]
        keep_alive = True
        for name, value in head.headers:
            if name == b"connection":
                keep_alive = _keep_alive(value, keep_alive)
        raw_path, query, path = self._split(head.target)
        request = Request(head.method, head.target, path, raw_path, query, head.headers, body)
        return request, Head(keep_alive, "HTTP/1.1")

    def _split(self, target: str) -> tuple[str, str, str]:
        """(raw path, query, decoded path); Go answers a bad escape in the path with 400."""
        raw_path, query = split_target(target)
        try:
            return raw_path, query, decode_path(raw_path)
        except BadEscape:
            raise Reject(replies.BAD_REQUEST) from None

    async def _h11(self, send: Callable[[bytes], Awaitable[None]], eof: bool) -> tuple[Request, Head] | None:
        parser = h11.Connection(h11.SERVER, max_incomplete_event_size=self._limits.max_header_bytes)
        parser.receive_data(self.buffer)
        self.buffer = b""
        if eof:
            parser.receive_data(b"")
        try:
            result = await self._h11_request(parser, send)
        except h11.RemoteProtocolError as exc:
            raise Reject(replies.protocol_reply(exc)) from None
        self.buffer = bytes(parser.trailing_data[0])
        return result

    async def _next_event(self, parser: h11.Connection) -> Any:
        event = parser.next_event()
        while event is h11.NEED_DATA:
            parser.receive_data(await self.receive())
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


def _keep_alive(value: bytes, default: bool) -> bool:
    tokens = {token.strip() for token in value.lower().split(b",")}
    if b"close" in tokens:
        return False
    return default or b"keep-alive" in tokens
