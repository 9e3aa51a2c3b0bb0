"""The peer codec (trionode/wire) against proto/SPEC.md: round-trips, stream splitting, fuzzing.

Hypothesis runs derandomized, so every run is the same; a failure prints the falsifying
example (the messages, the split points, the mutation) to replay it.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trionode.raft.messages import LOCAL_TYPES, Entry, Message, MsgType, Snapshot
from trionode.wire import Hello, PeerDecoder, encode_hello, encode_message
from trionode.wire.errors import WireError
from trionode.wire.frames import LAYOUTS

LOCAL, PEER, CLUSTER = 7, 3, 0x5EED
HELLO = encode_hello(Hello(1, CLUSTER, PEER, LOCAL))
U64 = st.integers(0, (1 << 64) - 1)
SMALL = dict(max_examples=300, deadline=None, derandomize=True)

entries_st = st.lists(st.builds(Entry, U64, U64, st.binary(max_size=64)), max_size=6).map(tuple)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """Any message a sender may encode: per type, exactly the fields its frame carries."""
    mtype = draw(st.sampled_from([t for t in MsgType if t not in LOCAL_TYPES]))
    if mtype is MsgType.SNAP:
        snap = Snapshot(draw(U64), draw(U64), draw(st.binary(max_size=200)))
        return Message(mtype, to=LOCAL, frm=PEER, term=draw(U64), snapshot=snap)
    layout = LAYOUTS[mtype]
    fields = {name: draw(U64) for name in layout.fixed}
    if layout.reject:
        fields["reject"] = draw(st.booleans())
    if layout.context:
        fields["context"] = draw(st.binary(max_size=40))
    if layout.entries:
        fields["entries"] = draw(entries_st)
    return Message(mtype, to=LOCAL, frm=PEER, **fields)


def stream(msgs: list[Message], chunk_size: int) -> bytes:
    return HELLO + b"".join(f for m in msgs for f in encode_message(m, chunk_size=chunk_size))


def decoder(**kw: int) -> PeerDecoder:
    return PeerDecoder(LOCAL, CLUSTER, **kw)


@settings(**SMALL)
@given(st.lists(messages(), max_size=8), st.integers(1, 64))
def test_round_trip(msgs: list[Message], chunk_size: int) -> None:
    dec = decoder()
    assert dec.feed(stream(msgs, chunk_size)) == msgs
    assert dec.peer_id == PEER and dec.buffered == 0


@settings(**SMALL)
@given(st.lists(messages(), min_size=1, max_size=6), st.integers(1, 32), st.data())
def test_any_split_gives_the_same_messages(msgs: list[Message], chunk_size: int, data: st.DataObject) -> None:
    raw = stream(msgs, chunk_size)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(raw)), max_size=20), label="cuts"))
    dec = decoder()
    got: list[Message] = []
    for start, end in zip([0, *cuts], [*cuts, len(raw)]):
        got += dec.feed(raw[start:end])
    assert got == msgs


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(messages(), min_size=1, max_size=4), st.integers(1, 16))
def test_one_byte_at_a_time(msgs: list[Message], chunk_size: int) -> None:
    raw = stream(msgs, chunk_size)
    dec = decoder()
    got: list[Message] = []
    for i in range(len(raw)):
        got += dec.feed(raw[i:i + 1])
    assert got == msgs


def feed_checked(dec: PeerDecoder, data: bytes) -> None:
    """Garbage in: valid messages out, or WireError; any other exception fails the test."""
    try:
        for msg in dec.feed(data):
            assert isinstance(msg, Message) and msg.to == LOCAL and msg.frm == PEER
            assert msg.type not in LOCAL_TYPES
            assert all(type(e.data) is bytes for e in msg.entries)
    except WireError:
        pass


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.binary(max_size=300), st.booleans())
def test_garbage_decodes_or_raises_wire_error(garbage: bytes, after_hello: bool) -> None:
    feed_checked(decoder(), (HELLO if after_hello else b"") + garbage)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(messages(), min_size=1, max_size=4), st.integers(1, 16), st.data())
def test_mutated_streams_decode_or_raise_wire_error(msgs: list[Message], chunk_size: int,
                                                   data: st.DataObject) -> None:
    raw = bytearray(stream(msgs, chunk_size))
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]), label="kind")
    at = data.draw(st.integers(0, len(raw) - 1), label="at")
    if kind == "flip":
        raw[at] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    elif kind == "truncate":
        del raw[at:]
    elif kind == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=8), label="inserted")
    elif kind == "delete":
        del raw[at:at + data.draw(st.integers(1, 8), label="deleted")]
    else:
        piece = data.draw(st.binary(min_size=1, max_size=8), label="written")
        raw[at:at + len(piece)] = piece
    feed_checked(decoder(), bytes(raw))
    one_by_one = decoder()
    for i in range(len(raw)):
        feed_checked(one_by_one, bytes(raw[i:i + 1]))


def test_chunked_snapshot_reassembles_around_other_frames() -> None:
    data = bytes(range(256)) * 40
    snap = Message(MsgType.SNAP, to=LOCAL, frm=PEER, term=4, snapshot=Snapshot(900, 3, data))
    chunks = encode_message(snap, chunk_size=1000)
    assert len(chunks) == 11
    beat = Message(MsgType.HEARTBEAT, to=LOCAL, frm=PEER, term=4, commit=800)
    dec = decoder()
    got = dec.feed(HELLO)
    for chunk in chunks:
        got += dec.feed(chunk)
        got += dec.feed(encode_message(beat)[0])  # other frames may interleave (SPEC §5.9)
    assert got == [beat] * 10 + [snap, beat]
    assert type(got[10].snapshot.data) is bytes


def test_snapshot_over_limit_raises() -> None:
    snap = Message(MsgType.SNAP, to=LOCAL, frm=PEER, term=4, snapshot=Snapshot(9, 3, b"x" * 100))
    dec = decoder(max_snapshot=99)
    dec.feed(HELLO)
    with pytest.raises(WireError, match="max_snapshot"):
        dec.feed(encode_message(snap, chunk_size=10)[0])


def test_oversized_frame_raises_on_its_length_alone() -> None:
    msg = Message(MsgType.PROP, to=LOCAL, frm=PEER, entries=(Entry(0, 0, b"x" * 500),))
    (frame,) = encode_message(msg)
    dec = decoder(max_frame=200)
    dec.feed(HELLO)
    with pytest.raises(WireError, match="exceeds max_frame 200"):
        dec.feed(frame[:4])  # nothing of the payload buffered yet


def test_encoder_refuses_what_the_receiver_would_refuse() -> None:
    big = Message(MsgType.PROP, to=LOCAL, frm=PEER, entries=(Entry(0, 0, b"x" * 500),))
    with pytest.raises(WireError, match="max_frame"):
        encode_message(big, max_frame=200)
    with pytest.raises(WireError, match="context"):
        encode_message(Message(MsgType.HEARTBEAT, to=LOCAL, frm=PEER, context=b"x" * 65536))
    with pytest.raises(WireError, match="entries exceed"):
        encode_message(Message(MsgType.PROP, to=LOCAL, frm=PEER, entries=(Entry(0, 0, b""),) * 65537))


@pytest.mark.parametrize("msg", [
    Message(MsgType.VOTE_RESP, to=LOCAL, frm=PEER, term=1, index=5),
    Message(MsgType.HEARTBEAT, to=LOCAL, frm=PEER, term=1, reject=True),
    Message(MsgType.TIMEOUT_NOW, to=LOCAL, frm=PEER, term=1, context=b"x"),
    Message(MsgType.READ_INDEX, to=LOCAL, frm=PEER, entries=(Entry(0, 0, b"x"),)),
    Message(MsgType.SNAP, to=LOCAL, frm=PEER, commit=3, snapshot=Snapshot(1, 1, b"")),
    Message(MsgType.HUP, to=LOCAL, frm=LOCAL),
], ids=lambda m: m.describe())
def test_encoder_never_drops_a_field_silently(msg: Message) -> None:
    with pytest.raises(WireError):
        encode_message(msg)


@pytest.mark.parametrize("hello, reason", [
    (Hello(1, CLUSTER + 1, PEER, LOCAL), "foreign cluster"),
    (Hello(1, CLUSTER, PEER, LOCAL + 1), "HELLO for member"),
    (Hello(2, CLUSTER, PEER, LOCAL), "unsupported protocol version"),
])
def test_hello_is_checked(hello: Hello, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        decoder().feed(encode_hello(hello))


def test_hello_and_decoder_validate_their_arguments() -> None:
    for args in [(0, 1, 1, 2), (1, 1, 0, 2), (1, 1, 1, 0), (1, -1, 1, 2), (1 << 16, 1, 1, 2)]:
        with pytest.raises(ValueError):
            Hello(*args)
    with pytest.raises(ValueError):
        PeerDecoder(0, CLUSTER)
    with pytest.raises(ValueError):
        PeerDecoder(LOCAL, CLUSTER, max_frame=10)


def test_buffer_holds_only_the_partial_frame() -> None:
    """A long stream fed in small pieces: consumed frames leave the buffer at every feed."""
    beat = encode_message(Message(MsgType.HEARTBEAT, to=LOCAL, frm=PEER, term=2, commit=1))[0]
    raw = HELLO + beat * 20000
    dec = decoder()
    count = 0
    for i in range(0, len(raw), 7):
        count += len(dec.feed(raw[i:i + 7]))
        assert dec.buffered < max(len(HELLO), len(beat))
    assert count == 20000


def test_header_crc_covers_the_type_byte() -> None:
    """VOTE and PRE_VOTE share a layout: a flipped type bit must not turn one into the other."""
    (frame,) = encode_message(Message(MsgType.VOTE, to=LOCAL, frm=PEER, term=3))
    assert frame[4] == MsgType.VOTE
    forged = frame[:4] + bytes([MsgType.PRE_VOTE]) + frame[5:]
    dec = decoder()
    dec.feed(HELLO)
    with pytest.raises(WireError, match="crc32"):
        dec.feed(forged)
    assert struct.unpack(">I", frame[:4])[0] == len(frame) - 10
