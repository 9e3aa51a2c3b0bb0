"""proto/vectors/vectors.json: every valid vector decodes to its meaning and re-encodes byte
for byte; every invalid one raises WireError of its category (proto/SPEC.md §6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trionode.raft.messages import Entry, Message, MsgType, Snapshot
from trionode.wire import Hello, PeerDecoder, encode_hello, encode_message
from trionode.wire.errors import WireError

VECTORS = json.loads((Path(__file__).parents[2] / "proto" / "vectors" / "vectors.json").read_text())
RECEIVER = VECTORS["receiver"]
HELLO = bytes.fromhex(VECTORS["hello"])

# Error category (language neutral, in the vectors) -> a phrase of this implementation's message.
CATEGORIES = {
    "hello-first": "first frame must be HELLO",
    "not-trionode": "not a trionode peer",
    "version": "unsupported protocol version",
    "foreign-cluster": "foreign cluster id",
    "wrong-recipient": "HELLO for member",
    "bad-sender": "HELLO from invalid member",
    "malformed-hello": "malformed HELLO",
    "oversized": "exceeds max_frame",
    "second-hello": "second HELLO",
    "crc": "crc32",
    "unknown-type": "unknown frame type",
    "flags": "undefined flags",
    "truncated": "truncated",
    "trailing": "trailing bytes",
    "overrun": "overrun",
    "chunk-order": "out of order",
    "chunk-bounds": "bad SNAP_CHUNK",
    "chunk-length": "payload bytes",
}


def decoder() -> PeerDecoder:
    return PeerDecoder(RECEIVER["local_id"], RECEIVER["cluster_id"], RECEIVER["max_frame"])


def meaning(spec: dict) -> Message:
    fields = {k: v for k, v in spec.items() if k in ("term", "log_term", "index", "commit", "reject_hint",
                                                     "reject")}
    if "context" in spec:
        fields["context"] = bytes.fromhex(spec["context"])
    if "entries" in spec:
        fields["entries"] = tuple(Entry(e["term"], e["index"], bytes.fromhex(e["data"])) for e in spec["entries"])
    if "snapshot" in spec:
        snap = spec["snapshot"]
        fields["snapshot"] = Snapshot(snap["index"], snap["term"], bytes.fromhex(snap["data"]))
    return Message(MsgType[spec["type"]], to=RECEIVER["local_id"], frm=1, **fields)


VALID = [v for v in VECTORS["valid"] if "message" in v]


def test_hello_vector() -> None:
    (vector,) = [v for v in VECTORS["valid"] if "hello" in v]
    hello = Hello(**vector["hello"])
    assert encode_hello(hello).hex() == vector["frames"][0] == VECTORS["hello"]
    dec = decoder()
    assert dec.peer_id is None
    assert dec.feed(HELLO) == []
    assert dec.peer_id == hello.frm and dec.hello == hello


def test_every_frame_type_has_a_vector() -> None:
    covered = {MsgType[v["message"]["type"]] for v in VALID}
    assert covered == set(MsgType) - {MsgType.HUP, MsgType.BEAT, MsgType.UNREACHABLE, MsgType.SNAP_STATUS,
                                      MsgType.TRANSFER_LEADER}
    assert any(len(v["frames"]) > 2 for v in VALID)  # a chunked snapshot


@pytest.mark.parametrize("vector", VALID, ids=[v["name"] for v in VALID])
def test_valid_vector(vector: dict) -> None:
    frames = [bytes.fromhex(f) for f in vector["frames"]]
    msg = meaning(vector["message"])
    dec = decoder()
    got = dec.feed(HELLO)
    for frame in frames:
        got += dec.feed(frame)
    assert got == [msg], vector["name"]
    assert dec.buffered == 0
    assert encode_message(msg, chunk_size=vector["chunk_size"]) == frames, vector["name"]


INVALID = VECTORS["invalid"]


@pytest.mark.parametrize("vector", INVALID, ids=[v["name"] for v in INVALID])
def test_invalid_vector(vector: dict) -> None:
    data = (HELLO if vector["after_hello"] else b"") + b"".join(bytes.fromhex(f) for f in vector["frames"])
    dec = decoder()
    with pytest.raises(WireError, match=CATEGORIES[vector["error"]]):
        dec.feed(data)
    with pytest.raises(WireError, match="already failed"):
        dec.feed(b"")


@pytest.mark.parametrize("vector", INVALID, ids=[v["name"] for v in INVALID])
def test_invalid_vector_byte_by_byte(vector: dict) -> None:
    """The same error whichever way the stream is cut."""
    data = (HELLO if vector["after_hello"] else b"") + b"".join(bytes.fromhex(f) for f in vector["frames"])
    dec = decoder()
    with pytest.raises(WireError, match=CATEGORIES[vector["error"]]):
        for i in range(len(data)):
            dec.feed(data[i:i + 1])
