"""HTTP/1.1 bytes for the load generator: requests built once, responses parsed in place.

The generator must cost the servers as little CPU as possible (they share two cores with
it), so it does not run a general HTTP parser: both servers answer with a Content-Length
body, or with chunked framing for a watch, and always keep the connection alive. A reply
outside that shape is a ProtocolError, which costs its connection, not the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["ProtocolError", "Reply", "ReplyParser", "get", "put"]

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"


class ProtocolError(Exception):
    """The server's bytes are not a reply this parser understands."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes


def get(host: str, path: str) -> bytes:
    """A keep-alive GET of `path` (already percent-encoded, query included)."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def put(host: str, path: str, value: bytes) -> bytes:
    """A keep-alive PUT of the form body value=`value` (percent-encoded here)."""
    body = b"value=" + quote(value, safe="").encode()
    head = f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + FORM + b"\r\n" + body


class ReplyParser:
    """Feed received bytes; pop whole replies. One parser per connection."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> Reply | None:
        """Add `data`; return the next complete reply, if there is one now."""
        buf = self._buf + data if self._buf else data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise ProtocolError("reply head too large")
            self._buf = buf
            return None
        if buf[:9] not in (b"HTTP/1.1 ", b"HTTP/1.0 "):
            raise ProtocolError(f"not an HTTP reply: {buf[:20]!r}")
        status = int(buf[9:12])
        head = buf[:end]
        at = head.find(b"Content-Length: ")
        if at >= 0:
            size = int(buf[at + 16:buf.index(b"\r\n", at)])
            stop = end + 4 + size
            if len(buf) < stop:
                self._buf = buf
                return None
            self._buf = buf[stop:]
            return Reply(status, buf[end + 4:stop])
        if b"Transfer-Encoding: chunked" in head:
            return self._chunked(buf, status, end + 4)
        raise ProtocolError("reply without Content-Length or chunked framing")

    def _chunked(self, buf: bytes, status: int, at: int) -> Reply | None:
        parts = []
        while True:
            line_end = buf.find(b"\r\n", at)
            if line_end < 0:
                break
            size = int(buf[at:line_end].split(b";")[0], 16)
            if size > MAX_BODY:
                raise ProtocolError("chunk too large")
            if size == 0:
                if len(buf) < line_end + 4:
                    break
                self._buf = buf[line_end + 4:]
                return Reply(status, b"".join(parts))
            stop = line_end + 2 + size
            if len(buf) < stop + 2:
                break
            parts.append(buf[line_end + 2:stop])
            at = stop + 2
        if len(buf) > MAX_BODY:
            raise ProtocolError("chunked reply too large")
        self._buf = buf
        return None

    def pending(self) -> bool:
        """Bytes of a reply that has not ended."""
        return bool(self._buf)
