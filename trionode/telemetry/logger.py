"""What every part sees of the log: a Logger Protocol, pure typing, so the cores can take
one (RaftConfig.logger, STYLE §14) without importing structlog. telemetry/log.py makes
the real one; tests pass a recorder that keeps the lines."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Logger"]


class Logger(Protocol):
    """structlog's bound logger, as far as trionode uses it: an event name and key=values."""

    def debug(self, event: str, *args: Any, **kw: Any) -> Any: ...

    def info(self, event: str, *args: Any, **kw: Any) -> Any: ...

    def warning(self, event: str, *args: Any, **kw: Any) -> Any: ...

    def error(self, event: str, *args: Any, **kw: Any) -> Any: ...

    def exception(self, event: str, *args: Any, **kw: Any) -> Any: ...
