"""propose_all: a batch of proposals is one append and one APP per follower."""

from __future__ import annotations

import random

import pytest

from trionode.raft import HardState, Message, MsgType, ProposalDropped, RaftConfig, RaftCore


def cluster() -> dict[int, RaftCore]:
    ids = (1, 2, 3)
    return {i: RaftCore(RaftConfig(id=i, peers=ids, rng=random.Random(i)), HardState(), None, [])
            for i in ids}


def stabilize(cores: dict[int, RaftCore]) -> list[Message]:
    sent: list[Message] = []
    moved = True
    while moved:
        moved = False
        for core in cores.values():
            while core.has_ready():
                ready = core.ready()
                moved = True
                sent.extend(ready.messages)
                for message in ready.messages:
                    cores[message.to].step(message)
                core.advance(ready)
    return sent


def test_a_batch_is_one_append_per_follower() -> None:
    cores = cluster()
    cores[1].step(Message(MsgType.HUP, to=1, frm=1))
    stabilize(cores)
    cores[1].propose_all([b"a", b"b", b"c"])
    ready = cores[1].ready()
    appends = [m for m in ready.messages if m.type is MsgType.APP]
    assert sorted(m.to for m in appends) == [2, 3]
    assert all([e.data for e in m.entries] == [b"a", b"b", b"c"] for m in appends)
    cores[1].advance(ready)
    for message in ready.messages:
        cores[message.to].step(message)
    stabilize(cores)
    assert all(core.status.commit == 4 for core in cores.values())  # the empty entry + 3


def test_a_follower_forwards_a_batch_as_one_proposal() -> None:
    cores = cluster()
    cores[1].step(Message(MsgType.HUP, to=1, frm=1))
    stabilize(cores)
    cores[2].propose_all([b"x", b"y"])
    props = [m for m in cores[2].ready().messages if m.type is MsgType.PROP]
    assert len(props) == 1 and [e.data for e in props[0].entries] == [b"x", b"y"]


def test_no_leader_drops_the_whole_batch() -> None:
    with pytest.raises(ProposalDropped):
        cluster()[1].propose_all([b"a", b"b"])
