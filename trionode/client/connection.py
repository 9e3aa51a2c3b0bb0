"""One keep-alive HTTP/1.1 connection: h11 on a trio socket stream.

A connection carries one request at a time: send() it, read_head(), read_body(); then
`reusable` says whether h11 reached a clean end of both messages (no `Connection: close`,
no read-until-EOF body, no error) so the pool may keep it. Anything that goes wrong, and
any cancellation in the middle of an exchange, leaves it unusable: the caller closes it.

Every socket or protocol failure becomes a TransportError carrying the text Go's net/http
would report for it (v2-spec §7.4 error lines; checked against etcdctl 3.4):
"dial tcp 127.0.0.1:1: connect: connection refused", "EOF" (closed before any reply),
"unexpected EOF" (closed inside a reply), "read tcp L->R: read: connection reset by peer". Over TLS (https endpoints) the stream is a
trio.SSLStream and TLS failures get Go's texts too (tlserrors.py): "x509: certificate signed
by unknown authority", "remote error: tls: bad certificate", ...
"""

from __future__ import annotations

import os
import select
import ssl
from dataclasses import dataclass

import h11
import trio

from .tlserrors import failure_text, ssl_error_in, verify_failure_text

__all__ = ["Connection", "ReplyHead", "TransportError", "dial", "go_errno_text", "start_tls",
           "open_connection"]

MAX_BODY = 256 * 1024 * 1024        # a recursive GET of a big tree, never unbounded
MAX_HEAD = 64 * 1024
READ_SIZE = 64 * 1024
USER_AGENT = "trionode-client"


class TransportError(Exception):
    """One attempt failed below HTTP; `message` is Go's wording for the same failure."""

    def __init__(self, message: str, *, before_reply: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.before_reply = before_reply     # nothing of a reply arrived: a GET may be resent


@dataclass(frozen=True, slots=True)
class ReplyHead:
    status: int
    reason: str
    headers: dict[str, str]          # lower-case name -> first value (Go's Header.Get)


def go_errno_text(exc: OSError) -> str:
    """Go's syscall.Errno text: the C library's message with a lower-case first letter."""
    if exc.errno is None:
        return str(exc)
    text = os.strerror(exc.errno)
    return text[:1].lower() + text[1:]


def _addr(sockaddr) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def dial(host: str, port: int) -> trio.SocketStream:
    """Connect to each address of `host` in turn, as Go's dialer does; the first error wins."""
    try:
        infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    except OSError:
        raise TransportError(f"dial tcp: lookup {host}: no such host") from None
    first: TransportError | None = None
    for family, type_, proto, _, sockaddr in infos:
        sock = trio.socket.socket(family, type_, proto)
        try:
            await sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            first = first or TransportError(
                f"dial tcp {_addr(sockaddr)}: connect: {go_errno_text(exc)}")
            continue
        except BaseException:
            sock.close()
            raise
        return trio.SocketStream(sock)
    raise first or TransportError(f"dial tcp: lookup {host}: no such host")


def _names(sock) -> str:
    """"local->remote" for error messages; taken at once: getpeername() fails once the
    peer is gone."""
    try:
        return f"{_addr(sock.getsockname())}->{_addr(sock.getpeername())}"
    except OSError:
        return "?->?"


def _io_text(exc: BaseException, op: str, names: str) -> str:
    """Go's text for a failed read or write: a TLS failure (tlserrors), else the socket's."""
    tls = failure_text(exc)
    if tls is not None:
        return tls
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    text = go_errno_text(cause) if isinstance(cause, OSError) else "use of closed network connection"
    return f"{op} tcp {names}: {op}: {text}"


async def start_tls(stream: trio.SocketStream, host: str, port: int,
                    context: ssl.SSLContext) -> trio.SSLStream:
    """The TLS handshake on a dialed stream, verifying the server as `host` (IP SANs for an
    IP); any failure closes the socket and raises TransportError with Go's text."""
    tls = trio.SSLStream(stream, context, server_hostname=host, https_compatible=True)
    try:
        await tls.do_handshake()
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
        names = _names(stream.socket)
        stream.socket.close()
        err = ssl_error_in(exc)
        if isinstance(err, ssl.SSLCertVerificationError):
            text = await verify_failure_text(err, host, port)
        else:
            op = "write" if isinstance(exc.__cause__, BrokenPipeError) else "read"
            text = _io_text(exc, op, names)
        raise TransportError(text, before_reply=True) from None
    except BaseException:
        stream.socket.close()
        raise
    return tls


async def open_connection(host: str, port: int, *,
                          ssl_context: ssl.SSLContext | None = None) -> Connection:
    """A new connection to host:port, over TLS when `ssl_context` is given (the server is
    verified as `host`). Raises TransportError with Go's text; no timeout of its own."""
    stream = await dial(host, port)
    if ssl_context is None:
        return Connection(stream)
    return Connection(await start_tls(stream, host, port, ssl_context))


class Connection:
    """An h11 client connection, on a plain or a TLS stream; `reused` is True once it has
    served a request."""

    def __init__(self, stream: trio.SocketStream | trio.SSLStream) -> None:
        self._stream = stream
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.reused = False
        if isinstance(stream, trio.SSLStream):
            self._sock = stream.transport_stream.socket
        else:
            self._sock = stream.socket
        self._names = _names(self._sock)
        self._head_seen = False
        self._eof = False

    # ---------------------------------------------------------------- I/O with Go wording

    def _os_failure(self, exc: BaseException, op: str) -> TransportError:
        return TransportError(_io_text(exc, op, self._names), before_reply=not self._head_seen)

    async def _write(self, data: bytes) -> None:
        try:
            await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise self._os_failure(exc, "write") from None

    async def _next_event(self):
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self._h11.their_state is h11.ERROR and self._eof:
                    raise TransportError("unexpected EOF" if self._head_seen else "EOF",
                                         before_reply=not self._head_seen) from None
                raise TransportError(
                    f"net/http: HTTP/1.x transport connection broken: {exc}") from None
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self._stream.receive_some(READ_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise self._os_failure(exc, "read") from None
            self._eof = not data
            self._h11.receive_data(data)

    # ---------------------------------------------------------------- one exchange

    async def send(self, method: str, target: str, host: str, body: bytes | None,
                   content_type: str | None) -> None:
        """Write one request. `body` None = no body and no Content-Length (GET, DELETE).

        In one write, as Go's buffered writer does: with TLS 1.3 a server that refuses our
        certificate does so after our handshake ended and closes; a second write would then
        meet its reset ("broken pipe") where Go, having written once, reads its alert."""
        self._eof = False
        self._head_seen = False
        headers = [("Host", host), ("User-Agent", USER_AGENT)]
        if body is not None:
            headers.append(("Content-Length", str(len(body))))
        if content_type:
            headers.append(("Content-Type", content_type))
        data = self._h11.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if body:
            data += self._h11.send(h11.Data(data=body)) or b""
        await self._write(data + (self._h11.send(h11.EndOfMessage()) or b""))

    async def read_head(self) -> ReplyHead:
        """The response line and headers (1xx interim responses are skipped)."""
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                self._head_seen = True
                headers: dict[str, str] = {}
                for name, value in event.headers:
                    headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
                return ReplyHead(event.status_code, event.reason.decode("latin-1"), headers)
            if isinstance(event, h11.ConnectionClosed):
                raise TransportError("EOF", before_reply=True)

    async def read_body(self) -> bytes:
        """The whole body, whatever its framing (length, chunked, until EOF)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise TransportError(f"http: response body larger than {MAX_BODY} bytes")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                raise TransportError("unexpected EOF")

    # ---------------------------------------------------------------- reuse

    @property
    def reusable(self) -> bool:
        """Both messages ended cleanly and the server did not ask to close."""
        return self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE

    def next_cycle(self) -> None:
        self._h11.start_next_cycle()
        self.reused = True

    def dropped(self) -> bool:
        """An idle connection with something to read was closed (or garbled) by the server."""
        try:
            poller = select.poll()
            poller.register(self._sock.fileno(), select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        """Close at once (no await: also used while a cancellation unwinds)."""
        self._sock.close()
