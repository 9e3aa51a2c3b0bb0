"""Message -> frames (proto/SPEC.md §4-§5). Pure.

Each frame is built as one bytes object by a single b"".join over the header pieces and
the payload buffers (entry data, snapshot chunk views), so payload bytes are copied once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from ..raft.messages import Message, MsgType
from .errors import WireError
from .frames import (
    CHUNK_HEAD,
    DEFAULT_MAX_FRAME,
    ENTRY_HEAD,
    FLAG_LAST,
    FLAG_REJECT,
    HEADER,
    HELLO_BODY,
    LAYOUTS,
    MAGIC,
    MAX_CONTEXT,
    MAX_ENTRIES,
    FrameType,
    Hello,
)

__all__ = ["encode_hello", "encode_message"]

_OPTIONAL = ("log_term", "index", "commit", "reject_hint")


def encode_hello(hello: Hello) -> bytes:
    body = HELLO_BODY.pack(MAGIC, hello.version, 0, hello.cluster_id, hello.frm, hello.to)
    return _frame(FrameType.HELLO, 0, (body,), DEFAULT_MAX_FRAME)


def encode_message(msg: Message, *, chunk_size: int = 1 << 20,
                   max_frame: int = DEFAULT_MAX_FRAME) -> list[bytes]:
    """The frames for one message: SNAP -> chunk frames, any other wire type -> one frame.

    Raises WireError for a local-only type, a field the type's frame does not carry
    (SPEC §5), or a frame over `max_frame` (the receiver would close the connection).
    """
    if msg.type is MsgType.SNAP:
        return _snapshot_frames(msg, chunk_size, max_frame)
    layout = LAYOUTS.get(msg.type)
    if layout is None:
        raise WireError(f"{msg.type.name} is local only and never sent: {msg.describe()}")
    for name in _OPTIONAL:
        if name not in layout.fixed and getattr(msg, name):
            raise WireError(f"{msg.type.name} frames do not carry {name}: {msg.describe()}")
    if msg.reject and not layout.reject:
        raise WireError(f"{msg.type.name} frames do not carry reject: {msg.describe()}")
    if msg.context and not layout.context:
        raise WireError(f"{msg.type.name} frames do not carry context: {msg.describe()}")
    if msg.entries and not layout.entries:
        raise WireError(f"{msg.type.name} frames do not carry entries: {msg.describe()}")
    values = [getattr(msg, name) for name in layout.fixed]
    pieces: list[bytes | memoryview] = []
    if layout.context:
        if len(msg.context) > MAX_CONTEXT:
            raise WireError(f"context of {len(msg.context)} bytes exceeds {MAX_CONTEXT}")
        pieces.append(layout.head.pack(*values, len(msg.context)))
        pieces.append(msg.context)
    elif layout.entries:
        if len(msg.entries) > MAX_ENTRIES:
            raise WireError(f"{len(msg.entries)} entries exceed {MAX_ENTRIES} per frame")
        pieces.append(layout.head.pack(*values, len(msg.entries)))
        for entry in msg.entries:
            pieces.append(ENTRY_HEAD.pack(entry.term, entry.index, len(entry.data)))
            pieces.append(entry.data)
    else:
        pieces.append(layout.head.pack(*values))
    flags = FLAG_REJECT if msg.reject else 0
    return [_frame(FrameType(msg.type), flags, pieces, max_frame)]


def _snapshot_frames(msg: Message, chunk_size: int, max_frame: int) -> list[bytes]:
    """SPEC §5.9: consecutive chunks of snapshot.data; the last one carries FLAG_LAST."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive: {chunk_size}")
    for name in _OPTIONAL:
        if getattr(msg, name):
            raise WireError(f"SNAP frames do not carry {name}: {msg.describe()}")
    if msg.reject or msg.context or msg.entries:
        raise WireError(f"SNAP frames carry only term and snapshot: {msg.describe()}")
    snap = msg.snapshot
    assert snap is not None  # Message guarantees it for SNAP
    data = memoryview(snap.data)
    total = len(data)
    frames = []
    offset = 0
    while True:
        chunk = data[offset:offset + chunk_size]
        last = offset + len(chunk) == total
        head = CHUNK_HEAD.pack(msg.term, snap.index, snap.term, total, offset, len(chunk))
        frames.append(_frame(FrameType.SNAP_CHUNK, FLAG_LAST if last else 0, (head, chunk), max_frame))
        if last:
            return frames
        offset += len(chunk)


def _frame(ftype: FrameType, flags: int, pieces: Iterable[bytes | memoryview], max_frame: int) -> bytes:
    """Header + payload in one buffer. The CRC covers type, flags and payload (SPEC §4)."""
    pieces = list(pieces)
    length = 0
    crc = zlib.crc32(bytes((ftype, flags)))
    for piece in pieces:
        length += len(piece)
        crc = zlib.crc32(piece, crc)
    if HEADER.size + length > max_frame or length >> 32:
        raise WireError(f"{ftype.name} frame of {HEADER.size + length} bytes exceeds max_frame {max_frame}")
    return b"".join([HEADER.pack(length, ftype, flags, crc), *pieces])
