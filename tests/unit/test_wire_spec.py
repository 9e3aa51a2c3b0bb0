"""Frames written out by hand from proto/SPEC.md, field by field, beside the generated vectors.

proto/vectors/vectors.json was produced by trionode's own encoder, so it pins the codec
against itself. These frames are built here from the document alone (struct formats and type
numbers copied from its tables, never from trionode.wire): the encoder must produce exactly
these bytes and the decoder must read them back, so the code is checked against the spec.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from trionode.raft.messages import Entry, Message, MsgType, Snapshot
from trionode.wire import Hello, PeerDecoder, encode_hello, encode_message

CLUSTER, SENDER, RECEIVER = 0xABC, 1, 2


def frame(ftype: int, flags: int, payload: bytes) -> bytes:
    """SPEC §3: length u32 (payload bytes), type u8, flags u8, crc u32, then the payload; all
    big endian (§2). The CRC is crc32(payload, crc32(bytes([type, flags])))."""
    crc = zlib.crc32(payload, zlib.crc32(bytes([ftype, flags])))
    return struct.pack(">I", len(payload)) + bytes([ftype, flags]) + struct.pack(">I", crc) + payload


def u64(*values: int) -> bytes:
    return b"".join(struct.pack(">Q", v) for v in values)


# §5 table, HELLO (type 0x40): magic "TNOD", version u16, reserved u16 = 0, cluster_id u64,
# from u64, to u64.
HELLO = frame(0x40, 0, b"TNOD" + struct.pack(">H", 1) + struct.pack(">H", 0)
              + u64(CLUSTER) + u64(SENDER) + u64(RECEIVER))

# §5 table, HEARTBEAT (7): term, commit, context (ctx_len u16, bytes).
HEARTBEAT = frame(7, 0, u64(5) + u64(42) + struct.pack(">H", 4) + b"rd-1")

# §5 table, APP (1): term, log_term, index, commit, entries (count u32, then per entry
# term u64, index u64, data_len u32, data).
APP = frame(1, 0, u64(3) + u64(2) + u64(10) + u64(9)
            + struct.pack(">I", 2)
            + u64(3) + u64(11) + struct.pack(">I", 5) + b"hello"
            + u64(3) + u64(12) + struct.pack(">I", 0))

# §5 table, APP_RESP (2), REJECT flag bit 0: term, log_term, index, reject_hint.
APP_RESP_REJECT = frame(2, 0x01, u64(3) + u64(0) + u64(10) + u64(7))

# §5.9, SNAP_CHUNK (9), LAST = bit 0: term, snap_index, snap_term, total u64, offset u64,
# chunk_len u32, bytes. Seven bytes of data in chunks of at most four.
SNAP_CHUNKS = [
    frame(9, 0, u64(4) + u64(20) + u64(3) + u64(7) + u64(0) + struct.pack(">I", 4) + b"abcd"),
    frame(9, 0x01, u64(4) + u64(20) + u64(3) + u64(7) + u64(4) + struct.pack(">I", 3) + b"efg"),
]
# An empty snapshot is one chunk: offset 0, length 0, LAST.
EMPTY_SNAP = frame(9, 0x01, u64(4) + u64(20) + u64(3) + u64(0) + u64(0) + struct.pack(">I", 0))

MESSAGES = [
    ("heartbeat", [HEARTBEAT], Message(MsgType.HEARTBEAT, to=RECEIVER, frm=SENDER, term=5,
                                       commit=42, context=b"rd-1"), {}),
    ("append-two-entries", [APP], Message(MsgType.APP, to=RECEIVER, frm=SENDER, term=3,
                                          log_term=2, index=10, commit=9,
                                          entries=(Entry(3, 11, b"hello"), Entry(3, 12, b""))), {}),
    ("append-reject", [APP_RESP_REJECT], Message(MsgType.APP_RESP, to=RECEIVER, frm=SENDER,
                                                 term=3, index=10, reject=True,
                                                 reject_hint=7), {}),
    ("snapshot-two-chunks", SNAP_CHUNKS, Message(MsgType.SNAP, to=RECEIVER, frm=SENDER, term=4,
                                                 snapshot=Snapshot(20, 3, b"abcdefg")),
     {"chunk_size": 4}),
    ("snapshot-empty", [EMPTY_SNAP], Message(MsgType.SNAP, to=RECEIVER, frm=SENDER, term=4,
                                             snapshot=Snapshot(20, 3, b"")), {}),
]


def test_hello_is_the_specs_example_byte_for_byte() -> None:
    """§5.0 prints this HELLO in hex (its CRC included): the frame() above agrees with it."""
    example = bytes.fromhex("00000020 40 00 b7387784"
                            "544e4f44 0001 0000"
                            "0000000000000abc 0000000000000001 0000000000000002")
    assert HELLO == example
    assert encode_hello(Hello(1, CLUSTER, SENDER, RECEIVER)) == example


def test_hello_decodes() -> None:
    decoder = PeerDecoder(RECEIVER, CLUSTER)
    assert decoder.feed(HELLO) == []
    assert decoder.hello == Hello(1, CLUSTER, SENDER, RECEIVER)


@pytest.mark.parametrize(("frames", "message", "options"),
                         [case[1:] for case in MESSAGES], ids=[case[0] for case in MESSAGES])
def test_encoder_writes_the_spec_bytes(frames, message, options) -> None:
    assert encode_message(message, **options) == frames


@pytest.mark.parametrize(("frames", "message"), [case[1:3] for case in MESSAGES],
                         ids=[case[0] for case in MESSAGES])
def test_decoder_reads_the_spec_bytes(frames, message) -> None:
    whole = PeerDecoder(RECEIVER, CLUSTER)
    assert whole.feed(HELLO + b"".join(frames)) == [message]
    bytewise = PeerDecoder(RECEIVER, CLUSTER)  # and whichever way the stream is cut
    stream = HELLO + b"".join(frames)
    assert [m for i in range(len(stream)) for m in bytewise.feed(stream[i:i + 1])] == [message]
