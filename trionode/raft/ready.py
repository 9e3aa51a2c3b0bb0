"""What the core hands the edge: Ready (persist, send, apply), and read-only views."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import describe
from .messages import Entry, HardState, Message, Snapshot
from .progress import Progress
from .roles import Role

__all__ = ["SoftState", "ReadState", "Ready", "Status"]


@dataclass(frozen=True, slots=True)
class SoftState:
    """Who leads, as this member sees it; not persisted."""

    leader: int  # 0 = unknown
    role: Role


@dataclass(frozen=True, slots=True)
class ReadState:
    """A linearizable read (thesis §6.4) with this `ctx` may be served once the local
    state machine has applied `index`."""

    index: int
    ctx: bytes


@dataclass(frozen=True, slots=True)
class Ready:
    """One batch of work. The edge does it in this order (STYLE principle 2):
      1. persist `snapshot`, `entries` (append; the first may overwrite a suffix) and
         `hard_state`; fsync when `must_sync`;
      2. send `messages` (vote and append answers among them rely on step 1);
      3. apply `snapshot`, then `committed` in order; serve `read_states` once applied;
      4. RaftCore.advance(this ready).
    Two refinements are safe and trionode's edge (server/replica.py) uses both, as etcd does:
    the leader's appends and heartbeats may leave before step 1 (thesis §10.2.1: its own
    entries count toward a quorum only at advance()), and `committed` entries, durable on
    a quorum already, may be applied before step 1 unless a snapshot comes with them.
    tests/sim checks that order.
    """

    hard_state: HardState | None = None
    entries: tuple[Entry, ...] = ()
    snapshot: Snapshot | None = None
    committed: tuple[Entry, ...] = ()
    messages: tuple[Message, ...] = ()
    read_states: tuple[ReadState, ...] = ()
    soft_state: SoftState | None = None
    must_sync: bool = False

    def describe(self) -> str:
        return describe.ready(self)


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    role: Role
    term: int
    leader: int
    commit: int
    applied: int
    lead_transferee: int
    progress: dict[int, Progress] = field(default_factory=dict)  # on the leader only
    voters: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()

    def describe(self) -> str:
        return describe.status(self)
