"""The peer transport under faults: bad input closes one connection only, overflow,
timeouts, backoff and log rate limits (virtual time where timing matters)."""

from __future__ import annotations

import struct

import pytest
import trio
import trio.testing
from test_peer_transport import CLUSTER, FAST, Node, append, dead_port, heartbeat, listen, pair, until

from trionode.peer import LatencyStats, PeerLimits
from trionode.raft.messages import Message, MsgType, Snapshot
from trionode.wire import VERSION, Hello, encode_hello


async def closed_by_peer(stream: trio.SocketStream) -> bool:
    """True once the other side closed or reset the connection (bytes are ignored)."""
    with trio.fail_after(5):
        try:
            while await stream.receive_some(4096):
                pass
        except trio.BrokenResourceError:
            pass
    return True


async def raw(port: int, data: bytes) -> trio.SocketStream:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(data)
    return stream


async def still_serving(a: Node, b: Node) -> None:
    before = len(b.inbox)
    a.transport.send([heartbeat(1, 2, commit=77)])
    await until(lambda: len(b.inbox) > before, 5, lambda: b.log.lines)
    assert b.inbox[-1].commit == 77


@pytest.mark.parametrize(("data", "event", "reason"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "peer.refused", "HTTP is not served here"),
    (b"get / HTTP/1.1\r\nHost: x\r\n\r\n" * 4, "peer.bad_frame", "exceeds max_frame"),
    (b"\xffgarbage" * 8, "peer.bad_frame", "exceeds max_frame"),
    (struct.pack(">IBBI", 4, 7, 0, 0) + b"\0" * 4, "peer.bad_frame", ""),
    (encode_hello(Hello(VERSION, CLUSTER + 1, 1, 2)), "peer.bad_frame", "foreign cluster"),
    (encode_hello(Hello(VERSION, CLUSTER, 1, 3)), "peer.bad_frame", "for member 3"),
    (encode_hello(Hello(VERSION, CLUSTER, 9, 2)), "peer.refused", "unknown member 9"),
    (encode_hello(Hello(VERSION, CLUSTER, 1, 2)) + struct.pack(">IBBI", 1 << 30, 1, 0, 0),
     "peer.bad_frame", "exceeds max_frame"),
])
async def test_bad_input_closes_only_that_connection(data: bytes, event: str, reason: str) -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        await still_serving(a, b)  # a's connection is up before the bad one comes
        port_b = a.transport._senders[2].address[1]
        stream = await raw(port_b, data)
        assert await closed_by_peer(stream)
        lines = b.log.events(event)
        assert len(lines) == 1 and reason in lines[0]["reason"], b.log.lines
        await still_serving(a, b)
        assert a.transport.stats[2].connects == 1  # a's own connection was never touched
        nursery.cancel_scope.cancel()


async def test_oversized_frame_from_a_member_costs_one_connection() -> None:
    small = PeerLimits(max_frame=4096, chunk_size=1024, backoff_min=0.01, backoff_max=0.05)
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery, limits_b=small)
        a.transport.send([append(1, 2, 1, b"x" * 10_000)])  # a's limit allows it, b's does not
        await until(lambda: a.unreachable, 5, lambda: (a.log.lines, b.log.lines))
        assert "exceeds max_frame" in b.log.events("peer.bad_frame")[0]["reason"]
        assert a.log.events("peer.disconnected")[0]["reason"] in ("closed by peer", "Connection reset by peer")
        await still_serving(a, b)
        assert a.transport.stats[2].connects == 2
        nursery.cancel_scope.cancel()


async def test_a_new_connection_from_a_member_supersedes_its_old_one() -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        port_b = a.transport._senders[2].address[1]
        old = await raw(port_b, encode_hello(Hello(VERSION, CLUSTER, 1, 2)))
        await trio.sleep(0.05)
        await still_serving(a, b)  # a's real connection says Hello after the stale one
        assert await closed_by_peer(old)
        assert b.log.events("peer.closed")[0]["reason"] == "superseded"
        nursery.cancel_scope.cancel()


async def test_a_failing_deliver_costs_one_connection() -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        inbox = b.inbox

        def deliver(msg: Message) -> None:
            if msg.commit == 13:
                raise RuntimeError("node bug")
            inbox.append(msg)

        b.transport._inbound.deliver = deliver
        a.transport.send([heartbeat(1, 2, commit=13)])
        await until(lambda: b.log.events("peer.connection_crashed"))
        await until(lambda: a.unreachable)
        await still_serving(a, b)
        nursery.cancel_scope.cancel()


async def test_outbox_overflow_drops_and_reports_unreachable() -> None:
    limits = PeerLimits(max_outbox_messages=10)
    a = Node(1, {2: ("127.0.0.1", await dead_port()), 3: ("127.0.0.1", await dead_port())}, limits=limits)
    snap = Message(MsgType.SNAP, to=2, frm=1, term=1, snapshot=Snapshot(5, 1, b"s"))
    a.transport.send([heartbeat(1, 2, commit=i) for i in range(12)] + [heartbeat(1, 3), snap])
    assert [peer for _, peer in a.unreachable] == [2]  # once per send() call, not per message
    assert a.snapshots == [(2, False)]
    assert a.transport.stats[2].dropped == 3 and a.transport.stats[3].dropped == 0
    assert a.log.events("peer.outbox_full") == [{"peer": "2", "dropped": 3, "queued": 10}]


async def test_outbox_byte_limit_admits_one_large_message() -> None:
    limits = PeerLimits(max_outbox_bytes=1000)
    a = Node(1, {2: ("127.0.0.1", await dead_port())}, limits=limits)
    a.transport.send([append(1, 2, 1, b"x" * 5000), heartbeat(1, 2)])
    assert len(a.transport._senders[2].outbox) == 1 and a.transport.stats[2].dropped == 1


async def test_messages_to_unknown_members_are_dropped_with_a_log_line() -> None:
    a = Node(1, {2: ("127.0.0.1", await dead_port())})
    a.transport.send([heartbeat(1, 5), heartbeat(1, 1)])
    assert [kw["peer"] for kw in a.log.events("peer.unknown_target")] == ["5", "1"]
    assert not a.unreachable


async def test_hello_must_arrive_within_the_handshake_timeout(autojump_clock: trio.testing.MockClock) -> None:
    listeners, port = await listen()
    b = Node(2, {1: ("127.0.0.1", 1)}, limits=PeerLimits(handshake_timeout=3.0))
    async with trio.open_nursery() as nursery:
        await b.start(nursery, listeners)
        start = trio.current_time()
        silent = await raw(port, encode_hello(Hello(VERSION, CLUSTER, 1, 2))[:10])
        assert await closed_by_peer(silent)
        assert trio.current_time() - start == pytest.approx(3.0, abs=0.01)
        assert b.log.events("peer.refused")[0]["reason"] == "no Hello within the handshake timeout"
        nursery.cancel_scope.cancel()


async def test_idle_connections_stay_open(autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        a, b = await pair(nursery)
        for commit in range(3):
            await still_serving(a, b)
            await trio.sleep(3600)
        assert a.transport.stats[2].connects == 1 and not a.unreachable
        nursery.cancel_scope.cancel()


async def test_reconnects_back_off_with_jitter_and_logs_are_rate_limited(
        autojump_clock: trio.testing.MockClock) -> None:
    limits = PeerLimits(backoff_min=0.05, backoff_max=2.0, log_interval=10.0)
    a = Node(1, {2: ("127.0.0.1", await dead_port())}, limits=limits, seed=42)
    async with trio.open_nursery() as nursery:
        await a.start(nursery, None)
        for _ in range(3000):  # a heartbeat every 10 ms for 30 s
            a.transport.send([heartbeat(1, 2)])
            await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    times = [t for t, _ in a.unreachable]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(0.05 <= gap <= 2.0 + 0.011 for gap in gaps), gaps
    assert gaps[0] < 0.1 and max(gaps) > 1.0, gaps  # grows towards the cap
    assert len({round(gap, 3) for gap in gaps[-5:]}) == 5, gaps  # jittered at the cap too
    assert 15 <= len(times) <= 40, times
    lines = a.log.events("peer.connect_failed")
    assert 3 <= len(lines) <= 4 and lines[1]["suppressed"] >= 5, lines


async def test_a_peer_that_stops_reading_hits_the_write_timeout(autojump_clock: trio.testing.MockClock) -> None:
    listeners, port = await listen()
    a = Node(1, {2: ("127.0.0.1", port)}, limits=PeerLimits(write_timeout=5.0))
    async with trio.open_nursery() as nursery:
        await a.start(nursery, None)
        a.transport.send([append(1, 2, i, b"x" * (1 << 20)) for i in range(1, 60)])
        stream = await listeners[0].accept()  # and never read
        await until(lambda: a.unreachable, 60)
        assert a.log.events("peer.disconnected")[0]["reason"] == "timeout"
        assert a.transport.stats[2].dropped == 59 and a.transport.stats[2].sent_messages == 0
        await stream.aclose()
        nursery.cancel_scope.cancel()


def test_latency_stats_in_etcd_shape() -> None:
    stats = LatencyStats()
    assert stats.as_dict()["latency"]["minimum"] == 0.0
    for ms in (1.0, 3.0):
        stats.record(ms)
    stats.failed()
    assert stats.as_dict() == {
        "latency": {"current": 3.0, "average": 2.0, "standardDeviation": 1.0, "minimum": 1.0, "maximum": 3.0},
        "counts": {"fail": 1, "success": 2},
    }


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        PeerLimits(write_timeout=0)
    with pytest.raises(ValueError):
        PeerLimits(chunk_size=FAST.max_frame)
