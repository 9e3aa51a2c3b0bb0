"""Records: the framing shared by WAL segments and snapshot files (pure: no I/O).

Every record is a 16-byte header and a payload, all integers little endian:

    offset  size    field
    0       4       length   payload length in bytes
    4       1       type     1 entry | 2 hard state | 3 snapshot
    5       3       zero     reserved, written as zeros
    8       4       pcrc     CRC-32 (zlib) of the payload
    12      4       hcrc     CRC-32 of header bytes 0..11
    16      length  payload

    entry       u64 term | u64 index | data
    hard state  u64 term | u64 vote | u64 commit
    snapshot    u64 index | u64 term | data

Why the header has a checksum of its own: a torn write is recognised by a record that runs
past the end of the file. Without hcrc a flipped bit in the length of a record in the middle
of a log would look exactly like that, and recovery would drop everything after it in
silence. With hcrc, "runs past the end" is evidence of an interrupted write, not corruption.

scan() decodes records up to the first damaged one and says whether that damage looks like
an interrupted write (`Damage.torn`): the record is incomplete, or nothing but zero bytes
follows it (a file system may extend a file before the data blocks reach the disk, and a
pre-allocated tail is zeros). Whether a torn record may be dropped is the caller's decision:
only at the end of the newest segment (see wal.py).
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..raft.messages import Entry, HardState, Snapshot

__all__ = [
    "Entry",
    "HardState",
    "Snapshot",
    "RecordType",
    "RecordError",
    "Damage",
    "HEADER_SIZE",
    "encode_batch",
    "encode_hard_state",
    "SNAPSHOT_META_SIZE",
    "snapshot_prefix",
    "decode_snapshot",
    "parse_header",
    "scan",
]

_HEAD = struct.Struct("<IB3xI")  # length, type, pcrc: the bytes hcrc covers
_HCRC = struct.Struct("<I")
HEADER_SIZE = _HEAD.size + _HCRC.size
_PAIR = struct.Struct("<QQ")
_TRIPLE = struct.Struct("<QQQ")
SNAPSHOT_META_SIZE = _PAIR.size


class RecordType(enum.IntEnum):
    ENTRY = 1
    HARD_STATE = 2
    SNAPSHOT = 3


class RecordError(ValueError):
    """A header or payload that is not a record of ours."""


Record = Entry | HardState


@dataclass(frozen=True, slots=True)
class Damage:
    """Where the valid records of a buffer end, and why."""

    offset: int
    reason: str
    torn: bool  # looks like an interrupted write (see the module docstring)


def _header(rtype: RecordType, length: int, pcrc: int) -> bytes:
    head = _HEAD.pack(length, rtype, pcrc)
    return head + _HCRC.pack(zlib.crc32(head))


def _record_pieces(rtype: RecordType, fixed: bytes, data: bytes = b"") -> tuple[bytes, bytes, bytes]:
    # The CRC runs over the pieces in turn, so `data` is copied once, by the caller's join.
    pcrc = zlib.crc32(data, zlib.crc32(fixed))
    return _header(rtype, len(fixed) + len(data), pcrc), fixed, data


def encode_hard_state(hs: HardState) -> bytes:
    return b"".join(_record_pieces(RecordType.HARD_STATE, _TRIPLE.pack(hs.term, hs.vote, hs.commit)))


def encode_batch(entries: Iterable[Entry], hard_state: HardState | None) -> bytes:
    """One contiguous buffer: the entries in order, then the hard state (if any).

    The hard state goes last so that a torn write can lose a commit index but never keep one
    that points past the entries that made it to disk.
    """
    pieces: list[bytes] = []
    for e in entries:
        pieces.extend(_record_pieces(RecordType.ENTRY, _PAIR.pack(e.term, e.index), e.data))
    if hard_state is not None:
        pieces.append(encode_hard_state(hard_state))
    return b"".join(pieces)


def snapshot_prefix(snap: Snapshot) -> bytes:
    """Header + index/term of a snapshot record; snap.data follows it in the file."""
    return b"".join(_record_pieces(RecordType.SNAPSHOT, _PAIR.pack(snap.index, snap.term), snap.data)[:2])


def parse_header(head: bytes | memoryview) -> tuple[int, RecordType, int]:
    """(length, type, pcrc) of a HEADER_SIZE header; RecordError if its checksum fails."""
    if len(head) != HEADER_SIZE:
        raise RecordError(f"incomplete header ({len(head)} of {HEADER_SIZE} bytes)")
    length, rtype, pcrc = _HEAD.unpack_from(head)
    (hcrc,) = _HCRC.unpack_from(head, _HEAD.size)
    if zlib.crc32(head[: _HEAD.size]) != hcrc:
        raise RecordError("header checksum mismatch")
    try:
        return length, RecordType(rtype), pcrc
    except ValueError:
        raise RecordError(f"unknown record type {rtype}") from None


def decode_snapshot(head: bytes, meta: bytes, data: bytes) -> Snapshot:
    """A snapshot file read as its header, its SNAPSHOT_META_SIZE index/term and the rest.

    The caller reads the three parts separately so that `data` is never copied.
    """
    length, rtype, pcrc = parse_header(head)
    if rtype is not RecordType.SNAPSHOT:
        raise RecordError(f"a {rtype.name} record where a snapshot belongs")
    if len(meta) != SNAPSHOT_META_SIZE or len(meta) + len(data) != length:
        raise RecordError(f"snapshot record of {length} payload bytes, file holds {len(meta) + len(data)}")
    if zlib.crc32(data, zlib.crc32(meta)) != pcrc:
        raise RecordError("payload checksum mismatch")
    return Snapshot(*_PAIR.unpack(meta), data)


def _decode_payload(rtype: RecordType, payload: memoryview) -> Record:
    if rtype is RecordType.ENTRY:
        if len(payload) < _PAIR.size:
            raise RecordError(f"entry payload of {len(payload)} bytes is too short")
        term, index = _PAIR.unpack_from(payload)
        if index == 0:
            raise RecordError("entry with index 0")
        return Entry(term, index, bytes(payload[_PAIR.size :]))
    if rtype is RecordType.HARD_STATE:
        if len(payload) != _TRIPLE.size:
            raise RecordError(f"hard state payload of {len(payload)} bytes, want {_TRIPLE.size}")
        return HardState(*_TRIPLE.unpack_from(payload))
    raise RecordError(f"record type {rtype.name} does not belong in a log")


def _only_zeros_from(buf: bytes, pos: int) -> bool:
    return buf.count(0, pos) == len(buf) - pos


def scan(buf: bytes) -> tuple[list[tuple[int, Record]], Damage | None]:
    """Decode log records from the start of `buf`: [(offset, record)], then the damage if any.

    Stops at the first record that is incomplete, fails a checksum or does not decode;
    Damage.offset is that record's offset, so buf[:offset] holds only valid records.
    """
    view = memoryview(buf)
    records: list[tuple[int, Record]] = []
    pos, size = 0, len(buf)
    while pos < size:
        if size - pos < HEADER_SIZE:
            return records, Damage(pos, f"incomplete header ({size - pos} of {HEADER_SIZE} bytes)", True)
        try:
            length, rtype, pcrc = parse_header(view[pos : pos + HEADER_SIZE])
        except RecordError as exc:
            reason = "zero-filled tail" if _only_zeros_from(buf, pos) else str(exc)
            return records, Damage(pos, reason, _only_zeros_from(buf, pos + HEADER_SIZE))
        start, end = pos + HEADER_SIZE, pos + HEADER_SIZE + length
        if end > size:
            return records, Damage(pos, f"incomplete record ({size - start} of {length} payload bytes)", True)
        payload = view[start:end]
        if zlib.crc32(payload) != pcrc:
            return records, Damage(pos, "payload checksum mismatch", _only_zeros_from(buf, end))
        try:
            records.append((pos, _decode_payload(rtype, payload)))
        except RecordError as exc:
            return records, Damage(pos, str(exc), False)
        pos = end
    return records, None
