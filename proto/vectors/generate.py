"""Writes vectors.json next to this file: `python proto/vectors/generate.py`.

Valid vectors are encoded by trionode.wire and then frozen in the JSON: a later codec change
that alters a single byte fails tests/unit/test_wire_vectors.py. Invalid vectors are crafted
here by hand (with correct CRCs unless the CRC is the point), each with the error category a
receiver must report (SPEC §6). Regenerate only for a new protocol version.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from trionode.raft.messages import Entry, Message, MsgType, Snapshot
from trionode.wire import Hello, encode_hello, encode_message

LOCAL, PEER, CLUSTER = 2, 1, 0xABC
BIG = (1 << 64) - 1


def raw(ftype: int, flags: int, payload: bytes, *, crc_delta: int = 0) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(bytes((ftype, flags)))) ^ crc_delta
    return struct.pack(">IBBI", len(payload), ftype, flags, crc) + payload


def hello_body(version: int = 1, cluster: int = CLUSTER, frm: int = PEER, to: int = LOCAL,
               magic: bytes = b"TNOD") -> bytes:
    return struct.pack(">4sHHQQQ", magic, version, 0, cluster, frm, to)


def message_json(msg: Message) -> dict:
    out: dict = {"type": msg.type.name}
    for name in ("term", "log_term", "index", "commit", "reject_hint"):
        if getattr(msg, name):
            out[name] = getattr(msg, name)
    if msg.reject:
        out["reject"] = True
    if msg.context:
        out["context"] = msg.context.hex()
    if msg.entries:
        out["entries"] = [{"term": e.term, "index": e.index, "data": e.data.hex()} for e in msg.entries]
    if msg.snapshot is not None:
        snap = msg.snapshot
        out["snapshot"] = {"index": snap.index, "term": snap.term, "data": snap.data.hex()}
    return out


def valid_messages() -> list[tuple[str, Message, int]]:
    m = lambda t, **kw: Message(t, to=LOCAL, frm=PEER, **kw)  # noqa: E731
    entries = (Entry(5, 101, b""), Entry(5, 102, b"\x01set /a 1"), Entry(6, 103, bytes(range(40))))
    default = 1 << 20
    return [
        ("app-probe", m(MsgType.APP, term=6, log_term=5, index=100, commit=99), default),
        ("app-entries", m(MsgType.APP, term=6, log_term=5, index=100, commit=100, entries=entries), default),
        ("app-resp", m(MsgType.APP_RESP, term=6, index=103), default),
        ("app-resp-reject", m(MsgType.APP_RESP, term=6, log_term=4, index=100, reject=True,
                              reject_hint=90), default),
        ("vote", m(MsgType.VOTE, term=7, log_term=6, index=103, commit=100), default),
        ("vote-transfer", m(MsgType.VOTE, term=7, log_term=6, index=103, context=b"transfer"), default),
        ("vote-resp-reject", m(MsgType.VOTE_RESP, term=7, reject=True), default),
        ("pre-vote", m(MsgType.PRE_VOTE, term=8, log_term=6, index=103, commit=100), default),
        ("pre-vote-resp", m(MsgType.PRE_VOTE_RESP, term=8), default),
        ("heartbeat", m(MsgType.HEARTBEAT, term=6, commit=100), default),
        ("heartbeat-read-ctx", m(MsgType.HEARTBEAT, term=6, commit=100, context=b"\x00\x00\x00\x2a"),
         default),
        ("heartbeat-resp", m(MsgType.HEARTBEAT_RESP, term=6, context=b"\x00\x00\x00\x2a"), default),
        ("snap-one-chunk", m(MsgType.SNAP, term=6, snapshot=Snapshot(100, 5, b"{\"root\":{}}")), default),
        ("snap-empty", m(MsgType.SNAP, term=6, snapshot=Snapshot(7, 2, b"")), default),
        ("snap-chunked", m(MsgType.SNAP, term=6, snapshot=Snapshot(100, 5, b"0123456789abcdefXYZ")), 8),
        ("prop", m(MsgType.PROP, entries=(Entry(0, 0, b"\x02cmd-a"), Entry(0, 0, b"\x02cmd-b"))), default),
        ("read-index", m(MsgType.READ_INDEX, term=6, context=b"req-17"), default),
        ("read-index-resp", m(MsgType.READ_INDEX_RESP, term=6, index=103, context=b"req-17"), default),
        ("timeout-now", m(MsgType.TIMEOUT_NOW, term=6), default),
        ("max-values", m(MsgType.APP_RESP, term=BIG, log_term=BIG, index=BIG, reject=True,
                         reject_hint=BIG), default),
    ]


def chunk(flags: int, total: int, offset: int, data: bytes, index: int = 100) -> bytes:
    return raw(9, flags, struct.pack(">QQQQQI", 6, index, 5, total, offset, len(data)) + data)


def invalid() -> list[tuple[str, bool, list[bytes], str]]:
    """(name, after_hello, frames, error category)."""
    hb = struct.pack(">QQH", 6, 100, 0)
    return [
        ("not-hello-first", False, [raw(7, 0, hb)], "hello-first"),
        ("hello-bad-magic", False, [raw(0x40, 0, hello_body(magic=b"HTTP"))], "not-trionode"),
        ("hello-bad-version", False, [raw(0x40, 0, hello_body(version=2))], "version"),
        ("hello-foreign-cluster", False, [raw(0x40, 0, hello_body(cluster=0xDEF))], "foreign-cluster"),
        ("hello-wrong-recipient", False, [raw(0x40, 0, hello_body(to=3))], "wrong-recipient"),
        ("hello-from-self", False, [raw(0x40, 0, hello_body(frm=LOCAL))], "bad-sender"),
        ("hello-short", False, [raw(0x40, 0, hello_body()[:-1])], "malformed-hello"),
        ("http-request", False, [b"GET /v2/keys HTTP/1.1\r\n\r\n"], "oversized"),
        ("second-hello", True, [raw(0x40, 0, hello_body())], "second-hello"),
        ("bad-crc", True, [raw(7, 0, hb, crc_delta=1)], "crc"),
        ("oversized", True, [struct.pack(">IBBI", 16 << 20, 7, 0, 0)], "oversized"),
        ("unknown-type", True, [raw(0x7F, 0, b"")], "unknown-type"),
        ("undefined-flag", True, [raw(7, 0x02, hb)], "flags"),
        ("reject-on-vote", True, [raw(3, 0x01, struct.pack(">QQQQH", 7, 6, 103, 0, 0))], "flags"),
        ("truncated", True, [raw(13, 0, b"\x00\x00\x00\x06")], "truncated"),
        ("trailing-bytes", True, [raw(13, 0, struct.pack(">Q", 6) + b"\x00")], "trailing"),
        ("context-overrun", True, [raw(7, 0, struct.pack(">QQH", 6, 100, 5) + b"abc")], "overrun"),
        ("entry-count-overrun", True, [raw(10, 0, struct.pack(">QI", 0, 3) + struct.pack(">QQI", 0, 0, 0))],
         "overrun"),
        ("entry-data-overrun", True, [raw(10, 0, struct.pack(">QI", 0, 1) + struct.pack(">QQI", 0, 0, 9)
                                          + b"abc")], "overrun"),
        ("chunk-without-start", True, [chunk(0, 10, 4, b"4567")], "chunk-order"),
        ("chunk-gap", True, [chunk(0, 10, 0, b"0123"), chunk(1, 10, 6, b"6789")], "chunk-order"),
        ("chunk-other-snapshot", True, [chunk(0, 10, 0, b"0123"), chunk(1, 10, 4, b"456789", index=101)],
         "chunk-order"),
        ("chunk-restart", True, [chunk(0, 10, 0, b"0123"), chunk(0, 10, 0, b"0123")], "chunk-order"),
        ("chunk-last-early", True, [chunk(1, 10, 0, b"0123")], "chunk-bounds"),
        ("chunk-last-missing", True, [chunk(0, 4, 0, b"0123")], "chunk-bounds"),
        ("chunk-past-total", True, [chunk(1, 3, 0, b"0123")], "chunk-bounds"),
        ("chunk-empty-not-last", True, [chunk(0, 4, 0, b"")], "chunk-bounds"),
        ("chunk-length-mismatch", True, [raw(9, 1, struct.pack(">QQQQQI", 6, 100, 5, 2, 0, 3) + b"ab")],
         "chunk-length"),
    ]


def build() -> dict:
    hello = Hello(1, CLUSTER, PEER, LOCAL)
    valid = [{"name": "hello", "hello": {"version": 1, "cluster_id": CLUSTER, "frm": PEER, "to": LOCAL},
              "frames": [encode_hello(hello).hex()]}]
    for name, msg, chunk_size in valid_messages():
        vector = {"name": name, "chunk_size": chunk_size,
                  "frames": [f.hex() for f in encode_message(msg, chunk_size=chunk_size)],
                  "message": message_json(msg)}
        valid.append(vector)
    return {
        "about": "trionode peer protocol v1 test vectors; see ../SPEC.md and generate.py",
        "receiver": {"local_id": LOCAL, "cluster_id": CLUSTER, "max_frame": 16 << 20},
        "hello": encode_hello(hello).hex(),
        "valid": valid,
        "invalid": [{"name": name, "after_hello": after, "frames": [f.hex() for f in frames], "error": error}
                    for name, after, frames, error in invalid()],
    }


if __name__ == "__main__":
    path = Path(__file__).with_name("vectors.json")
    path.write_text(json.dumps(build(), indent=1) + "\n")
