"""The limits of an HTTP port: every buffer and wait is bounded (STYLE §7)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HttpLimits"]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Limits of the client port; every buffer and wait is bounded (STYLE §7).

    max_header_bytes: Go's MaxHeaderBytes default (1 MiB) plus the 4096 bytes of slack Go
      allows (checked against etcd 3.4); larger -> 431. max_body_bytes: a 1.5 MiB value
      (etcd's request limit) can triple when percent-encoded in a form, so 5 MiB; -> 413.
    """

    max_header_bytes: int = (1 << 20) + 4096
    max_body_bytes: int = 5 << 20
    idle_timeout: float = 300.0
    request_timeout: float = 30.0
    write_timeout: float = 30.0
    linger_timeout: float = 1.0  # how long a closing connection drains the client's bytes
    max_pending_bytes: int = 1 << 20  # pipelined bytes kept while a stream is running
    read_size: int = 1 << 16
