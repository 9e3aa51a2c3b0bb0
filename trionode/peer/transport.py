"""PeerTransport: the node's peer edge, an inbound listener plus one sender task per peer.

    transport = PeerTransport(local_id, cluster_id, peers, bind_host, log,
                              deliver, report_unreachable, report_snapshot)
    await nursery.start(transport.serve, listeners)   # inbound
    await nursery.start(transport.run)                # outbound
    transport.send(ready.messages)                    # from the Ready loop; never blocks

The callbacks are plain functions called from trio tasks (deliver from a connection's
task; report_* from send() itself or a sender task): they must not block, and should
queue for the Ready loop rather than step the Raft core in the middle of a Ready.
Messages are never sent to ourselves or to ids outside `peers`; those are dropped with
a log line (a bug upstream, not a network condition).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import trio

from .. import wire
from ..raft.messages import Message
from .limits import PeerLimits
from .ratelog import RateLimitedLog
from .receiver import Inbound
from .sender import PeerSender
from .stats import PeerStats

__all__ = ["PeerTransport"]


class PeerTransport:
    def __init__(self, local_id: int, cluster_id: int, peers: dict[int, tuple[str, int]],
                 bind_host: str, log: Any, deliver: Callable[[Message], None],
                 report_unreachable: Callable[[int], None],
                 report_snapshot: Callable[[int, bool], None], *,
                 limits: PeerLimits = PeerLimits(), rng: random.Random | None = None) -> None:
        if local_id <= 0 or local_id in peers or any(peer <= 0 for peer in peers):
            raise ValueError(f"member ids must be nonzero and peers must exclude {local_id:x}")
        self.local_id, self.cluster_id, self.limits = local_id, cluster_id, limits
        self._log = RateLimitedLog(log, trio.current_time, limits.log_interval)
        self._report_unreachable = report_unreachable
        self._report_snapshot = report_snapshot
        rng = rng if rng is not None else random.Random()  # jitter only; never the global one
        self._stats = {peer: PeerStats() for peer in peers}
        self._senders = {
            peer: PeerSender(peer, address, bind_host, self._hello(peer), limits, self._stats[peer],
                             self._log, random.Random(rng.random()), self._encode, report_unreachable,
                             report_snapshot)
            for peer, address in peers.items()
        }
        self._inbound = Inbound(local_id, cluster_id, self._stats, limits, self._log, deliver,
                                lambda: wire.PeerDecoder(local_id, cluster_id, limits.max_frame))

    def _encode(self, msg: Message, chunk_size: int) -> list[bytes]:
        return wire.encode_message(msg, chunk_size=chunk_size, max_frame=self.limits.max_frame)

    def _hello(self, peer: int) -> bytes:
        return wire.encode_hello(wire.Hello(version=wire.VERSION, cluster_id=self.cluster_id,
                                            frm=self.local_id, to=peer))

    @property
    def stats(self) -> dict[int, PeerStats]:
        """Live counters per peer id (read them, do not keep them across a restart)."""
        return self._stats

    async def serve(self, listeners: list[trio.SocketListener], *,
                    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED) -> None:
        """Accept peer connections on `listeners` until cancelled."""
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._inbound.handle, listeners)
            task_status.started(listeners)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The sender tasks, one per peer, until cancelled."""
        async with trio.open_nursery() as nursery:
            for sender in self._senders.values():
                nursery.start_soon(sender.run)
            task_status.started()

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
