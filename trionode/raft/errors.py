"""The Raft core's errors: types the edge can tell apart (STYLE principle 6)."""

from __future__ import annotations

__all__ = ["RaftError", "ProposalDropped"]


class RaftError(Exception):
    """Base of every error the Raft core raises on purpose."""


class ProposalDropped(RaftError):
    """The proposal (or read request) was not taken: no leader is known, or a leadership
    transfer is in progress (thesis §3.10). The client may retry, perhaps elsewhere."""
