"""A logger wrapper that lets one line per (event, peer) through per interval.

A flapping or misconfigured peer fails every backoff period; without a limit it would
write a line each time. Suppressed lines are counted and the count rides on the next
line that passes (suppressed=N), so nothing disappears without a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..telemetry.logger import Logger

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    __slots__ = ("_log", "_clock", "_interval", "_last", "_suppressed")

    def __init__(self, log: Logger, clock: Callable[[], float], interval: float) -> None:
        self._log = log
        self._clock = clock
        self._interval = interval
        self._last: dict[tuple[str, int | None], float] = {}
        self._suppressed: dict[tuple[str, int | None], int] = {}

    def info(self, event: str, peer: int | None = None, **kw: Any) -> None:
        self._emit(self._log.info, event, peer, kw)

    def warning(self, event: str, peer: int | None = None, **kw: Any) -> None:
        self._emit(self._log.warning, event, peer, kw)

    def exception(self, event: str, peer: int | None = None, **kw: Any) -> None:
        """A bug: never suppressed."""
        if peer is not None:
            kw["peer"] = f"{peer:x}"
        self._log.exception(event, **kw)

    def _emit(self, method: Callable[..., Any], event: str, peer: int | None,
              kw: dict[str, Any]) -> None:
        key = (event, peer)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            kw["suppressed"] = suppressed
        if peer is not None:
            kw["peer"] = f"{peer:x}"
        method(event, **kw)
