"""The HTTP/1.1 edge: h11 parses requests on trio streams, one task per connection.

A connection is a loop of exchanges: read one whole request (head and body, see
reader.py: plain heads on a fast path, everything else through h11), call the app,
write the response in one send. Pipelined requests wait in the reader's buffer and are
answered in order. Responses are written here, not through h11: that skips its
per-response header validation, the largest cost on the hot path; the app's headers are
still checked for CR/LF, the one thing that would corrupt framing.

Timeouts (STYLE §9): idle keep-alive -> quiet close; a request must be complete within
`request_timeout` of its first byte (else 408); a send blocked for `write_timeout` closes.
Unservable requests get Go's hand-written replies and a close. Nothing here may take the
node down: an app exception is a 500 for that request; anything else costs one connection.
"""

from __future__ import annotations

import enum
import math
from http import HTTPStatus
from typing import Any, Awaitable, Callable, NoReturn

import trio

from ..net.streams import stream_io
from ..net.tls import handshake, peer_address
from ..net.tlsstream import TlsStream
from ..telemetry.logger import Logger
from . import replies
from .date import DateCache
from .limits import HttpLimits
from .message import HttpResponse, Request
from .reader import PeerGone, Reject, RequestReader
from .timeouts import Sweeper

__all__ = ["HttpConnections", "HttpLimits", "serve_http", "serve_connection"]

App = Callable[[Request], Awaitable[HttpResponse]]


# v2-spec §1.3.5: etcd 3.4's default --cors '*'. Go sorts header names; these sort first.
_CORS = (
    "Access-Control-Allow-Headers: accept, content-type, authorization\r\n"
    "Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE\r\n"
    "Access-Control-Allow-Origin: *\r\n"
)
_NO_BODY_STATUS = frozenset({204, 304})
_REASONS = {status.value: status.phrase for status in HTTPStatus}


_TLS_HANDSHAKE = 0x16  # the first byte of a TLS ClientHello record
_JOIN_LIMIT = 1 << 16  # bodies up to this size are copied behind the head for a single send
_APP_FAILED = HttpResponse(500, [("Content-Type", "text/plain; charset=utf-8")], b"500 Internal Server Error\n")


class ConnectionPhase(enum.Enum):
    """What a connection's deadline guards, so what its passing means: IDLE, waiting for a
    request -> a quiet close, as Go does; REQUEST, one has begun -> 408 and a close; WRITE,
    a reply is going out -> logged, and a close. (While the app works or a stream waits,
    `deadline_at` is infinite: no phase is guarded.)"""

    IDLE = "idle"
    REQUEST = "request"
    WRITE = "write"


# Bound once: on Python 3.11 every `ConnectionPhase.X` goes through EnumType.__getattr__
# (about 80 ns), and a request moves through three phases.
_IDLE, _REQUEST, _WRITE = ConnectionPhase.IDLE, ConnectionPhase.REQUEST, ConnectionPhase.WRITE


class _Closed(Exception):
    """This connection is over (peer gone, timeout, or an error reply already sent)."""


class _BadResponse(Exception):
    """The app built a response that cannot be framed (a CR or LF in a header)."""


class HttpConnections:
    """Accepted connections served as HTTP, sharing one date cache and one deadline sweeper.

    `serve` is the per-connection entry point: serve_http hands it every accept; the peer
    port hands it a connection whose first bytes showed it is HTTP, with those bytes
    (peer/receiver.py). `run` (the sweeper) must be started first, inside trio.
    """

    __slots__ = ("_app", "_limits", "_log", "_dates", "_sweeper")

    def __init__(self, app: App, limits: HttpLimits, log: Logger) -> None:
        self._app, self._limits, self._log = app, limits, log
        self._dates = DateCache()
        self._sweeper = Sweeper()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> NoReturn:
        await self._sweeper.run(task_status=task_status)

    async def serve(self, stream: trio.abc.Stream, initial: bytes = b"") -> None:
        """Serve `stream` until it ends; `initial` = bytes already read from it. Never raises."""
        await _serve(stream, self._app, self._limits, self._log, self._dates, self._sweeper, initial)


async def serve_http(
    listeners: list[trio.abc.Listener], app: App, limits: HttpLimits, log: Logger,
    *, task_status: trio.TaskStatus[list[trio.abc.Listener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP on `listeners` until cancelled; `task_status.started(listeners)` once listening.

    trio's SocketStream already sets TCP_NODELAY on every accepted connection. A
    TlsListener's connections (https URLs) are served once their handshake completes.
    """
    connections = HttpConnections(app, limits, log)
    async with trio.open_nursery() as nursery:
        await nursery.start(connections.run)
        await nursery.start(trio.serve_listeners, connections.serve, listeners)
        task_status.started(listeners)


async def serve_connection(stream: trio.abc.Stream, app: App, limits: HttpLimits, log: Logger) -> None:
    """Serve one connection on its own (tests): with a deadline sweeper of its own."""
    connections = HttpConnections(app, limits, log)
    async with trio.open_nursery() as nursery:
        await nursery.start(connections.run)
        await connections.serve(stream)
        nursery.cancel_scope.cancel()


async def _serve(stream: trio.abc.Stream, app: App, limits: HttpLimits, log: Logger,
                 dates: DateCache, sweeper: Sweeper, initial: bytes = b"") -> None:
    """Serve one connection until it ends; never raises (a bug costs one connection only)."""
    if isinstance(stream, TlsStream) and not await handshake(stream, limits.request_timeout, log.info):
        await trio.aclose_forcefully(stream)
        return
    conn = _Connection(stream, app, limits, log, dates, sweeper)
    conn.reader.feed(initial)  # already here: the first request's deadline starts now
    sweeper.add(conn)
    try:
        await conn.run()
    except Exception:
        log.exception("http.connection_crashed")
    finally:
        sweeper.discard(conn)
        await trio.aclose_forcefully(stream)


class _Connection:
    """One client connection: the exchange loop and the reading and writing it needs."""

    __slots__ = ("stream", "app", "limits", "log", "dates", "reader", "keep_alive", "version",
                 "scope", "phase", "sweeper", "deadline_at", "direct")

    def __init__(self, stream: trio.abc.Stream, app: App, limits: HttpLimits, log: Logger,
                 dates: DateCache, sweeper: Sweeper) -> None:
        self.stream, self.app, self.limits, self.log, self.dates = stream, app, limits, log, dates
        self.sweeper = sweeper
        self.reader = RequestReader(stream, limits)
        self.direct = stream_io(stream)
        self.keep_alive, self.version = True, "HTTP/1.1"
        # One cancel scope for the whole connection, cancelled by the sweeper when the
        # current phase's deadline passed (see timeouts.py for why not scope deadlines).
        self.scope = trio.CancelScope()
        self.deadline_at = math.inf
        self.phase = _IDLE  # what the deadline is guarding

    def _deadline(self, phase: ConnectionPhase, seconds: float) -> None:
        self.phase = phase
        self.deadline_at = self.sweeper.now + seconds

    async def run(self) -> None:
        with self.scope:
            try:
                while True:
                    request = await self._receive_request()
                    if request is None:
                        return
                    await self._respond(request)
                    if not self.keep_alive:
                        await self._linger()
                        return
            except _Closed:
                return
        if self.scope.cancelled_caught:
            if self.phase is _REQUEST:  # too slow to send its whole request
                await self._fail_shielded(replies.TIMEOUT)
            elif self.phase is _WRITE:  # a client that stopped reading our reply
                self.log.info("http.write_timeout")

    # --- reading

    async def _receive_request(self) -> Request | None:
        """The next whole request, or None when the connection should just close."""
        reader = self.reader
        try:
            if not reader.pending:  # no pipelined bytes already here
                self._deadline(_IDLE, self.limits.idle_timeout)
                data = await reader.receive()
                if not data:
                    return None
                if data[0] == _TLS_HANDSHAKE and isinstance(self.stream, trio.SocketStream):
                    # A TLS client on a plain port: close without a reply, as etcd does
                    # (an HTTP reply would only be garbage to it).
                    self.log.info("http.tls_on_plain_port", remote=peer_address(self.stream))
                    return None
                reader.feed(data)  # kept as is: a request in one read is parsed in place
            self._deadline(_REQUEST, self.limits.request_timeout)
            got = await reader.read(self._send_all)
        except PeerGone as exc:
            raise _Closed from exc
        except Reject as exc:
            await self._fail(exc.reply)
        if got is None:
            return None
        request, head = got
        self.keep_alive, self.version = head.keep_alive, head.version
        return request

    # --- writing

    async def _send_all(self, data: bytes) -> None:
        """Send under the connection's current deadline (the caller set it); a reply that
        fits the socket buffer is written straight to it (net/streams.py)."""
        try:
            await self.direct.send_all(data, math.inf)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise _Closed from exc

    async def _fail(self, reply: bytes) -> NoReturn:
        """Write one of Go's bare error replies, drain, and end the connection."""
        await self._send_all(reply)
        await self._linger()
        raise _Closed

    async def _fail_shielded(self, reply: bytes) -> None:
        """A reply after the connection's own deadline passed: on a fresh, short one."""
        with trio.move_on_after(self.limits.linger_timeout) as scope:
            scope.shield = True
            try:
                await self.stream.send_all(reply)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return
        await self._linger()

    async def _linger(self) -> None:
        """Half-close and drain briefly, so unread input does not turn our reply into a reset."""
        with trio.move_on_after(self.limits.linger_timeout) as scope:
            scope.shield = True
            try:
                if isinstance(self.stream, trio.abc.HalfCloseableStream):
                    await self.stream.send_eof()
                while await self.stream.receive_some(self.limits.read_size):
                    pass
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    def _head(self, response: HttpResponse, framing: str) -> bytes:
        """Status line and headers: CORS, the app's (sorted, as Go writes them), Date, framing."""
        status = response.status
        app_headers = "".join(f"{name}: {value}\r\n" for name, value in sorted(response.headers))
        lines = len(response.headers)
        if app_headers.count("\n") != lines or app_headers.count("\r") != lines:
            raise _BadResponse
        if self.version == "HTTP/1.0" and self.keep_alive:
            framing += "Connection: keep-alive\r\n"
        elif not self.keep_alive and self.version == "HTTP/1.1":
            framing += "Connection: close\r\n"
        text = f"{self.version} {status} {_REASONS.get(status, '')}\r\n{_CORS}{app_headers}{self.dates.line()}{framing}\r\n"
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            raise _BadResponse from None

    async def _respond(self, request: Request) -> None:
        self.deadline_at = math.inf  # the app may wait for a commit; that is not the client's fault
        try:
            response = await self.app(request)
        except Exception:
            self.log.exception("http.app_error", method=request.method, target=request.target)
            response = _APP_FAILED
        head_only = request.method == "HEAD"
        try:
            if response.stream is not None:
                await self._respond_stream(response, head_only)
                return
            body = response.body
            if response.status in _NO_BODY_STATUS or (head_only and not body):
                head = self._head(response, "")  # Go sends no length when HEAD wrote nothing
            else:
                head = self._head(response, f"Content-Length: {len(body)}\r\n")
        except _BadResponse:
            self.log.error("http.bad_response", method=request.method, target=request.target)
            self._deadline(_WRITE, self.limits.write_timeout)
            await self._send_all(replies.INTERNAL)
            raise _Closed from None
        self._deadline(_WRITE, self.limits.write_timeout)
        if head_only or not body:
            await self._send_all(head)
        elif len(body) <= _JOIN_LIMIT:
            await self._send_all(head + body)  # one send for the common small reply
        else:
            await self._send_all(head)  # no copy of a large body
            await self._send_all(body)

    # --- streaming (a watch): chunks as they come, and a watch on the socket meanwhile

    async def _respond_stream(self, response: HttpResponse, head_only: bool) -> None:
        """The head at once (clients may wait on it), with whatever the stream has ready in
        the same write: a long poll whose event is already in the history, head, event and
        end of body, is one write and no wait."""
        stream = response.stream
        try:
            chunked = self.version == "HTTP/1.1"
            if not chunked:
                self.keep_alive = False  # HTTP/1.0: the end of the body is the end of the connection
            head = self._head(response, "Transfer-Encoding: chunked\r\n" if chunked else "")
            body, ended = (b"", False) if head_only else await self._take(stream, chunked, wait=False)
            self._deadline(_WRITE, self.limits.write_timeout)
            await self._send_all(head + body)
            if not (head_only or ended or await self._pump(stream, chunked)):
                raise _Closed
        finally:
            await self._close_iterator(stream)

    async def _take(self, stream: Any, chunked: bool, *, wait: bool) -> tuple[bytes, bool]:
        """The chunks the stream has now, framed, waiting for the first one if `wait`; and
        whether the body ended (then with its last chunk). A stream that says when its next
        chunk is `ready` (keys.py's watch) gets its chunks gathered into one write."""
        out = []
        try:
            while wait or getattr(stream, "ready", False):
                chunk = await stream.__anext__()
                wait = False
                if chunk:
                    out.append(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
        except StopAsyncIteration:
            return b"".join(out) + (b"0\r\n\r\n" if chunked else b""), True
        except Exception:
            self.log.exception("http.stream_error")
            raise _Closed from None
        return b"".join(out), False

    async def _pump(self, stream: Any, chunked: bool) -> bool:
        """Send the chunks as they come, to the end of the body; False when the client went
        away or the stream failed.

        While we wait for the next item, a helper task keeps reading the socket: EOF or a
        reset cancels the wait at once; bytes of pipelined requests are kept for later, up to
        `max_pending_bytes` (beyond that the client is treated as gone).
        """
        healthy = True

        async def watch_peer(scope: trio.CancelScope) -> None:
            nonlocal healthy
            pending = 0
            try:
                while True:
                    data = await self.stream.receive_some(self.limits.read_size)
                    pending += len(data)
                    if not data or pending > self.limits.max_pending_bytes:
                        break
                    self.reader.feed(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            healthy = False
            scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_peer, nursery.cancel_scope)
            try:
                ended = False
                while not ended:
                    self.deadline_at = math.inf  # a watch may wait for ever (v2-spec §2.8)
                    body, ended = await self._take(stream, chunked, wait=True)
                    if body:
                        self._deadline(_WRITE, self.limits.write_timeout)
                        await self._send_all(body)
            except _Closed:
                healthy = False
            nursery.cancel_scope.cancel()
        return healthy

    async def _close_iterator(self, stream: Any) -> None:
        """Close the app's iterator so its `finally` (freeing a watcher) runs, even when cancelled."""
        aclose = getattr(stream, "aclose", None)
        if aclose is None:
            return
        with trio.move_on_after(self.limits.linger_timeout) as scope:
            scope.shield = True
            try:
                await aclose()
            except Exception:
                self.log.exception("http.stream_close_error")
