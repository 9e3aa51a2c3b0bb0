"""Inbound peer connections: HTTP or the binary protocol, told apart by the first byte.

A binary connection starts with a frame's u32 length, whose first byte is 0x00 for any
frame under 16 MiB; an HTTP request starts with an ASCII method. So an uppercase ASCII
letter first means HTTP, handed with the bytes read so far to the peer HTTP app (if the
node gave one; otherwise the connection is closed); anything else is the binary protocol
(proto/SPEC.md §1): Hello within a deadline, then decode and deliver until EOF.

On an https peer URL the connection is TLS: its handshake comes first, within the
handshake timeout, and a peer whose certificate the port refuses is closed before it can
send a byte of either protocol.

Each accepted connection gets its own PeerDecoder; whatever is wrong with it (garbage,
an oversized frame, a Hello for another cluster or member, an unknown sender) closes
that connection with one log line and nothing else (STYLE §6). Idle connections are
fine: heartbeats pass every tick.

A peer keeps one connection to us (its single sender task), so when a member's new
connection finishes its Hello, an older one from the same member is closed: after a
partition heals, half-open leftovers do not pile up until max_inbound refuses everyone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ..net.streams import stream_io
from ..net.tls import handshake, peer_address
from ..net.tlsstream import TlsStream
from ..raft.messages import Message
from ..wire.errors import WireError
from .limits import PeerLimits
from .ratelog import RateLimitedLog
from .sender import failure_reason
from .stats import PeerStats

__all__ = ["Inbound"]


class _Refused(Exception):
    """A connection we will not serve (reason in args[0]); closed with one log line."""


HttpServe = Callable[[trio.abc.Stream, bytes], Awaitable[None]]
_HTTP_FIRST = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # what a request method starts with


class Inbound:
    __slots__ = ("local_id", "cluster_id", "stats", "limits", "log", "deliver", "new_decoder",
                 "http", "_live", "_open", "_open_http")

    def __init__(self, local_id: int, cluster_id: int, stats: dict[int, PeerStats],
                 limits: PeerLimits, log: RateLimitedLog, deliver: Callable[[Message], None],
                 new_decoder: Callable[[], Any], http: HttpServe | None = None) -> None:
        self.local_id, self.cluster_id, self.stats = local_id, cluster_id, stats
        self.limits, self.log, self.deliver, self.new_decoder = limits, log, deliver, new_decoder
        self.http = http
        self._live: dict[int, trio.CancelScope] = {}  # member id -> its current connection
        self._open = 0  # connections not yet known to be HTTP, and binary ones
        self._open_http = 0  # counted apart: idle keep-alive clients must not lock peers out

    async def handle(self, stream: trio.abc.Stream) -> None:
        """Serve one accepted connection until it ends; never raises (handler of serve_listeners)."""
        try:
            if self._open >= self.limits.max_inbound:
                self.log.warning("peer.refused", reason="too many connections", open=self._open)
                return
            self._open += 1
            try:
                if isinstance(stream, TlsStream) and not await handshake(
                        stream, self.limits.handshake_timeout, self.log.warning):
                    return
                first = await self._first_bytes(stream)
                if first and first[0] in _HTTP_FIRST:
                    self._open -= 1
                    self._open_http += 1
                    try:
                        await self._serve_http(stream, first)
                    finally:
                        self._open_http -= 1
                        self._open += 1
                elif first:
                    await self._serve(stream, first)
            finally:
                self._open -= 1
        finally:
            await trio.aclose_forcefully(stream)

    async def _first_bytes(self, stream: trio.abc.Stream) -> bytes:
        """What the connection sends first (within the handshake timeout); b"" = give up."""
        with trio.move_on_after(self.limits.handshake_timeout):
            try:
                data = await stream.receive_some(self.limits.read_size)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                self.log.info("peer.closed", reason=failure_reason(exc))
                return b""
            if not data:
                self.log.warning("peer.refused", reason="closed before its Hello")
            return data
        self.log.warning("peer.refused", reason="no Hello within the handshake timeout")
        return b""

    async def _serve_http(self, stream: trio.abc.Stream, first: bytes) -> None:
        if self.http is None:
            self.log.warning("peer.refused", reason="HTTP is not served here")
        elif self._open_http > self.limits.max_inbound_http:
            self.log.warning("peer.refused", reason="too many HTTP connections", open=self._open_http)
        else:
            await self.http(stream, first)  # never raises (http/server.py)

    def forget(self, peer: int) -> None:
        """`peer` left the cluster: end its live connection (a new one is refused)."""
        scope = self._live.pop(peer, None)
        if scope is not None:
            scope.cancel()

    async def _serve(self, stream: trio.abc.Stream, first: bytes) -> None:
        decoder = self.new_decoder()
        scope = trio.CancelScope()
        peer: int | None = None
        try:
            with scope:
                peer, messages, received = await self._handshake(stream, decoder, first)
                stats = self.stats[peer]
                stats.received_bytes += received
                self._supersede(peer, scope)
                self.log.info("peer.accepted", peer, address=peer_address(stream))
                self._deliver(stats, messages)
                direct = stream_io(stream)
                while data := await direct.receive_some(self.limits.read_size):
                    stats.received_bytes += len(data)
                    self._deliver(stats, decoder.feed(data))
                self.log.info("peer.closed", peer, reason="closed by peer")
            if scope.cancelled_caught:
                gone = peer not in self.stats
                self.log.info("peer.closed", peer, reason="removed" if gone else "superseded")
        except (WireError, _Refused) as exc:
            event = "peer.bad_frame" if isinstance(exc, WireError) else "peer.refused"
            self.log.warning(event, peer if peer is not None else decoder.peer_id, reason=str(exc))
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self.log.info("peer.closed", peer, reason=failure_reason(exc))
        except Exception:  # a bug (in deliver, say) costs this connection, not the node
            self.log.exception("peer.connection_crashed", peer)
        finally:
            if peer is not None and self._live.get(peer) is scope:
                del self._live[peer]

    async def _handshake(self, stream: trio.abc.Stream, decoder: Any,
                         first: bytes) -> tuple[int, list[Message], int]:
        """(member id, messages that came with the Hello, bytes read) once the Hello is in."""
        messages = decoder.feed(first)
        received = len(first)
        with trio.move_on_after(self.limits.handshake_timeout):
            while decoder.peer_id is None:
                data = await stream.receive_some(self.limits.read_size)
                if not data:
                    raise _Refused("closed before its Hello")
                received += len(data)
                messages += decoder.feed(data)
        peer = decoder.peer_id
        if peer is None:
            raise _Refused("no Hello within the handshake timeout")
        if peer not in self.stats:
            raise _Refused(f"unknown member {peer:x}")
        return peer, messages, received

    def _supersede(self, peer: int, scope: trio.CancelScope) -> None:
        old = self._live.get(peer)
        if old is not None:
            old.cancel()
        self._live[peer] = scope

    def _deliver(self, stats: PeerStats, messages: list[Message]) -> None:
        # The decoder stamps every message with the Hello's sender: no frame can claim another.
        stats.received_messages += len(messages)
        for msg in messages:
            self.deliver(msg)
