"""Idle keep-alive connections per endpoint, and one request/response exchange on them.

Invariant: a connection sits in the pool only between two exchanges, after h11 saw both
messages end cleanly (no error, no `Connection: close`, no read-until-EOF body). A
connection that failed, timed out, was cancelled mid-exchange or was closed by the server
is closed, never pooled. At most `max_idle` idle connections are kept per endpoint.

Timeouts follow Go's headerTimeout (client/client.go simpleHTTPClient.Do): the limit covers
dialing, sending and waiting for the response head; reading the body is not limited (the
caller's own deadline is), and a long poll (wait=true) has no head limit at all. For an
https endpoint the TLS handshake is part of dialing, under the same limit.
"""

from __future__ import annotations

import math
import ssl
from dataclasses import dataclass

import trio

from .connection import Connection, ReplyHead, TransportError, dial, start_tls
from .requests import Endpoint, Operation
from .tls import tls_context

__all__ = ["Pool", "Reply"]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]          # lower-case name -> first value
    body: bytes


def _key(endpoint: Endpoint) -> tuple[str, str, int]:
    # the scheme too: etcd may serve http and https on one port (it sniffs the first bytes)
    return endpoint.scheme, endpoint.host, endpoint.port


class Pool:
    """Keep-alive connections keyed by endpoint; `aclose()` closes the idle ones.

    https endpoints use `ssl_context`; without one, tls_context() (the system's roots) is
    made at the first https dial."""

    def __init__(self, max_idle: int = 8, ssl_context: ssl.SSLContext | None = None) -> None:
        if max_idle < 0:
            raise ValueError("max_idle must be >= 0")
        self._max_idle = max_idle
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._closed = False
        self._ssl_context = ssl_context

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = tls_context()
        return self._ssl_context

    def idle_count(self, endpoint: Endpoint) -> int:
        return len(self._idle.get(_key(endpoint), ()))

    def _checkout(self, endpoint: Endpoint) -> Connection | None:
        """The most recently used idle connection the server has not closed meanwhile."""
        idle = self._idle.get(_key(endpoint), [])
        while idle:
            conn = idle.pop()
            if not conn.dropped():
                return conn
            conn.close()
        return None

    def _checkin(self, endpoint: Endpoint, conn: Connection) -> None:
        idle = self._idle.setdefault(_key(endpoint), [])
        if self._closed or not conn.reusable or len(idle) >= self._max_idle:
            conn.close()
            return
        conn.next_cycle()
        idle.append(conn)

    async def exchange(self, endpoint: Endpoint, action: Operation,
                       timeout: float | None) -> Reply:
        """Send `action` to `endpoint` and read the whole reply (TransportError on failure).

        A pooled connection can die just as we pick it (the server closed it while idle);
        as Go's transport does, a GET that got no byte of reply on such a connection is
        sent once more on a fresh one. Other methods are not resent: they may have applied.
        """
        conn = self._checkout(endpoint)
        if conn is not None:
            try:
                return await self._run(conn, endpoint, action, timeout)
            except TransportError as exc:
                if not (exc.before_reply and action.method == "GET"):
                    raise
        return await self._run(None, endpoint, action, timeout)

    async def _run(self, conn: Connection | None, endpoint: Endpoint, action: Operation,
                   timeout: float | None) -> Reply:
        now = trio.current_time()
        dial_deadline = math.inf if timeout is None else now + timeout
        head_deadline = math.inf if action.wait else dial_deadline
        try:
            with trio.move_on_at(head_deadline) as head_scope:
                if conn is None:
                    conn = await self._dial(endpoint, dial_deadline)
                await conn.send(action.method, action.target(endpoint), endpoint.netloc,
                                action.body, action.content_type)
                head: ReplyHead = await conn.read_head()
            if head_scope.cancelled_caught:
                raise TransportError(f"client: endpoint {endpoint.url} exceeded header timeout")
            body = await conn.read_body()
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        self._checkin(endpoint, conn)
        return Reply(head.status, head.headers, body)

    async def _dial(self, endpoint: Endpoint, deadline: float) -> Connection:
        # Only reached on its own for a long poll: otherwise the head deadline is the same
        # and, being the outer scope, reports the timeout as Go does (header timeout).
        stream = None
        with trio.move_on_at(deadline):
            stream = await dial(endpoint.host, endpoint.port)
            if not endpoint.secure:
                return Connection(stream)
            return Connection(await start_tls(stream, endpoint.host, endpoint.port,
                                              self.ssl_context))
        if stream is not None:                  # start_tls closed it
            raise TransportError("net/http: TLS handshake timeout")
        raise TransportError(f"dial tcp {endpoint.netloc}: i/o timeout")

    async def aclose(self) -> None:
        """Close every idle connection; connections in use are closed when they come back."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()
        await trio.lowlevel.checkpoint()
