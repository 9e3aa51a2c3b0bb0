"""One stable line of text per Raft object, shared by logs and transcripts (STYLE 13).

Member ids print in hex like Message.describe(); indexes and terms in decimal; a run of
entries as term/index pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .messages import Entry, HardState, Snapshot

if TYPE_CHECKING:
    from .ready import Ready, Status

__all__ = ["entries", "hard_state", "snapshot", "ready", "status"]


def entries(items: Iterable[Entry]) -> str:
    return "[" + " ".join(f"{e.term}/{e.index}" for e in items) + "]"


def hard_state(hs: HardState) -> str:
    return f"term={hs.term} vote={hs.vote:x} commit={hs.commit}"


def snapshot(snap: Snapshot) -> str:
    return f"{snap.term}/{snap.index}"


def ready(rd: Ready) -> str:
    parts = ["Ready"]
    if rd.soft_state is not None:
        parts.append(f"role={rd.soft_state.role.value} leader={rd.soft_state.leader:x}")
    if rd.hard_state is not None:
        parts.append("hs{" + hard_state(rd.hard_state) + "}")
    if rd.snapshot is not None:
        parts.append("snap=" + snapshot(rd.snapshot))
    if rd.entries:
        parts.append("entries=" + entries(rd.entries))
    if rd.committed:
        parts.append("committed=" + entries(rd.committed))
    if rd.read_states:
        parts.append("reads=[" + " ".join(f"{r.ctx.hex()}@{r.index}" for r in rd.read_states) + "]")
    if rd.messages:
        parts.append(f"msgs={len(rd.messages)}")
    if rd.must_sync:
        parts.append("sync")
    return " ".join(parts)


def status(st: Status) -> str:
    parts = [f"{st.id:x} {st.role.value} term={st.term} leader={st.leader:x}",
             f"commit={st.commit} applied={st.applied}"]
    if st.lead_transferee:
        parts.append(f"transferee={st.lead_transferee:x}")
    if st.learners:  # the voters show in the progress; learners are the news
        parts.append("learners=" + ",".join(f"{p:x}" for p in st.learners))
    for peer in sorted(st.progress):
        pr = st.progress[peer]
        parts.append(f"{peer:x}:{pr.state.value} match={pr.match} next={pr.next}")
    return " ".join(parts)
