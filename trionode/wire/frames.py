"""The peer protocol's vocabulary: frame header, frame types, layouts and limits. Pure.

Everything here is fixed by proto/SPEC.md; a change to any layout is a new protocol
VERSION. All integers are big endian (network order, SPEC §2).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from ..raft.messages import MsgType

__all__ = [
    "VERSION",
    "SUPPORTED_VERSIONS",
    "MAGIC",
    "DEFAULT_MAX_FRAME",
    "DEFAULT_MAX_SNAPSHOT",
    "MAX_ENTRIES",
    "MAX_CONTEXT",
    "FrameType",
    "Hello",
    "HEADER",
    "LENGTH",
    "HELLO_BODY",
    "ENTRY_HEAD",
    "CHUNK_HEAD",
    "FLAG_REJECT",
    "FLAG_LAST",
    "Layout",
    "LAYOUTS",
]

VERSION = 1
SUPPORTED_VERSIONS = frozenset({VERSION})
MAGIC = b"TNOD"

DEFAULT_MAX_FRAME = 16 << 20  # whole frame, header included (SPEC §6)
DEFAULT_MAX_SNAPSHOT = 2 << 30  # total bytes of one reassembled snapshot
MAX_ENTRIES = 1 << 16  # entries in one APP or PROP frame
MAX_CONTEXT = (1 << 16) - 1  # the context length is a u16

_U64_MAX = (1 << 64) - 1

#: length u32 (of the payload), type u8, flags u8, crc32 u32 (of type, flags, payload)
HEADER = struct.Struct(">IBBI")
LENGTH = struct.Struct(">I")
#: magic 4s, version u16, reserved u16 (zero), cluster id u64, sender u64, recipient u64
HELLO_BODY = struct.Struct(">4sHHQQQ")
#: one entry: term u64, index u64, data length u32 (then the data)
ENTRY_HEAD = struct.Struct(">QQI")
#: one snapshot chunk: term u64, snap index u64, snap term u64, total u64, offset u64, length u32
CHUNK_HEAD = struct.Struct(">QQQQQI")

FLAG_REJECT = 0x01  # response frames: Message.reject
FLAG_LAST = 0x01  # SNAP_CHUNK frames: the chunk that completes the snapshot


class FrameType(enum.IntEnum):
    """Frame type byte. Message frames reuse the MsgType number (SPEC §5)."""

    APP = 1
    APP_RESP = 2
    VOTE = 3
    VOTE_RESP = 4
    PRE_VOTE = 5
    PRE_VOTE_RESP = 6
    HEARTBEAT = 7
    HEARTBEAT_RESP = 8
    SNAP_CHUNK = 9
    PROP = 10
    READ_INDEX = 11
    READ_INDEX_RESP = 12
    TIMEOUT_NOW = 13
    HELLO = 0x40


@dataclass(frozen=True, slots=True)
class Hello:
    """First frame on every connection: binds the sender and recipient for all later frames."""

    version: int
    cluster_id: int
    frm: int
    to: int

    def __post_init__(self) -> None:
        if not isinstance(self.version, int) or not 0 < self.version <= 0xFFFF:
            raise ValueError(f"Hello.version must be a u16 > 0: {self.version!r}")
        for name in ("cluster_id", "frm", "to"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= _U64_MAX:
                raise ValueError(f"Hello.{name} must be a u64: {value!r}")
        if not self.frm or not self.to:
            raise ValueError("Hello member ids must be nonzero")

    def describe(self) -> str:
        return f"{self.frm:x}->{self.to:x} HELLO v{self.version} cluster={self.cluster_id:x}"


@dataclass(frozen=True, slots=True)
class Layout:
    """The fixed part of one message frame: Message field names, in wire order, all u64.

    The context (u16 length, bytes) or the entries (u32 count, then ENTRY_HEAD + data each)
    follow the fixed part; no type carries both. `reject` travels as FLAG_REJECT. A field
    not listed here must be zero/empty in any Message of this type, or encoding fails
    (nothing is dropped silently).
    """

    fixed: tuple[str, ...]
    head: struct.Struct  # fixed u64s, then the u16 context length / the u32 entry count
    context: bool
    entries: bool
    reject: bool


def _layout(*fixed: str, context: bool = False, entries: bool = False, reject: bool = False) -> Layout:
    names = ("term", *fixed)
    head = struct.Struct(">" + "Q" * len(names) + ("H" if context else "") + ("I" if entries else ""))
    return Layout(names, head, context, entries, reject)


# SPEC §5: one layout per message type. Every message frame starts with the sender's term.
LAYOUTS: dict[MsgType, Layout] = {
    MsgType.APP: _layout("log_term", "index", "commit", entries=True),
    MsgType.APP_RESP: _layout("log_term", "index", "reject_hint", reject=True),
    MsgType.VOTE: _layout("log_term", "index", "commit", context=True),
    MsgType.VOTE_RESP: _layout(reject=True),
    MsgType.PRE_VOTE: _layout("log_term", "index", "commit", context=True),
    MsgType.PRE_VOTE_RESP: _layout(reject=True),
    MsgType.HEARTBEAT: _layout("commit", context=True),
    MsgType.HEARTBEAT_RESP: _layout(context=True, reject=True),
    MsgType.PROP: _layout(entries=True),
    MsgType.READ_INDEX: _layout(context=True),
    MsgType.READ_INDEX_RESP: _layout("index", context=True, reject=True),
    MsgType.TIMEOUT_NOW: _layout(),
}
# SNAP has no Layout: it travels as SNAP_CHUNK frames (CHUNK_HEAD), see SPEC §5.9.
