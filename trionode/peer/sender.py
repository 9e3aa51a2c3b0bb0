"""One task per peer: connect (from our own peer address), say Hello, write batches.

With https peer URLs the connection is TLS (the transport's client context): the
handshake, then the Hello, inside the connect timeout.

Connections are one-way: we only write, the peer only reads (it answers over its own
connection to us). While a connection is up a second, tiny task waits on its read side,
so a peer that closed or reset us is noticed at once instead of on a later write.

Loss is reported, never hidden (STYLE §10): a failed connect or write calls
report_unreachable (Raft drops to probing the follower, etcd-io/raft ReportUnreachable),
and a SNAP whose frames did not all go out is reported failed, else succeeded
(ReportSnapshot), so the leader never waits for a snapshot that is not coming.
"""

from __future__ import annotations

import ipaddress
import os
import random
import ssl
from collections.abc import Callable, Iterator

import trio

from ..net.streams import stream_io
from ..net.tls import ssl_failure
from ..net.tlsstream import TlsStream
from ..raft.messages import Message, MsgType
from .limits import PeerLimits
from .outbox import Outbox
from .ratelog import RateLimitedLog
from .stats import PeerStats

__all__ = ["PeerSender", "failure_reason", "open_bound_stream"]

Encode = Callable[[Message, int], list[bytes]]
_FAILURES = (OSError, trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError)


def failure_reason(exc: BaseException) -> str:
    """One short text for a connect or write failure (OSError translated here, STYLE §6)."""
    if isinstance(exc, trio.TooSlowError):
        return "timeout"
    tls = ssl_failure(exc)
    if tls is not None:
        return tls
    cause = exc.__cause__ if isinstance(exc, trio.BrokenResourceError) else exc
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno)
    return type(exc).__name__


async def open_bound_stream(host: str, port: int, bind_host: str) -> trio.SocketStream:
    """trio.open_tcp_stream, but from `bind_host`'s address.

    The source address is the node's own peer IP, so a partition made with iptables on
    that address (network namespaces, chaos tests) also cuts what this node sends.
    """
    infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    if bind_host:
        try:
            family = trio.socket.AF_INET6 if ipaddress.ip_address(bind_host).version == 6 else trio.socket.AF_INET
        except ValueError:  # a name: let bind() resolve it
            family = None
        infos = [info for info in infos if family is None or info[0] == family] or infos
    family, type_, proto, _, address = infos[0]
    sock = trio.socket.socket(family, type_, proto)
    try:
        if bind_host:
            await sock.bind((bind_host, 0))
        await sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


class PeerSender:
    """The sender task of one peer; `outbox` is filled by PeerTransport.send()."""

    __slots__ = ("peer", "address", "bind_host", "hello", "outbox", "limits", "stats", "log",
                 "rng", "encode", "report_unreachable", "report_snapshot", "tls", "_inflight", "_ended")

    def __init__(self, peer: int, address: tuple[str, int], bind_host: str, hello: bytes,
                 limits: PeerLimits, stats: PeerStats, log: RateLimitedLog, rng: random.Random,
                 encode: Encode, report_unreachable: Callable[[int], None],
                 report_snapshot: Callable[[int, bool], None], tls: ssl.SSLContext | None = None) -> None:
        self.peer, self.address, self.bind_host, self.hello = peer, address, bind_host, hello
        self.tls = tls
        self.outbox = Outbox(limits.max_outbox_messages, limits.max_outbox_bytes)
        self.limits, self.stats, self.log, self.rng, self.encode = limits, stats, log, rng, encode
        self.report_unreachable = report_unreachable
        self.report_snapshot = report_snapshot
        self._inflight: list[Message] = []  # drained, being written, not yet confirmed
        self._ended = ""  # why the current connection ended

    async def run(self) -> None:
        """Until cancelled: connect when there is something to send, write, reconnect."""
        delay = self.limits.backoff_min
        try:
            while True:
                await self.outbox.wait()
                stream = await self._connect()
                if stream is None:
                    self.lose(self.outbox.drain())  # stale by the time a retry could send them
                    self.report_unreachable(self.peer)
                else:
                    started = trio.current_time()
                    await self._serve(stream)
                    if trio.current_time() - started >= self.limits.backoff_max:
                        delay = self.limits.backoff_min  # it was up a while: not flapping
                await trio.sleep(self._jittered(delay))
                delay = min(self.limits.backoff_max, delay * 2)
        finally:
            self.lose(self._inflight)

    def _jittered(self, delay: float) -> float:
        """A pause in [delay/2, delay), never under backoff_min: members that lost the same
        peer at the same moment do not all knock again in step."""
        return max(self.limits.backoff_min, delay * (0.5 + 0.5 * self.rng.random()))

    def lose(self, messages: list[Message]) -> None:
        """`messages` will not arrive: count them and fail their snapshots.

        The caller reports the peer unreachable (once, not per message).
        """
        self.stats.dropped += len(messages)
        for msg in messages:
            if msg.type is MsgType.SNAP:
                self.report_snapshot(self.peer, False)

    async def _connect(self) -> trio.abc.Stream | None:
        host, port = self.address
        try:
            with trio.fail_after(self.limits.connect_timeout):
                stream: trio.abc.Stream = await open_bound_stream(host, port, self.bind_host)
                try:
                    if self.tls is not None:
                        stream = TlsStream.wrap(stream, self.tls, server_side=False, server_hostname=host)
                        await stream.do_handshake()
                    await stream.send_all(self.hello)
                except BaseException:
                    await trio.aclose_forcefully(stream)
                    raise
        except _FAILURES as exc:
            self.stats.send_failures += 1
            self.log.info("peer.connect_failed", self.peer, address=f"{host}:{port}", reason=failure_reason(exc))
            return None
        self.stats.connects += 1
        self.log.info("peer.connected", self.peer, address=f"{host}:{port}")
        return stream

    async def _serve(self, stream: trio.abc.Stream) -> None:
        """Write batches until the connection fails or the peer closes it; then clean up."""
        self._ended = ""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch, stream, nursery.cancel_scope)
                await self._pump(stream, nursery.cancel_scope)
        finally:
            await trio.aclose_forcefully(stream)
        self.stats.send_failures += 1
        self.log.info("peer.disconnected", self.peer, reason=self._ended)
        lost, self._inflight = self._inflight, []
        self.lose(lost)
        self.report_unreachable(self.peer)

    async def _watch(self, stream: trio.abc.Stream, scope: trio.CancelScope) -> None:
        """The peer never writes on our connection: any byte, EOF or reset ends it."""
        try:
            data = await stream.receive_some(1)
            reason = "unexpected data" if data else "closed by peer"
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            reason = failure_reason(exc)
        self._ended = self._ended or reason
        scope.cancel()

    async def _pump(self, stream: trio.abc.Stream, scope: trio.CancelScope) -> None:
        direct = stream_io(stream)
        try:
            while True:
                await self.outbox.wait()
                batch, frames = self._encode(self.outbox.drain())
                self._inflight = batch
                for data in self._writes(frames):
                    await direct.send_all(data, self.limits.write_timeout)
                self._inflight = []
                self.stats.sent_messages += len(batch)
                self.stats.sent_bytes += sum(map(len, frames))
                for msg in batch:
                    if msg.type is MsgType.SNAP:
                        self.report_snapshot(self.peer, True)
        except _FAILURES as exc:
            self._ended = self._ended or failure_reason(exc)
            scope.cancel()

    def _writes(self, frames: list[bytes]) -> Iterator[bytes]:
        """The frames joined into writes of about max_write_bytes (one, usually)."""
        limit = self.limits.max_write_bytes
        start = size = 0
        for end, frame in enumerate(frames, 1):
            size += len(frame)
            if size >= limit:
                yield b"".join(frames[start:end])
                start, size = end, 0
        if start < len(frames):
            yield b"".join(frames[start:])

    def _encode(self, batch: list[Message]) -> tuple[list[Message], list[bytes]]:
        """The messages that encoded and their frames, in order. A message the codec
        refuses is a bug: logged and lost on its own; the rest of the batch goes."""
        good: list[Message] = []
        frames: list[bytes] = []
        for msg in batch:
            try:
                frames += self.encode(msg, self.limits.chunk_size)
            except Exception:
                self.log.exception("peer.encode_failed", self.peer, message=msg.describe())
                self.lose([msg])
                continue
            good.append(msg)
        return good, frames
