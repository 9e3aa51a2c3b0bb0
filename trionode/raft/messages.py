"""Raft's vocabulary: log entries, the persistent state, snapshots and messages. Pure.

Shapes follow the Raft paper (fig. 2) and etcd-io/raft's raftpb. Every object is frozen
and validated when made (STYLE principle 5): if one exists, it is legal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Entry", "HardState", "Snapshot", "MsgType", "Message", "LOCAL_TYPES", "RESPONSE_TYPES"]

_U64_MAX = (1 << 64) - 1


def _check_u64(owner: object, **fields: int) -> None:
    for name, value in fields.items():
        if not isinstance(value, int) or not 0 <= value <= _U64_MAX:
            raise ValueError(f"{type(owner).__name__}.{name} must be an int in [0, 2**64): {value!r}")


def _fast_u64(owner: object, combined: object, **fields: int) -> None:
    """The hot-path form of _check_u64: `combined` is the bitwise OR of the fields, which
    is negative if any is, at least 2**64 if any is, and a TypeError for a non-int."""
    try:
        if combined >= 0 and not combined >> 64:  # type: ignore[operator]
            return
    except TypeError:
        pass
    _check_u64(owner, **fields)  # says which field is wrong


def _check_data(owner: object, data: object) -> None:
    if not isinstance(data, bytes):
        raise ValueError(f"{type(owner).__name__}.data must be bytes, not {type(data).__name__}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry; `data` is a Command.encode() payload, opaque to Raft.

    A proposal not yet in any log (a forwarded MsgProp) has term 0 and index 0.
    """

    term: int
    index: int
    data: bytes

    def __post_init__(self) -> None:
        try:
            combined = self.term | self.index
        except TypeError:
            combined = -1
        _fast_u64(self, combined, term=self.term, index=self.index)
        if type(self.data) is not bytes:
            _check_data(self, self.data)


@dataclass(frozen=True, slots=True)
class HardState:
    """What Raft must remember across a crash (paper fig. 2: currentTerm, votedFor) + commit."""

    term: int = 0
    vote: int = 0  # member id voted for in `term`; 0 = none
    commit: int = 0

    def __post_init__(self) -> None:
        _check_u64(self, term=self.term, vote=self.vote, commit=self.commit)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The applied state up to and including log entry `index` of `term` (Store.dump())."""

    index: int
    term: int
    data: bytes

    def __post_init__(self) -> None:
        _check_u64(self, index=self.index, term=self.term)
        _check_data(self, self.data)


class MsgType(enum.IntEnum):
    # Between members (each has a frame type in proto/SPEC.md).
    APP = 1  # append entries; with no entries a probe (paper §5.3)
    APP_RESP = 2  # reject=True: index = the rejected index, reject_hint = follower's last index
    VOTE = 3
    VOTE_RESP = 4
    PRE_VOTE = 5  # term = the term the candidate would move to (thesis §9.6)
    PRE_VOTE_RESP = 6
    HEARTBEAT = 7  # commit = min(leader commit, follower match); context = read-index round
    HEARTBEAT_RESP = 8
    SNAP = 9  # install snapshot: whole here, in chunks on the wire; answered by APP_RESP
    PROP = 10  # a proposal forwarded by a follower to the leader
    READ_INDEX = 11  # a follower asks the leader for a read index; context = request id
    READ_INDEX_RESP = 12  # index = the read index, context echoed
    TIMEOUT_NOW = 13  # leader transfer: campaign now, skipping pre-vote (thesis §3.10)
    # Local only: made by the node's edge and stepped into its own core, never sent.
    HUP = 20  # election timeout elapsed: campaign
    BEAT = 21  # heartbeat timeout elapsed: send heartbeats
    UNREACHABLE = 22  # the edge could not deliver to `frm`
    SNAP_STATUS = 23  # the edge finished (reject=False) or failed (reject=True) sending a snapshot
    TRANSFER_LEADER = 24  # frm = the member that should take over


LOCAL_TYPES = frozenset({MsgType.HUP, MsgType.BEAT, MsgType.UNREACHABLE, MsgType.SNAP_STATUS,
                         MsgType.TRANSFER_LEADER})
RESPONSE_TYPES = frozenset({MsgType.APP_RESP, MsgType.VOTE_RESP, MsgType.PRE_VOTE_RESP,
                            MsgType.HEARTBEAT_RESP, MsgType.READ_INDEX_RESP})


@dataclass(frozen=True, slots=True)
class Message:
    type: MsgType
    to: int
    frm: int
    term: int = 0
    #: APP: term of the entry at `index` (the one before `entries`); VOTE: candidate's last term
    log_term: int = 0
    #: APP: index before `entries`; VOTE: candidate's last index; APP_RESP: see MsgType
    index: int = 0
    entries: tuple[Entry, ...] = ()
    commit: int = 0
    reject: bool = False
    reject_hint: int = 0
    snapshot: Snapshot | None = None
    #: opaque bytes: read-index request ids; for VOTE, b"transfer" marks a leader transfer
    context: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.type, MsgType):
            object.__setattr__(self, "type", MsgType(self.type))
        try:
            combined = (self.to | self.frm | self.term | self.log_term | self.index | self.commit
                        | self.reject_hint)
        except TypeError:
            combined = -1
        _fast_u64(self, combined, to=self.to, frm=self.frm, term=self.term, log_term=self.log_term,
                  index=self.index, commit=self.commit, reject_hint=self.reject_hint)
        if not isinstance(self.entries, tuple):
            object.__setattr__(self, "entries", tuple(self.entries))
        if (self.snapshot is None) == (self.type is MsgType.SNAP):
            raise ValueError("a snapshot travels in SNAP messages, and only there")
        if not isinstance(self.context, bytes):
            raise ValueError("Message.context must be bytes")

    def describe(self) -> str:
        """One stable line for logs and transcripts (STYLE principle 13)."""
        parts = [f"{self.frm:x}->{self.to:x}", self.type.name, f"term={self.term}"]
        if self.log_term or self.index:
            parts.append(f"log={self.log_term}/{self.index}")
        if self.commit:
            parts.append(f"commit={self.commit}")
        if self.entries:
            parts.append("entries=[" + " ".join(f"{e.term}/{e.index}" for e in self.entries) + "]")
        if self.reject:
            parts.append(f"rejected hint={self.reject_hint}")
        if self.snapshot is not None:
            parts.append(f"snap={self.snapshot.term}/{self.snapshot.index}")
        if self.context:
            parts.append(f"ctx={self.context.hex()}")
        return " ".join(parts)
