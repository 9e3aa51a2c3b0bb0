"""PeerTransport: the node's peer edge, an inbound listener plus one sender task per peer.

    transport = PeerTransport(local_id, cluster_id, peers, bind_host, log,
                              deliver, report_unreachable, report_snapshot, tls=client_context)
    await nursery.start(partial(transport.serve, http_serve=http.serve), listeners)
                                                      # inbound: binary peers and HTTP
    await nursery.start(transport.run)                # outbound
    transport.send(ready.messages)                    # from the Ready loop; never blocks
    transport.set_peers(new_peers)                    # after a membership change is applied

The callbacks are plain functions called from trio tasks (deliver from a connection's
task; report_* from send() itself or a sender task): they must not block, and should
queue for the Ready loop rather than step the Raft core in the middle of a Ready.
Messages are never sent to ourselves or to ids outside `peers`; those are dropped with
a log line (a bug upstream, or a member removed a moment ago).
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable, Iterable

import trio

from .. import wire
from ..raft.messages import Message
from ..telemetry.logger import Logger
from .limits import PeerLimits
from .ratelog import RateLimitedLog
from .receiver import HttpServe, Inbound
from .sender import PeerSender
from .stats import PeerStats

__all__ = ["PeerTransport"]

Address = tuple[str, int]


class PeerTransport:
    def __init__(self, local_id: int, cluster_id: int, peers: dict[int, Address],
                 bind_host: str, log: Logger, deliver: Callable[[Message], None],
                 report_unreachable: Callable[[int], None],
                 report_snapshot: Callable[[int, bool], None], *,
                 limits: PeerLimits = PeerLimits(), rng: random.Random | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        if local_id <= 0:
            raise ValueError("the local member id must be nonzero")
        self._check(local_id, peers)
        self.local_id, self.cluster_id, self.limits = local_id, cluster_id, limits
        self.bind_host = bind_host
        self._tls = tls  # dial every peer over TLS with it (a cluster's peer URLs share one scheme)
        self._log = RateLimitedLog(log, trio.current_time, limits.log_interval)
        self._report_unreachable = report_unreachable
        self._report_snapshot = report_snapshot
        self._rng = rng if rng is not None else random.Random()  # jitter only; never the global one
        self._stats: dict[int, PeerStats] = {}
        self._senders: dict[int, PeerSender] = {}
        self._scopes: dict[int, trio.CancelScope] = {}  # peer -> its sender task, once running
        self._leaving: dict[int, trio.CancelScope] = {}  # removed peer -> its leave_grace timer
        self._nursery: trio.Nursery | None = None  # run()'s, for senders added later
        self._inbound = Inbound(local_id, cluster_id, self._stats, limits, self._log, deliver,
                                lambda: wire.PeerDecoder(local_id, cluster_id, limits.max_frame))
        for peer, address in peers.items():
            self._add(peer, address)

    @staticmethod
    def _check(local_id: int, peers: dict[int, Address]) -> None:
        if local_id in peers or any(peer <= 0 for peer in peers):
            raise ValueError(f"member ids must be nonzero and peers must exclude {local_id:x}")

    def _encode(self, msg: Message, chunk_size: int) -> list[bytes]:
        return wire.encode_message(msg, chunk_size=chunk_size, max_frame=self.limits.max_frame)

    def _hello(self, peer: int) -> bytes:
        return wire.encode_hello(wire.Hello(version=wire.VERSION, cluster_id=self.cluster_id,
                                            frm=self.local_id, to=peer))

    @property
    def stats(self) -> dict[int, PeerStats]:
        """Live counters per peer id (read them, do not keep them across a restart)."""
        return self._stats

    @property
    def peers(self) -> dict[int, Address]:
        """The current peers and their addresses (a copy; peers leaving are not in it)."""
        return {peer: sender.address for peer, sender in self._senders.items()
                if peer not in self._leaving}

    async def serve(self, listeners: list[trio.abc.Listener], *, http_serve: HttpServe | None = None,
                    task_status: trio.TaskStatus[list[trio.abc.Listener]] = trio.TASK_STATUS_IGNORED) -> None:
        """Accept peer connections, and HTTP ones when there is an `http_serve` (the peer
        port's HTTP app, http/server.py HttpConnections.serve), until cancelled. A
        A TlsListener's connections are TLS (net/listen.py)."""
        self._inbound.http = http_serve
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._inbound.handle, listeners)
            task_status.started(listeners)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The sender tasks, one per peer, until cancelled (set_peers adds and ends some)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                for peer in self._senders:
                    self._start(peer)
                task_status.started()
                await trio.sleep_forever()  # keeps the nursery open for senders added later
            finally:
                self._nursery = None

    def set_peers(self, peers: dict[int, Address]) -> None:
        """Make `peers` the peer set: senders start for new ids, a changed address restarts
        its sender, and a removed peer leaves after `leave_grace` (see PeerLimits): then its
        sender stops (what is still queued is dropped), inbound connections from it are
        refused, and its stats go away. Callable before or after `run` started."""
        self._check(self.local_id, peers)
        for peer in [p for p in self._senders if p not in peers and p not in self._leaving]:
            self._log.info("peer.removed", peer)
            self._retire(peer)
        for peer, address in peers.items():
            timer = self._leaving.pop(peer, None)
            if timer is not None:  # back before it was gone
                timer.cancel()
            sender = self._senders.get(peer)
            if sender is not None and sender.address == tuple(address):
                continue
            stats = self._stats.get(peer)
            if sender is not None:
                self._remove(peer)
            self._add(peer, address, stats)
            self._log.info("peer.added", peer, address=f"{address[0]}:{address[1]}")
            if self._nursery is not None:
                self._start(peer)

    def _add(self, peer: int, address: Address, stats: PeerStats | None = None) -> None:
        self._stats[peer] = stats if stats is not None else PeerStats()
        self._senders[peer] = PeerSender(
            peer, tuple(address), self.bind_host, self._hello(peer), self.limits, self._stats[peer],
            self._log, random.Random(self._rng.random()), self._encode, self._report_unreachable,
            self._report_snapshot, self._tls)

    def _retire(self, peer: int) -> None:
        if self._nursery is None:  # not running: nothing is in flight
            self._remove(peer)
            return
        timer = self._leaving[peer] = trio.CancelScope()
        self._nursery.start_soon(self._remove_later, peer, timer)

    async def _remove_later(self, peer: int, timer: trio.CancelScope) -> None:
        with timer:
            await trio.sleep(self.limits.leave_grace)
            del self._leaving[peer]
            self._remove(peer)

    def _remove(self, peer: int) -> None:
        del self._senders[peer]
        del self._stats[peer]
        scope = self._scopes.pop(peer, None)
        if scope is not None:
            scope.cancel()
        self._inbound.forget(peer)

    def _start(self, peer: int) -> None:
        assert self._nursery is not None
        scope = self._scopes[peer] = trio.CancelScope()
        self._nursery.start_soon(self._run_sender, self._senders[peer], scope)

    @staticmethod
    async def _run_sender(sender: PeerSender, scope: trio.CancelScope) -> None:
        with scope:  # cancelled by set_peers when the peer leaves (even before it got here)
            await sender.run()

    def send(self, messages: Iterable[Message]) -> None:
        """Queue each message for its peer's sender; never blocks.

        A full outbox drops the message; each peer that lost one is reported unreachable
        once per call (and a dropped SNAP is reported failed).
        """
        dropped: dict[int, int] = {}
        for msg in messages:
            sender = self._senders.get(msg.to)
            if sender is None:
                self._log.warning("peer.unknown_target", msg.to, message=msg.describe())
            elif not sender.outbox.put(msg):
                dropped[msg.to] = dropped.get(msg.to, 0) + 1
                sender.lose([msg])
        for peer, count in dropped.items():
            self._log.warning("peer.outbox_full", peer, dropped=count,
                              queued=len(self._senders[peer].outbox))
            self._report_unreachable(peer)
