"""Bytes from one inbound peer connection -> Raft messages (proto/SPEC.md). Pure.

The receive buffer is one bytearray: frames are parsed in place through a memoryview
with struct.unpack_from, and consumed bytes are dropped once per feed() (CPython deletes
a bytearray prefix without moving the rest, so a stream costs linear time in total).
Only entry data, contexts and snapshot chunks are copied, each exactly once into bytes.

The first error is final: a WireError means the connection is unusable (the stream
position is lost), so every later feed() raises too and the edge closes the socket.
Messages completed earlier in the failing feed() are dropped with the connection; Raft
retries whatever a lost message carried (paper §5.3).
"""

from __future__ import annotations

import zlib

from ..raft.messages import Entry, Message, MsgType, Snapshot
from .errors import WireError
from .frames import (
    CHUNK_HEAD,
    DEFAULT_MAX_FRAME,
    DEFAULT_MAX_SNAPSHOT,
    ENTRY_HEAD,
    FLAG_LAST,
    FLAG_REJECT,
    HEADER,
    HELLO_BODY,
    LAYOUTS,
    LENGTH,
    MAGIC,
    MAX_ENTRIES,
    SUPPORTED_VERSIONS,
    FrameType,
    Hello,
    Layout,
)

__all__ = ["PeerDecoder"]

_U64_MAX = (1 << 64) - 1
_BY_FRAME: dict[int, tuple[MsgType, Layout]] = {int(t): (t, layout) for t, layout in LAYOUTS.items()}


class _Partial:
    """A snapshot whose chunks are still arriving (SPEC §5.9)."""

    __slots__ = ("key", "data")

    def __init__(self, key: tuple[int, int, int, int]) -> None:
        self.key = key  # (message term, snapshot index, snapshot term, total size)
        self.data = bytearray()


class PeerDecoder:
    """Decodes one connection: a HELLO, then message frames from that peer to us."""

    def __init__(self, local_id: int, cluster_id: int, max_frame: int = DEFAULT_MAX_FRAME, *,
                 max_snapshot: int = DEFAULT_MAX_SNAPSHOT) -> None:
        if not isinstance(local_id, int) or not 0 < local_id <= _U64_MAX:
            raise ValueError(f"local_id must be a nonzero u64: {local_id!r}")
        if not isinstance(cluster_id, int) or not 0 <= cluster_id <= _U64_MAX:
            raise ValueError(f"cluster_id must be a u64: {cluster_id!r}")
        if max_frame < HEADER.size + HELLO_BODY.size:
            raise ValueError(f"max_frame {max_frame} is smaller than a HELLO frame")
        self._local_id = local_id
        self._cluster_id = cluster_id
        self._max_frame = max_frame
        self._max_snapshot = max_snapshot
        self._buf = bytearray()
        self._hello: Hello | None = None
        self._partial: _Partial | None = None
        self._failed: str | None = None

    @property
    def peer_id(self) -> int | None:
        """The sender's member id, known once the HELLO is decoded."""
        return None if self._hello is None else self._hello.frm

    @property
    def hello(self) -> Hello | None:
        return self._hello

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded (a partial frame)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        """Append received bytes; return every message they complete, in order."""
        if self._failed is not None:
            raise WireError(f"connection already failed: {self._failed}")
        self._buf += data
        out: list[Message] = []
        try:
            consumed = self._parse(out)
        except WireError as exc:
            self._failed = str(exc)
            self._buf = bytearray()
            raise
        del self._buf[:consumed]
        return out

    def _parse(self, out: list[Message]) -> int:
        size = len(self._buf)
        pos = 0
        with memoryview(self._buf) as view:
            while size - pos >= LENGTH.size:
                (length,) = LENGTH.unpack_from(view, pos)
                # Checked before the payload is buffered: an oversized frame never costs memory.
                if HEADER.size + length > self._max_frame:
                    raise WireError(f"frame of {HEADER.size + length} bytes exceeds max_frame {self._max_frame}")
                end = pos + HEADER.size + length
                if end > size:
                    break
                _, ftype, flags, crc = HEADER.unpack_from(view, pos)
                start = pos + HEADER.size
                actual = zlib.crc32(view[start:end], zlib.crc32(view[pos + LENGTH.size:pos + LENGTH.size + 2]))
                if actual != crc:
                    raise WireError(f"frame type {ftype}: crc32 {actual:08x} != header {crc:08x}")
                self._frame(ftype, flags, view, start, end, out)
                pos = end
        return pos

    def _frame(self, ftype: int, flags: int, view: memoryview, start: int, end: int,
               out: list[Message]) -> None:
        if self._hello is None:
            if ftype != FrameType.HELLO:
                raise WireError(f"first frame must be HELLO, got type {ftype}")
            self._hello = self._decode_hello(flags, view, start, end)
        elif ftype == FrameType.SNAP_CHUNK:
            message = self._chunk(flags, view, start, end)
            if message is not None:
                out.append(message)
        elif ftype in _BY_FRAME:
            out.append(self._message(ftype, flags, view, start, end))
        elif ftype == FrameType.HELLO:
            raise WireError("second HELLO on one connection")
        else:
            raise WireError(f"unknown frame type {ftype}")

    def _decode_hello(self, flags: int, view: memoryview, start: int, end: int) -> Hello:
        if flags or end - start != HELLO_BODY.size:
            raise WireError(f"malformed HELLO: flags {flags:#x}, {end - start} payload bytes")
        magic, version, reserved, cluster_id, frm, to = HELLO_BODY.unpack_from(view, start)
        if magic != MAGIC or reserved:
            raise WireError(f"not a trionode peer: magic {magic!r}, reserved {reserved}")
        if version not in SUPPORTED_VERSIONS:
            raise WireError(f"unsupported protocol version {version} (speak {sorted(SUPPORTED_VERSIONS)})")
        if cluster_id != self._cluster_id:
            raise WireError(f"foreign cluster id {cluster_id:x} (ours is {self._cluster_id:x})")
        if to != self._local_id:
            raise WireError(f"HELLO for member {to:x}, but this is member {self._local_id:x}")
        if frm == 0 or frm == self._local_id:
            raise WireError(f"HELLO from invalid member id {frm:x}")
        return Hello(version, cluster_id, frm, to)

    def _message(self, ftype: int, flags: int, view: memoryview, start: int, end: int) -> Message:
        mtype, layout = _BY_FRAME[ftype]
        if flags & ~(FLAG_REJECT if layout.reject else 0):
            raise WireError(f"{mtype.name} frame with undefined flags {flags:#x}")
        head = layout.head
        if end - start < head.size:
            raise WireError(f"{mtype.name} frame truncated: {end - start} < {head.size} bytes")
        values = head.unpack_from(view, start)
        fields = dict(zip(layout.fixed, values))
        pos = start + head.size
        context = b""
        entries: tuple[Entry, ...] = ()
        if layout.context:
            if pos + values[-1] > end:
                raise WireError(f"{mtype.name} context of {values[-1]} bytes overruns the frame")
            context = view[pos:pos + values[-1]].tobytes()
            pos += values[-1]
        elif layout.entries:
            entries, pos = _entries(mtype, values[-1], view, pos, end)
        if pos != end:
            raise WireError(f"{mtype.name} frame has {end - pos} trailing bytes")
        assert self._hello is not None
        return Message(mtype, to=self._local_id, frm=self._hello.frm, reject=bool(flags),
                       context=context, entries=entries, **fields)

    def _chunk(self, flags: int, view: memoryview, start: int, end: int) -> Message | None:
        """Reassemble SPEC §5.9 chunks; the SNAP message once the last one arrives."""
        if flags & ~FLAG_LAST:
            raise WireError(f"SNAP_CHUNK frame with undefined flags {flags:#x}")
        if end - start < CHUNK_HEAD.size:
            raise WireError(f"SNAP_CHUNK frame truncated: {end - start} < {CHUNK_HEAD.size} bytes")
        term, index, snap_term, total, offset, length = CHUNK_HEAD.unpack_from(view, start)
        pos = start + CHUNK_HEAD.size
        if pos + length != end:
            raise WireError(f"SNAP_CHUNK length {length} but {end - pos} payload bytes")
        if total > self._max_snapshot:
            raise WireError(f"snapshot of {total} bytes exceeds max_snapshot {self._max_snapshot}")
        last = bool(flags & FLAG_LAST)
        if offset + length > total or last != (offset + length == total) or not (last or length):
            raise WireError(f"bad SNAP_CHUNK: offset {offset} + {length} of {total}, last={last}")
        key = (term, index, snap_term, total)
        partial = self._partial
        if partial is None:
            if offset:
                raise WireError(f"SNAP_CHUNK out of order: offset {offset} with no transfer in progress")
            if last:  # a one-chunk snapshot: copy its data once, straight from the buffer
                return self._snap_message(key, view[pos:end].tobytes())
            partial = self._partial = _Partial(key)
        elif key != partial.key or offset != len(partial.data):
            raise WireError(f"SNAP_CHUNK out of order: {key} at offset {offset} does not continue "
                            f"{partial.key} at offset {len(partial.data)}")
        partial.data += view[pos:end]
        if not last:
            return None
        self._partial = None
        return self._snap_message(key, bytes(partial.data))

    def _snap_message(self, key: tuple[int, int, int, int], data: bytes) -> Message:
        term, index, snap_term, _ = key
        assert self._hello is not None
        return Message(MsgType.SNAP, to=self._local_id, frm=self._hello.frm, term=term,
                       snapshot=Snapshot(index, snap_term, data))


def _entries(mtype: MsgType, count: int, view: memoryview, pos: int, end: int) -> tuple[tuple[Entry, ...], int]:
    """`count` entries from view[pos:end]: ENTRY_HEAD then the data, each (SPEC §5.1)."""
    if count > MAX_ENTRIES or count * ENTRY_HEAD.size > end - pos:
        raise WireError(f"{mtype.name} frame: {count} entries overrun {end - pos} bytes")
    entries = []
    head = ENTRY_HEAD
    for _ in range(count):
        if pos + head.size > end:
            raise WireError(f"{mtype.name} entry header overruns the frame")
        term, index, length = head.unpack_from(view, pos)
        pos += head.size
        if pos + length > end:
            raise WireError(f"{mtype.name} entry data of {length} bytes overruns the frame")
        entries.append(Entry(term, index, view[pos:pos + length].tobytes()))
        pos += length
    return tuple(entries), pos
