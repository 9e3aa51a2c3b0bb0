"""What a log entry carries: a request id, then the command (store/commands.py).

The id lets the member that accepted a request find it again when the entry is
applied, whichever member proposed it to the leader: each member keeps the requests it
is waiting for by id (as etcd's wait.Wait does). Ids are unique per member: the top 16
bits are taken from the member id, the rest count up from a start drawn at boot, so a
restarted member does not reuse the ids of its previous life.

    u64 request id (big endian) | Command.encode()

An entry with empty data is a new leader's no-op (Raft paper §5.4.2) and carries nothing.
"""

from __future__ import annotations

import struct

from ..store.commands import Command, Op

__all__ = ["RequestIds", "pack", "unpack", "is_conf_change", "refused"]

_ID = struct.Struct(">Q")


def pack(request_id: int, command: Command) -> bytes:
    return _ID.pack(request_id) + command.encode()


def is_conf_change(data: bytes) -> bool:
    """Whether an entry changes who votes: the Raft core lets one such change be in flight
    at a time (RaftConfig.is_conf_change). Looks at the op byte only, without decoding."""
    return len(data) > _ID.size and data[_ID.size] == Op.MEMBER


def refused(data: bytes) -> bytes:
    """What the leader appends for a membership change it refuses (RaftConfig.
    refuse_conf_change): the same request id with a REFUSED command, which changes nothing
    and tells the member that proposed it at once, rather than after a timeout."""
    return data[: _ID.size] + Command(Op.REFUSED).encode()


def unpack(data: bytes) -> tuple[int, Command]:
    """(request id, command); raises CommandError for bytes that are not a payload."""
    (request_id,) = _ID.unpack_from(data)
    return request_id, Command.decode(memoryview(data)[_ID.size :])


class RequestIds:
    """Unique ids for this member's requests."""

    __slots__ = ("_prefix", "_next")

    def __init__(self, member_id: int, start: int) -> None:
        self._prefix = (member_id & 0xFFFF) << 48
        self._next = start & ((1 << 48) - 1)

    def next(self) -> int:
        self._next = (self._next + 1) & ((1 << 48) - 1)
        return self._prefix | self._next
