"""The peer transport on loopback sockets: delivery both ways, order, reconnects, snapshots,
source binding, shutdown. The helpers here are shared with test_peer_faults.py."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import pytest
import trio

from trionode.http.server import HttpConnections, HttpLimits
from trionode.peer import PeerLimits, PeerTransport
from trionode.raft.messages import Entry, Message, MsgType, Snapshot
from trionode.wire import VERSION, Hello, encode_hello

CLUSTER = 0xC1
FAST = PeerLimits(backoff_min=0.01, backoff_max=0.05, connect_timeout=2.0, handshake_timeout=2.0,
                  leave_grace=0.05)


class Log:
    """Records (event, fields) of every log call."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def _record(self, event: str, **kw: Any) -> None:
        self.lines.append((event, kw))

    info = warning = error = debug = exception = _record

    def events(self, name: str) -> list[dict[str, Any]]:
        return [kw for event, kw in self.lines if event == name]


class Node:
    """One PeerTransport plus everything its callbacks reported."""

    def __init__(self, node_id: int, peers: dict[int, tuple[str, int]], *, bind_host: str = "127.0.0.1",
                 limits: PeerLimits = FAST, seed: int = 1, http_app: Any = None) -> None:
        self.id = node_id
        self.log = Log()
        self.inbox: list[Message] = []
        self.unreachable: list[tuple[float, int]] = []
        self.snapshots: list[tuple[int, bool]] = []
        # the peer port's HTTP side, as node.py sets it up
        self.http = HttpConnections(http_app, HttpLimits(), self.log) if http_app is not None else None
        self.transport = PeerTransport(
            node_id, CLUSTER, peers, bind_host, self.log, self.inbox.append,
            lambda peer: self.unreachable.append((trio.current_time(), peer)),
            lambda peer, ok: self.snapshots.append((peer, ok)),
            limits=limits, rng=random.Random(seed))

    async def start(self, nursery: trio.Nursery, listeners: list[trio.SocketListener] | None) -> None:
        if self.http is not None:
            await nursery.start(self.http.run)
        if listeners is not None:
            serve = partial(self.transport.serve, http_serve=self.http.serve if self.http else None)
            await nursery.start(serve, listeners)
        await nursery.start(self.transport.run)


async def listen(host: str = "127.0.0.1", port: int = 0) -> tuple[list[trio.SocketListener], int]:
    listeners = await trio.open_tcp_listeners(port, host=host)
    return listeners, listeners[0].socket.getsockname()[1]


async def dead_port() -> int:
    """A loopback port nobody listens on (just closed; the OS does not hand it out again at once)."""
    listeners, port = await listen()
    for listener in listeners:
        await listener.aclose()
    return port


async def until(predicate: Any, timeout: float = 5.0, what: Any = "") -> None:
    """Poll `predicate`; on timeout fail with `what` (a string, or a callable giving one)."""
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.002)
        return
    raise AssertionError(f"timed out after {timeout}s: {what() if callable(what) else what}")


def heartbeat(frm: int, to: int, term: int = 1, commit: int = 0) -> Message:
    return Message(MsgType.HEARTBEAT, to=to, frm=frm, term=term, commit=commit)


def append(frm: int, to: int, index: int, data: bytes = b"x") -> Message:
    return Message(MsgType.APP, to=to, frm=frm, term=1, log_term=1, index=index - 1,
                   entries=(Entry(1, index, data),))


async def pair(nursery: trio.Nursery, *, limits_b: PeerLimits = FAST) -> tuple[Node, Node]:
    """Two members, 1 and 2, each serving and sending."""
    listeners_a, port_a = await listen()
    listeners_b, port_b = await listen()
    a = Node(1, {2: ("127.0.0.1", port_b)})
    b = Node(2, {1: ("127.0.0.1", port_a)}, limits=limits_b)
    await a.start(nursery, listeners_a)
    await b.start(nursery, listeners_b)
    return a, b


async def test_messages_flow_both_ways() -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        a.transport.send([heartbeat(1, 2, commit=3)])
        b.transport.send([Message(MsgType.HEARTBEAT_RESP, to=1, frm=2, term=1)])
        await until(lambda: a.inbox and b.inbox)
        assert b.inbox == [heartbeat(1, 2, commit=3)]
        assert a.inbox == [Message(MsgType.HEARTBEAT_RESP, to=1, frm=2, term=1)]
        assert a.transport.stats[2].sent_messages == 1 and a.transport.stats[2].connects == 1
        assert b.transport.stats[1].received_messages == 1
        hello = encode_hello(Hello(VERSION, CLUSTER, 1, 2))
        assert b.transport.stats[1].received_bytes == a.transport.stats[2].sent_bytes + len(hello)
        assert not a.unreachable and not b.unreachable
        assert b.log.events("peer.accepted")[0]["peer"] == "1"
        nursery.cancel_scope.cancel()


async def test_many_messages_arrive_in_order() -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        total = 20_000
        for start in range(1, total + 1, 1000):
            a.transport.send(append(1, 2, i, b"v%d" % i) for i in range(start, start + 1000))
            # the one before must be in: 1000-2000 queued, well below the outbox limit
            await until(lambda: len(b.inbox) >= start - 1, 10, lambda: a.transport.stats[2])
        await until(lambda: len(b.inbox) == total, 10, lambda: a.transport.stats[2])
        assert [m.index + 1 for m in b.inbox] == list(range(1, total + 1))
        assert b.inbox[-1].entries[0].data == b"v%d" % total
        assert a.transport.stats[2].dropped == 0 and a.transport.stats[2].connects == 1
        nursery.cancel_scope.cancel()


async def test_peer_down_then_up_gets_later_messages() -> None:
    port = await dead_port()
    a = Node(1, {2: ("127.0.0.1", port)})
    async with trio.open_nursery() as nursery:
        await a.start(nursery, None)
        a.transport.send([heartbeat(1, 2)])
        await until(lambda: a.unreachable)
        assert a.unreachable[0][1] == 2 and a.transport.stats[2].dropped == 1
        assert a.log.events("peer.connect_failed")[0]["reason"] == "Connection refused"
        listeners, _ = await listen(port=port)
        b = Node(2, {1: ("127.0.0.1", 1)})
        await b.start(nursery, listeners)
        commit = 0
        while not b.inbox:  # keep sending, as a leader's heartbeats would
            commit += 1
            a.transport.send([heartbeat(1, 2, commit=commit)])
            await trio.sleep(0.01)
        assert b.inbox[0].commit >= 1  # the one sent while 2 was down is lost
        assert [m.commit for m in b.inbox] == sorted(m.commit for m in b.inbox)
        nursery.cancel_scope.cancel()


async def test_snapshot_is_reported_sent_after_its_frames_went_out() -> None:
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 17)  # several chunk frames
    snap = Message(MsgType.SNAP, to=2, frm=1, term=4, snapshot=Snapshot(index=90, term=3, data=data))
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        a.transport.send([heartbeat(1, 2), snap, heartbeat(1, 2, commit=90)])
        await until(lambda: len(b.inbox) == 3)
        assert b.inbox[1] == snap and b.inbox[2].commit == 90
        assert a.snapshots == [(2, True)]
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("bind_host", ["127.0.0.1", "127.0.0.2"])
async def test_outgoing_connections_come_from_bind_host(bind_host: str) -> None:
    """The peer sees our peer IP as the source (iptables partitions rely on it)."""
    try:
        probe = trio.socket.socket()
        await probe.bind((bind_host, 0))
        probe.close()
    except OSError:
        pytest.skip(f"{bind_host} is not usable here")
    listeners, port = await listen()
    a = Node(1, {2: ("127.0.0.1", port)}, bind_host=bind_host)
    async with trio.open_nursery() as nursery:
        await a.start(nursery, None)
        a.transport.send([heartbeat(1, 2)])
        stream = await listeners[0].accept()
        assert stream.socket.getpeername()[0] == bind_host
        await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_cancelling_the_nursery_stops_everything_promptly() -> None:
    with trio.fail_after(2):
        async with trio.open_nursery() as nursery:
            a, b = await pair(nursery)
            port = await dead_port()
            c = Node(3, {1: ("127.0.0.1", port)})  # stuck in backoff
            await c.start(nursery, None)
            c.transport.send([heartbeat(3, 1)])
            for i in range(1, 50):
                a.transport.send([append(1, 2, i)])
                b.transport.send([heartbeat(2, 1)])
            await until(lambda: b.inbox and a.inbox)
            nursery.cancel_scope.cancel()
    assert not any(event.endswith("crashed") for n in (a, b, c) for event, _ in n.log.lines)
