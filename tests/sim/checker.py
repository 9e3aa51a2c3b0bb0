"""Whole-history safety checks for the simulated cluster (Raft paper fig. 3).

Every check is incremental, so that it can run after every step of thousands of steps:
- election safety: `leaders[term]` keeps the one leader ever seen in that term;
- log matching: an entry (index, term) was made by one leader once, so everywhere and
  forever it must carry the same data and follow an entry of the same term; by induction
  two logs holding (index, term) agree on the whole prefix (paper §5.3). Checked on every
  write any node makes, dead nodes' history included;
- commitment: `committed[index] = (term, commit_term)`; when an index is first reported
  committed, its entry must be on the durable disks of a majority (§5.4.2; what lets the
  edge apply it before writing it locally, and makes the leader's early appends safe);
- leader completeness: a leader of term T must hold every entry committed in a term
  before T (§5.4.1, §5.4.3);
- state machine safety: a node applies, in order and up to the commit its core reported,
  exactly the entries committed at those indexes; `applied` is the one sequence every
  node's applied entries are a prefix of (§5.4.3); snapshots must be prefixes of it too;
- what a message says must be durable when it leaves: its term (else a restart could
  vote again in it), a granted vote, an append acknowledged as held (fig. 2, "respond to
  RPCs" after updating stable storage); early messages are checked the same way;
- no double vote: a node votes for one candidate per term, across crashes (fig. 2).

The node calls these when its real counterpart would act (see node.py): commits and log
matching when a Ready is taken (it applies before it writes), votes when its late messages
leave. Nothing here assumes the old persist-send-apply order.
"""

from __future__ import annotations

from trionode.raft.messages import Entry, HardState, Message, MsgType, Snapshot

from .disk import LogState, SimDisk

__all__ = ["History", "Violation", "decode_payloads", "encode_payloads"]


class Violation(AssertionError):
    """A safety property broke; the sim wraps it with the seed, step and trace."""


def encode_payloads(payloads: list[bytes]) -> bytes:
    """The sim's state machine snapshot: applied client payloads (no b'|' in them)."""
    return b"|".join(payloads)


def decode_payloads(data: bytes) -> list[bytes]:
    return data.split(b"|") if data else []


class History:
    __slots__ = ("leaders", "entries", "committed", "applied", "payload_count", "payloads",
                 "votes", "terms", "disks")

    def __init__(self) -> None:
        self.leaders: dict[int, int] = {}
        #: (index, term) -> (data, term of the entry before it)
        self.entries: dict[tuple[int, int], tuple[bytes, int]] = {(0, 0): (b"", 0)}
        #: index -> (entry term, lowest term of a node that saw it committed)
        self.committed: dict[int, tuple[int, int]] = {}
        self.applied: list[Entry] = []  # applied[i - 1] is the entry applied at index i
        self.payload_count: list[int] = [0]  # client payloads among indexes 1..i
        self.payloads: list[bytes] = []
        self.votes: dict[tuple[int, int], int] = {}
        self.terms: dict[int, int] = {}  # highest term each node ever wrote
        self.disks: dict[int, SimDisk] = {}  # every member's disk, up or down

    # -- writes -------------------------------------------------------------------------------
    def on_entries(self, node: int, log: LogState, ents: tuple[Entry, ...]) -> None:
        """Called before `ents` is appended to `log` (the node's written log)."""
        first = ents[0].index
        for e in ents:
            if e.index > min(log.last_index, log.hs.commit):
                break
            if log.term_at(e.index) not in (None, e.term):
                raise Violation(f"node {node:x} overwrites its committed entry "
                                f"{log.term_at(e.index)}/{e.index} with {e.term}/{e.index} "
                                f"(commit={log.hs.commit})")
        prev_term = log.term_at(first - 1)
        if prev_term is None:
            return  # DiskError reports the gap
        for e in ents:
            key = (e.index, e.term)
            known = self.entries.get(key)
            if known is None:
                self.entries[key] = (e.data, prev_term)
            elif known != (e.data, prev_term):
                raise Violation(f"log matching: node {node:x} writes {e.term}/{e.index} "
                                f"data={e.data!r} after term {prev_term}; first seen as "
                                f"data={known[0]!r} after term {known[1]}")
            prev_term = e.term

    def on_snapshot(self, node: int, snap: Snapshot) -> None:
        """A snapshot must be the applied prefix up to its index (state machine safety)."""
        if snap.index > len(self.applied):
            raise Violation(f"node {node:x} got snapshot {snap.term}/{snap.index} beyond anything "
                            f"applied anywhere ({len(self.applied)})")
        if snap.index and self.applied[snap.index - 1].term != snap.term:
            raise Violation(f"snapshot {snap.term}/{snap.index} at node {node:x}: applied entry there "
                            f"has term {self.applied[snap.index - 1].term}")
        want = self.payloads[:self.payload_count[snap.index]]
        if decode_payloads(snap.data) != want:
            raise Violation(f"snapshot {snap.term}/{snap.index} at node {node:x} does not hold the "
                            "applied prefix")

    def on_hard_state(self, node: int, log: LogState, prev: HardState, hs: HardState,
                      is_leader: bool, voter_sets: list[tuple[int, ...]]) -> None:
        """`log` reads as once the Ready holding `hs` (and entries before it) is written;
        called when the Ready is taken, before its committed entries are applied."""
        if hs.commit > log.last_index:
            raise Violation(f"node {node:x} commit {hs.commit} beyond its last index {log.last_index}")
        if hs.commit < prev.commit:
            raise Violation(f"node {node:x} commit went back from {prev.commit} to {hs.commit}")
        for index in range(max(prev.commit, log.snap_index) + 1, hs.commit + 1):
            self._commit(node, index, log.term_at(index), hs.term, is_leader, voter_sets)

    def on_sent_hard_state(self, node: int, hs: HardState) -> None:
        """The Ready holding `hs` is durable: its late messages (votes among them) leave
        now, so the term and the vote are known to others and must never go back or change
        (paper fig. 2). (A Ready lost in a crash before this point took its term and vote
        with it, legitimately: its early messages hold no vote and only a durable term,
        which on_send checks.)"""
        if hs.term < self.terms.get(node, 0):
            raise Violation(f"node {node:x} term went back from {self.terms[node]} to {hs.term} "
                            "(a term change was not fsynced?)")
        self.terms[node] = hs.term
        if hs.vote:
            voted = self.votes.setdefault((node, hs.term), hs.vote)
            if voted != hs.vote:
                raise Violation(f"node {node:x} voted for {voted:x} and then {hs.vote:x} in term "
                                f"{hs.term} (a vote was not fsynced?)")

    def on_send(self, node: int, msg: Message, durable: LogState) -> None:
        """`msg` leaves `node`, whose fsynced state is `durable`: what it tells the receiver
        must survive a crash of the sender right now (paper fig. 2: update stable storage
        before responding). Early messages pass this too: a leader's term is durable since
        its own vote, and an append promises nothing about the leader's disk."""
        if msg.type in (MsgType.PRE_VOTE, MsgType.PRE_VOTE_RESP):
            return  # about a term nobody has entered yet (thesis §9.6)
        hs = durable.hs
        if msg.term > hs.term:
            raise Violation(f"node {node:x} sends {msg.describe()} before its term {msg.term} is "
                            f"durable (fsynced term {hs.term})")
        if msg.reject:
            return
        if msg.type is MsgType.VOTE_RESP and msg.term == hs.term and hs.vote != msg.to:
            # (A durable term above msg.term is fine: the node can never vote in msg.term again.)
            raise Violation(f"node {node:x} grants its vote {msg.describe()} but its fsynced "
                            f"vote in term {hs.term} is {hs.vote:x}")
        if msg.type is MsgType.APP_RESP and msg.index > durable.last_index:
            raise Violation(f"node {node:x} acknowledges entries up to {msg.index} "
                            f"({msg.describe()}) but its fsynced log ends at {durable.last_index}")

    def _commit(self, node: int, index: int, term: int | None, node_term: int, leader: bool,
                voter_sets: list[tuple[int, ...]]) -> None:
        known = self.committed.get(index)
        if known is None:
            self._check_quorum_durable(node, index, term, voter_sets)
            # The leader learns of a commit before anyone else (followers hear it from the
            # leader), so the first recorder's term is the committing term when it leads.
            self.committed[index] = (term, node_term)
        elif known[0] != term:
            raise Violation(f"node {node:x} commits {term}/{index} but {known[0]}/{index} "
                            "was committed before")
        elif leader and node_term < known[1]:
            self.committed[index] = (term, node_term)

    def _check_quorum_durable(self, node: int, index: int, term: int | None,
                              voter_sets: list[tuple[int, ...]]) -> None:
        """An entry first reported committed must be fsynced on a majority of the voters
        (a snapshot covering it counts): only then can no future leader lack it (§5.4).
        This is what the leader's own entries counting only after advance() guarantees.
        The voters are those the reporting node had since its last Ready (a membership
        change applied meanwhile may have decided the commit, thesis §4.1)."""
        holders = {i for i, disk in self.disks.items()
                   if disk.durable.term_at(index) == term or index <= disk.durable.snap_index}
        if any(len(holders & set(voters)) > len(voters) // 2 for voters in voter_sets if voters):
            return
        raise Violation(f"node {node:x} reports {term}/{index} committed, but only "
                        f"{','.join(f'{i:x}' for i in sorted(holders)) or 'no node'} have it "
                        f"durable; voters: {' or '.join(str(v) for v in voter_sets)}")

    # -- roles --------------------------------------------------------------------------------
    def on_leader(self, node: int, term: int, log: LogState) -> None:
        other = self.leaders.setdefault(term, node)
        if other != node:
            raise Violation(f"election safety: {other:x} and {node:x} both lead term {term}")

    def check_completeness(self, node: int, term: int, log: LogState) -> None:
        """A new leader of `term` holds every entry committed in an earlier term (§5.4)."""
        base = log.snap_index
        if base and base in self.committed and self.committed[base][0] != log.snap.term:
            raise Violation(f"leader {node:x} snapshot {log.snap.term}/{base} is not the committed "
                            f"entry {self.committed[base][0]}/{base}")
        for index, (ent_term, commit_term) in self.committed.items():
            if commit_term < term and index > base and log.term_at(index) != ent_term:
                raise Violation(f"leader completeness: leader {node:x} of term {term} lacks "
                                f"committed {ent_term}/{index} (has term {log.term_at(index)})")

    # -- applying -----------------------------------------------------------------------------
    def on_apply(self, node: int, entry: Entry, commit: int) -> None:
        """`node` applies `entry`, its core having reported `commit`. Not "within the
        node's persisted commit or written log": an edge may apply a committed entry
        before writing it (it is durable on a majority); what counts is that it was
        committed, so every node applies the same entry at that index."""
        index = entry.index
        if index > commit:
            raise Violation(f"node {node:x} applies {entry.term}/{index} beyond the commit "
                            f"{commit} its core reported")
        known = self.committed.get(index)
        if known is None or known[0] != entry.term:
            raise Violation(f"node {node:x} applies {entry.term}/{index}, which is not the "
                            f"committed entry there ({known and known[0]}/{index})")
        if self.entries.get((index, entry.term), (None,))[0] != entry.data:
            raise Violation(f"node {node:x} applies {entry.term}/{index} {entry.data!r}, which "
                            "is not the data of that entry as written")
        if index <= len(self.applied):
            first = self.applied[index - 1]
            if (first.term, first.data) != (entry.term, entry.data):
                raise Violation(f"state machine safety: node {node:x} applies {entry.term}/{index} "
                                f"{entry.data!r}; {first.term}/{index} {first.data!r} was applied "
                                "before")
            return
        if index != len(self.applied) + 1:  # pragma: no cover - the node checks contiguity
            raise Violation(f"node {node:x} applies {index} past the end {len(self.applied)}")
        self.applied.append(entry)
        if entry.data:
            self.payloads.append(entry.data)
        self.payload_count.append(len(self.payloads))
