"""PeerTransport.set_peers: members added and removed while the transport runs."""

from __future__ import annotations

import dataclasses

import pytest
import trio
from test_peer_faults import closed_by_peer, raw
from test_peer_transport import CLUSTER, FAST, Node, heartbeat, listen, until

from trionode.wire import VERSION, Hello, encode_hello


async def test_added_peer_gets_messages() -> None:
    async with trio.open_nursery() as nursery:
        listeners_a, port_a = await listen()
        listeners_b, port_b = await listen()
        a = Node(1, {})
        b = Node(2, {1: ("127.0.0.1", port_a)})
        await a.start(nursery, listeners_a)
        await b.start(nursery, listeners_b)
        a.transport.send([heartbeat(1, 2)])
        assert a.log.events("peer.unknown_target")  # not a peer yet
        a.transport.set_peers({2: ("127.0.0.1", port_b)})
        assert a.transport.peers == {2: ("127.0.0.1", port_b)} and 2 in a.transport.stats
        a.transport.send([heartbeat(1, 2, commit=5)])
        await until(lambda: b.inbox)
        assert b.inbox == [heartbeat(1, 2, commit=5)]
        assert a.log.events("peer.added")[0]["peer"] == "2"
        nursery.cancel_scope.cancel()


async def test_removed_peer_is_cut_off_both_ways() -> None:
    async with trio.open_nursery() as nursery:
        listeners_a, port_a = await listen()
        listeners_b, port_b = await listen()
        a = Node(1, {2: ("127.0.0.1", port_b)})
        b = Node(2, {1: ("127.0.0.1", port_a)})
        await a.start(nursery, listeners_a)
        await b.start(nursery, listeners_b)
        a.transport.send([heartbeat(1, 2)])
        await until(lambda: b.inbox)
        b.transport.set_peers({})
        assert b.transport.peers == {}
        await until(lambda: b.transport.stats == {})  # after leave_grace
        # then b ends a's live connection, and refuses the next one
        await until(lambda: b.log.events("peer.closed"))
        assert b.log.events("peer.closed")[0]["reason"] == "removed"
        stream = await raw(port_b, encode_hello(Hello(VERSION, CLUSTER, 1, 2)))
        assert await closed_by_peer(stream)
        await until(lambda: b.log.events("peer.refused"))
        assert b.log.events("peer.refused")[-1]["reason"] == "unknown member 1"
        b.transport.send([heartbeat(2, 1)])
        assert b.log.events("peer.unknown_target")
        nursery.cancel_scope.cancel()


async def test_a_removed_peer_still_gets_and_sends_the_last_words() -> None:
    """Within leave_grace both ways still work: a removed leader's TIMEOUT_NOW reaches a
    successor that applied the removal first, and what was queued for a removed follower
    (the commit of its removal) still leaves."""
    async with trio.open_nursery() as nursery:
        listeners_a, port_a = await listen()
        listeners_b, port_b = await listen()
        slow = dataclasses.replace(FAST, leave_grace=5.0)
        a = Node(1, {2: ("127.0.0.1", port_b)}, limits=slow)
        b = Node(2, {1: ("127.0.0.1", port_a)}, limits=slow)
        await a.start(nursery, listeners_a)
        await b.start(nursery, listeners_b)
        b.transport.set_peers({})  # b applied "1 is removed"
        a.transport.set_peers({})  # and a did too
        assert a.transport.peers == b.transport.peers == {}
        a.transport.send([heartbeat(1, 2, commit=7)])
        b.transport.send([heartbeat(2, 1, commit=8)])
        await until(lambda: b.inbox and a.inbox)
        assert b.inbox == [heartbeat(1, 2, commit=7)] and a.inbox == [heartbeat(2, 1, commit=8)]
        b.transport.set_peers({1: ("127.0.0.1", port_a)})  # back within the grace: it stays
        assert b.transport.peers == {1: ("127.0.0.1", port_a)}
        nursery.cancel_scope.cancel()


async def test_removing_a_peer_stops_its_sender() -> None:
    """A sender stuck reconnecting to a dead peer stops when the peer is removed."""
    async with trio.open_nursery() as nursery:
        a = Node(1, {2: ("127.0.0.1", 1)})
        await a.start(nursery, None)
        a.transport.send([heartbeat(1, 2)])
        await until(lambda: a.unreachable)
        a.transport.set_peers({})
        await until(lambda: a.transport.stats == {})  # gone after leave_grace
        reported = len(a.unreachable)
        # The sender's task has ended (the transport's nursery holds no task any more): so
        # no further attempt can come, however long one waits.
        await until(lambda: not a.transport._nursery.child_tasks, what="the sender to stop")
        assert len(a.unreachable) == reported
        a.transport.set_peers({3: ("127.0.0.1", 1)})
        a.transport.send([heartbeat(1, 3)])
        await until(lambda: len(a.unreachable) > reported)
        assert {peer for _, peer in a.unreachable[reported:]} == {3}
        nursery.cancel_scope.cancel()


async def test_a_new_address_restarts_the_sender_and_keeps_stats() -> None:
    async with trio.open_nursery() as nursery:
        listeners_b, port_b = await listen()
        listeners_c, port_c = await listen()
        a = Node(1, {2: ("127.0.0.1", port_b)})
        b = Node(2, {1: ("127.0.0.1", 1)})
        c = Node(2, {1: ("127.0.0.1", 1)})  # member 2 moved to another address
        await a.start(nursery, None)
        await b.start(nursery, listeners_b)
        await c.start(nursery, listeners_c)
        a.transport.send([heartbeat(1, 2, commit=1)])
        await until(lambda: b.inbox)
        stats = a.transport.stats[2]
        a.transport.set_peers({2: ("127.0.0.1", port_c)})
        a.transport.send([heartbeat(1, 2, commit=2)])
        await until(lambda: c.inbox)
        assert c.inbox == [heartbeat(1, 2, commit=2)] and len(b.inbox) == 1
        assert a.transport.stats[2] is stats and stats.sent_messages == 2
        nursery.cancel_scope.cancel()


async def test_set_peers_before_run_is_honoured() -> None:
    async with trio.open_nursery() as nursery:
        listeners_b, port_b = await listen()
        b = Node(2, {1: ("127.0.0.1", 1)})
        await b.start(nursery, listeners_b)
        a = Node(1, {})
        a.transport.set_peers({2: ("127.0.0.1", port_b)})
        await a.start(nursery, None)
        a.transport.send([heartbeat(1, 2)])
        await until(lambda: b.inbox)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("peers", [{1: ("127.0.0.1", 1)}, {0: ("127.0.0.1", 1)}])
async def test_set_peers_refuses_self_and_zero(peers: dict[int, tuple[str, int]]) -> None:
    a = Node(1, {2: ("127.0.0.1", 1)})
    with pytest.raises(ValueError):
        a.transport.set_peers(peers)
    assert a.transport.peers == {2: ("127.0.0.1", 1)}
