"""Replicated commands: what goes into a log entry and what every replica applies.

A command is decided completely by the node that accepts the request: the v2 operation
is already chosen (v2-spec §1.5 decision table) and a TTL is already an absolute
expiration in Unix nanoseconds, so that applying it needs no clock and gives the same
result on every replica. TTL expiry is itself a command, Sync(cutoff) (STYLE principle 3).

Wire form (little endian), the payload of a log entry:
    u8 op | u8 flags | [i64 expiration] | [u64 prev_index] | [i64 cutoff]
    | str key | [str value] | [str prev_value]
where each bracketed field is present only when its flag bit is set (SYNC carries only
the cutoff), and str = u32 length + UTF-8 bytes (surrogateescape, so any client bytes
round-trip).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

__all__ = ["Op", "Command", "CommandError"]


class Op(enum.IntEnum):
    SET = 1
    CREATE = 2
    UPDATE = 3
    CAS = 4
    DELETE = 5
    CAD = 6
    SYNC = 7  # expire every node whose expiration <= cutoff
    NOOP = 8  # applies nothing
    PUBLISH = 9  # a member's name and client URLs (key "/<id hex>", value JSON); see membership/members.py
    MEMBER = 10  # a membership change (key "/<id hex>", value JSON); see membership/members.py
    REFUSED = 11  # a membership change the leader refused (another was in flight): fails its request


class CommandError(ValueError):
    """A log payload that is not a command (a bug or corruption, never a client error)."""


# flag bits
_DIR, _RECURSIVE, _REFRESH, _UNIQUE, _EXP, _PREV_VALUE, _PREV_INDEX, _VALUE = (1 << i for i in range(8))
_HEAD = struct.Struct("<BB")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Command:
    op: Op
    key: str = "/"
    value: str = ""
    dir: bool = False
    #: absolute Unix nanoseconds; None = permanent
    expiration: int | None = None
    prev_value: str | None = None
    prev_index: int = 0
    recursive: bool = False
    refresh: bool = False
    #: in-order create (POST): the key names the parent dir, the child is named by index
    unique: bool = False
    #: SYNC only: Unix nanoseconds
    cutoff: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.op, Op):
            object.__setattr__(self, "op", Op(self.op))
        if not self.key.startswith("/"):
            raise CommandError(f"key must be absolute: {self.key!r}")
        if self.prev_index < 0:
            raise CommandError("prev_index must not be negative")

    def encode(self) -> bytes:
        flags = 0
        parts: list[bytes] = []
        if self.op is Op.SYNC:
            return _HEAD.pack(self.op, 0) + _I64.pack(self.cutoff)
        if self.dir:
            flags |= _DIR
        if self.recursive:
            flags |= _RECURSIVE
        if self.refresh:
            flags |= _REFRESH
        if self.unique:
            flags |= _UNIQUE
        if self.expiration is not None:
            flags |= _EXP
            parts.append(_I64.pack(self.expiration))
        if self.prev_index:
            flags |= _PREV_INDEX
            parts.append(_U64.pack(self.prev_index))
        parts.append(_pack_str(self.key))
        if self.value:
            flags |= _VALUE
            parts.append(_pack_str(self.value))
        if self.prev_value is not None:
            flags |= _PREV_VALUE
            parts.append(_pack_str(self.prev_value))
        return _HEAD.pack(self.op, flags) + b"".join(parts)

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Command:
        try:
            return _decode(cls, memoryview(data))
        except (struct.error, ValueError, IndexError) as exc:
            raise CommandError(f"undecodable command: {exc}") from None

    def describe(self) -> str:
        """One line for logs (STYLE principle 13)."""
        if self.op is Op.SYNC:
            return f"SYNC cutoff={self.cutoff}"
        extra = []
        for name in ("dir", "recursive", "refresh", "unique"):
            if getattr(self, name):
                extra.append(name)
        if self.expiration is not None:
            extra.append(f"exp={self.expiration}")
        if self.prev_value is not None:
            extra.append(f"prevValue={self.prev_value!r}")
        if self.prev_index:
            extra.append(f"prevIndex={self.prev_index}")
        return " ".join([self.op.name, self.key, repr(self.value), *extra])


def _pack_str(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return _U32.pack(len(raw)) + raw


def _unpack_str(buf: memoryview, pos: int) -> tuple[str, int]:
    (n,) = _U32.unpack_from(buf, pos)
    pos += 4
    if pos + n > len(buf):
        raise ValueError("string runs past the end")
    return bytes(buf[pos : pos + n]).decode("utf-8", "surrogateescape"), pos + n


def _decode(cls: type[Command], buf: memoryview) -> Command:
    op_code, flags = _HEAD.unpack_from(buf, 0)
    op = Op(op_code)
    pos = _HEAD.size
    if op is Op.SYNC:
        (cutoff,) = _I64.unpack_from(buf, pos)
        _check_end(buf, pos + 8)
        return cls(op, cutoff=cutoff)
    expiration = None
    prev_index = 0
    if flags & _EXP:
        (expiration,) = _I64.unpack_from(buf, pos)
        pos += 8
    if flags & _PREV_INDEX:
        (prev_index,) = _U64.unpack_from(buf, pos)
        pos += 8
    key, pos = _unpack_str(buf, pos)
    value = ""
    prev_value = None
    if flags & _VALUE:
        value, pos = _unpack_str(buf, pos)
    if flags & _PREV_VALUE:
        prev_value, pos = _unpack_str(buf, pos)
    _check_end(buf, pos)
    return cls(
        op,
        key=key,
        value=value,
        dir=bool(flags & _DIR),
        expiration=expiration,
        prev_value=prev_value,
        prev_index=prev_index,
        recursive=bool(flags & _RECURSIVE),
        refresh=bool(flags & _REFRESH),
        unique=bool(flags & _UNIQUE),
    )


def _check_end(buf: memoryview, pos: int) -> None:
    if pos != len(buf):
        raise ValueError(f"{len(buf) - pos} trailing bytes")
