"""The Raft consensus core: pure, no I/O, no clock, no global randomness (STYLE §1)."""

from .messages import LOCAL_TYPES, RESPONSE_TYPES, Entry, HardState, Message, MsgType, Snapshot

__all__ = ["Entry", "HardState", "Message", "MsgType", "Snapshot", "LOCAL_TYPES", "RESPONSE_TYPES"]
