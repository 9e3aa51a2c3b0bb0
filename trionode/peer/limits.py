"""Every bound and timeout of the peer transport in one frozen, validated object (STYLE §7, §9)."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["PeerLimits"]


@dataclass(frozen=True, slots=True)
class PeerLimits:
    """Defaults sized for a LAN cluster with a 100 ms heartbeat.

    max_outbox_*: what may wait for one peer; Raft's in-flight window (256 APPs) plus
      heartbeats fits with room to spare. max_frame: the decoder's cap on one frame;
      chunk_size: snapshot chunk frames stay well below it. max_write_bytes: frames are
      joined into writes of about this size, each with its own write_timeout, so a large
      snapshot gets time in proportion to its size while a stuck peer is found quickly.
    handshake_timeout: an inbound connection must deliver its Hello within it.
    backoff_*: reconnect delays d double from min to max; each pause is in [d/2, d) (>= min).
    log_interval: at most one line per event and peer per interval.
    max_inbound: open inbound connections (one live per peer; the rest are handshaking).
    max_inbound_http: open HTTP connections on the peer port (admin API, joining members),
      counted apart so that HTTP clients cannot use up the peers' slots.
    leave_grace: how long a peer removed from the cluster still gets what was queued for
      it and may still send: the last words of a membership change (a removed leader's
      TIMEOUT_NOW to its successor, the commit index a removed follower needs to learn of
      its removal) cross while each side applies the change at its own moment.
    """

    max_outbox_messages: int = 4096
    max_outbox_bytes: int = 64 << 20
    max_frame: int = 16 << 20
    chunk_size: int = 1 << 20
    max_write_bytes: int = 1 << 20
    read_size: int = 1 << 16
    connect_timeout: float = 3.0
    handshake_timeout: float = 5.0
    write_timeout: float = 5.0
    backoff_min: float = 0.05
    backoff_max: float = 2.0
    log_interval: float = 10.0
    max_inbound: int = 64
    max_inbound_http: int = 64
    leave_grace: float = 2.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"PeerLimits.{field.name} must be a positive number: {value!r}")
        if self.chunk_size >= self.max_frame:
            raise ValueError("PeerLimits.chunk_size must be below max_frame")
        if self.backoff_min > self.backoff_max:
            raise ValueError("PeerLimits.backoff_min must not exceed backoff_max")
