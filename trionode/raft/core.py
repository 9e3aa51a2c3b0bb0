"""RaftCore: one member's Raft state machine, pure (STYLE principle 1).

Inputs: tick() (a logical clock), step(message), propose(), read_index(),
transfer_leadership(), compact(). Outputs: Ready batches the edge persists, sends and
applies, then acknowledges with advance() — the shape of etcd-io/raft's RawNode.

This module holds the state, the term rules every message goes through (paper §5.1),
role changes, and the Ready cycle. Role behaviour lives in follower.py, election.py
(pre-candidate, candidate) and leader.py; log shipping in replication.py.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..telemetry.logger import Logger
from . import election, follower, leader, membership, replication
from .errors import ProposalDropped
from .log import RaftLog
from .messages import Entry, HardState, Message, MsgType, Snapshot
from .progress import PeerProgress
from .readonly import ReadOnly
from .ready import ReadState, Ready, SoftState, Status
from .roles import LEGAL_MOVES, Role

__all__ = ["RaftConfig", "RaftCore", "Rng"]


class Rng(Protocol):
    """The core's only source of randomness: a seeded random.Random, never the global one."""

    def randrange(self, stop: int) -> int: ...


def _never(data: bytes) -> bool:
    return False


@dataclass(frozen=True)
class RaftConfig:
    """The member's settings and its membership at start (set_membership() changes it).

    `peers` are the voters, `learners` the non-voting members (membership.py); this member
    may be in neither (it then never campaigns). `is_conf_change(data)` tells a membership
    change entry, which the leader admits one at a time; one it refuses is appended as
    `refuse_conf_change(data)` instead (by default an empty entry, as etcd-raft does; the
    edge may keep enough of it to tell its proposer at once)."""

    id: int
    peers: tuple[int, ...]  # the voters
    election_tick: int = 10  # ticks without a leader before campaigning (randomized up to 2x)
    heartbeat_tick: int = 1  # ticks between a leader's heartbeats
    max_inflight: int = 256  # APP messages in flight per follower (REPLICATE state)
    max_msg_entries: int = 512  # entries per APP message
    pre_vote: bool = True  # thesis §9.6
    check_quorum: bool = True  # leader steps down without a live quorum; leader lease for votes
    learners: tuple[int, ...] = ()
    rng: Rng = field(kw_only=True)  # the only source of randomness (seeded)
    logger: Logger | None = field(default=None, kw_only=True)  # None: decisions are not logged
    is_conf_change: Callable[[bytes], bool] = field(default=_never, kw_only=True)
    refuse_conf_change: Callable[[bytes], bytes] = field(default=lambda data: b"", kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or not 0 < self.id < 1 << 64:
            raise ValueError(f"member id {self.id!r} must be a nonzero u64")
        peers, learners = membership.validate(self.id, self.peers, self.learners)
        object.__setattr__(self, "peers", peers)
        object.__setattr__(self, "learners", learners)
        if not callable(self.is_conf_change) or not callable(self.refuse_conf_change):
            raise ValueError("is_conf_change and refuse_conf_change must be callables")
        if not 0 < self.heartbeat_tick < self.election_tick:
            raise ValueError("need 0 < heartbeat_tick < election_tick")
        if self.max_inflight < 1 or self.max_msg_entries < 1:
            raise ValueError("max_inflight and max_msg_entries must be positive")
        if not callable(getattr(self.rng, "randrange", None)):
            raise ValueError("rng must be a seeded random.Random")


class _Quiet:
    def info(self, event: str, **kv: object) -> None:
        pass

    debug = info


Handler = Callable[["RaftCore", Message], None]
Ticker = Callable[["RaftCore"], None]

#: what each role does with a message its term check let through, and on each tick
_HANDLERS: dict[Role, tuple[Handler, Ticker]] = {
    Role.FOLLOWER: (follower.step, election.tick),
    Role.PRE_CANDIDATE: (election.step_candidate, election.tick),
    Role.CANDIDATE: (election.step_candidate, election.tick),
    Role.LEADER: (leader.step, leader.tick),
}


class RaftCore:
    def __init__(self, config: RaftConfig, hard_state: HardState, snapshot: Snapshot | None,
                 entries: list[Entry]) -> None:
        """Restart from what the storage recovered (or a fresh HardState() and nothing)."""
        self.config = config
        self.id = config.id
        self.voters, self.learners = config.peers, config.learners
        self.logger = config.logger if config.logger is not None else _Quiet()
        self.log = RaftLog(snapshot, entries)
        self.log.commit_to(hard_state.commit)
        self.term = hard_state.term
        self.vote = hard_state.vote
        self.role = Role.FOLLOWER
        self.lead = 0
        self.msgs: list[Message] = []
        self.read_states: list[ReadState] = []
        self.prs: dict[int, PeerProgress] = {}
        self.votes: dict[int, bool] = {}
        self.read_only = ReadOnly()
        self.pending_reads: list[tuple[int, bytes]] = []  # (from, ctx) until a commit in term
        self.lead_transferee = 0
        self.pending_conf_index = 0  # leader: the last index that may be a membership change
        self.election_elapsed = self.heartbeat_elapsed = self.randomized_timeout = 0
        self._step_role, self._tick_role = _HANDLERS[Role.FOLLOWER]
        self.become_follower(self.term, 0)
        self._prev_hs = HardState(self.term, self.vote, self.log.committed)
        self._prev_ss = SoftState(0, Role.FOLLOWER)
        self._outstanding = False

    # --- the public API --------------------------------------------------------------------

    def tick(self) -> None:
        self._tick_role(self)

    def step(self, m: Message) -> None:
        """Any message from a peer, or a local one (term 0); stale ones are dropped."""
        if m.term > self.term:
            if not self._accept_higher_term(m):
                return
        elif 0 < m.term < self.term:
            replication.answer_stale(self, m)
            return
        if m.type is MsgType.HUP:
            election.hup(self, transfer=False)
        elif m.type in (MsgType.VOTE, MsgType.PRE_VOTE):
            election.handle_vote_request(self, m)
        else:
            self._step_role(self, m)

    def propose(self, data: bytes) -> None:
        self.propose_all((data,))

    def propose_all(self, datas: Sequence[bytes]) -> None:
        """Several proposals in one go: one append, one APP per follower (or one PROP to the
        leader), instead of a message each. Raises ProposalDropped for all of them."""
        if self.role is Role.LEADER:
            if self.lead_transferee:
                raise ProposalDropped(f"leadership transfer to {self.lead_transferee:x} in progress")
            leader.append_proposals(self, list(datas))
        elif self.lead == 0:
            raise ProposalDropped("no leader known")
        else:
            self.send(MsgType.PROP, self.lead, entries=tuple(Entry(0, 0, data) for data in datas))

    def read_index(self, ctx: bytes) -> None:
        if self.role is Role.LEADER:
            leader.handle_read_index(self, self.id, ctx)
        elif self.lead == 0:
            raise ProposalDropped("no leader known")
        else:
            self.send(MsgType.READ_INDEX, self.lead, context=ctx)

    def transfer_leadership(self, to: int) -> None:
        self.step(Message(MsgType.TRANSFER_LEADER, to=self.id, frm=to))

    def set_membership(self, voters: Collection[int], learners: Collection[int]) -> None:
        """The membership the edge just applied (a committed change entry, an installed
        snapshot, or the state recovered at restart). Idempotent.

        Legal at any time the core may be stepped, including between ready() and advance()
        while the edge applies that Ready's committed entries: it only changes progress,
        the role (a removed leader or candidate steps down), the commit index (a smaller
        quorum) and queues messages, all of which go out in the next Ready. It never
        touches the log's stable or applied marks, which advance() still moves."""
        voters, learners = membership.validate(self.id, voters, learners)
        if (voters, learners) == (self.voters, self.learners):
            return
        self.voters, self.learners = voters, learners
        self.logger.info("raft.membership", voters=",".join(f"{p:x}" for p in voters),
                         learners=",".join(f"{p:x}" for p in learners), role=self.role.value)
        if self.role is Role.LEADER:
            membership.leader_changed(self)
        elif self.role is not Role.FOLLOWER and not self.promotable():
            self.become_follower(self.term, 0)  # a removed candidate stops campaigning

    def compact(self, snapshot: Snapshot) -> None:
        if self.log.compact(snapshot):
            self.logger.info("raft.compacted", index=snapshot.index, term=snapshot.term)

    def has_ready(self) -> bool:
        """Whether ready() has work; False while a Ready awaits its advance()."""
        if self._outstanding:
            return False
        log = self.log
        return bool(self.msgs or self.read_states or log.stable < log.last_index()
                    or log.unstable_snapshot is not None or log.has_next_committed()
                    or self._hard_state() != self._prev_hs
                    or SoftState(self.lead, self.role) != self._prev_ss)

    def ready(self) -> Ready:
        """The next batch of work; the edge must advance() it before the next ready()."""
        assert not self._outstanding, "ready() again before advance() of the previous Ready"
        hs, ss = self._hard_state(), SoftState(self.lead, self.role)
        entries = tuple(self.log.unstable_entries())
        snapshot = self.log.unstable_snapshot
        vote_changed = (hs.term, hs.vote) != (self._prev_hs.term, self._prev_hs.vote)
        rd = Ready(hard_state=hs if hs != self._prev_hs else None, entries=entries,
                   snapshot=snapshot, committed=tuple(self.log.next_committed()),
                   messages=tuple(self.msgs), read_states=tuple(self.read_states),
                   soft_state=ss if ss != self._prev_ss else None,
                   must_sync=bool(entries) or snapshot is not None or vote_changed)
        self.msgs.clear()
        self.read_states.clear()
        self._prev_hs, self._prev_ss = hs, ss
        self._outstanding = True
        return rd

    def advance(self, rd: Ready) -> None:
        """The edge persisted, sent and applied `rd`."""
        self._outstanding = False
        if rd.snapshot is not None:
            self.log.stable_snapshot_to(rd.snapshot.index)
        if rd.entries:
            self.log.stable_to(rd.entries[-1].index, rd.entries[-1].term)
        if rd.committed:
            self.log.applied_to(rd.committed[-1].index)
        if self.role is Role.LEADER:
            leader.self_ack(self)  # the leader's own copy counts once it is on disk

    @property
    def status(self) -> Status:
        progress = ({p: pr.view() for p, pr in self.prs.items()}
                    if self.role is Role.LEADER else {})
        return Status(self.id, self.role, self.term, self.lead, self.log.committed,
                      self.log.applied, self.lead_transferee, progress, self.voters, self.learners)

    # --- shared by the role modules --------------------------------------------------------

    def send(self, type: MsgType, to: int, *, term: int | None = None, **fields: Any) -> None:
        """Queue a message for the next Ready. Proposals and read requests travel with
        term 0 (the receiver treats them like its own local requests)."""
        if term is None:
            term = 0 if type in (MsgType.PROP, MsgType.READ_INDEX) else self.term
        self.msgs.append(Message(type, to, self.id, term, **fields))

    def promotable(self) -> bool:
        return self.id in self.voters

    def in_lease(self) -> bool:
        """A follower that heard from a leader within the election timeout believes it
        alive, and refuses to help depose it (thesis §4.2.3, §9.6)."""
        return (self.config.check_quorum and self.lead != 0
                and self.election_elapsed < self.config.election_tick)

    def become_follower(self, term: int, lead: int) -> None:
        self._move(Role.FOLLOWER)
        self._reset(term)
        self.lead = lead
        self.logger.info("raft.became_follower", term=term, leader=f"{lead:x}")

    def become_pre_candidate(self) -> None:
        # Neither the term nor the vote change: a pre-vote round must leave no trace if it
        # fails (thesis §9.6).
        self._move(Role.PRE_CANDIDATE)
        self.votes = {}
        self.lead = 0
        self.logger.info("raft.became_pre_candidate", term=self.term)

    def become_candidate(self) -> None:
        self._move(Role.CANDIDATE)
        self._reset(self.term + 1)
        self.vote = self.id
        self.logger.info("raft.became_candidate", term=self.term)

    def become_leader(self) -> None:
        self._move(Role.LEADER)
        self._reset(self.term)
        self.lead = self.id
        me = self.prs[self.id]
        me.become_replicate()
        me.recent_active = True
        # Anything in our log past what we applied may be a membership change: admit no
        # new one until we applied it all (membership.py, one change at a time).
        self.pending_conf_index = self.log.last_index()
        self.logger.info("raft.became_leader", term=self.term)
        # An empty entry of the new term: committing it commits everything before it and
        # tells the leader what is committed (paper §5.4.2, §8).
        leader.append_proposals(self, [b""])

    # --- internals -------------------------------------------------------------------------

    def _accept_higher_term(self, m: Message) -> bool:
        """Paper §5.1: a higher term means we are out of date. Returns False to drop m."""
        if m.type in (MsgType.VOTE, MsgType.PRE_VOTE):
            if m.context != election.TRANSFER and self.in_lease():
                self.logger.info("raft.vote_ignored_in_lease", frm=f"{m.frm:x}", type=m.type.name,
                                 term=self.term, msg_term=m.term, leader=f"{self.lead:x}")
                return False
        if m.type is MsgType.PRE_VOTE or (m.type is MsgType.PRE_VOTE_RESP and not m.reject):
            return True  # a pre-vote is about a term nobody has entered yet
        lead = m.frm if m.type in (MsgType.APP, MsgType.HEARTBEAT, MsgType.SNAP) else 0
        self.logger.info("raft.higher_term", frm=f"{m.frm:x}", type=m.type.name, msg_term=m.term)
        self.become_follower(m.term, lead)
        return True

    def _move(self, role: Role) -> None:
        assert role in LEGAL_MOVES[self.role], f"illegal role change {self.role.value} -> {role.value}"
        self.role = role
        self._step_role, self._tick_role = _HANDLERS[role]

    def _reset(self, term: int) -> None:
        if term != self.term:
            self.term, self.vote = term, 0
        self.lead = 0
        self.election_elapsed = self.heartbeat_elapsed = 0
        tick = self.config.election_tick
        self.randomized_timeout = tick + self.config.rng.randrange(tick)
        self.lead_transferee = 0
        self.votes = {}
        last = self.log.last_index()
        members = sorted({*self.voters, *self.learners, self.id})  # we may be in neither
        self.prs = {p: PeerProgress(0, last + 1, self.config.max_inflight) for p in members}
        self.prs[self.id].match = self.log.stable
        self.read_only = ReadOnly()
        self.pending_reads = []

    def _hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)
