"""The only structlog setup (STYLE §14): every line is one line and carries node=.

No structlog.configure(): each call wraps its own logger with an explicit processor chain, so
several nodes in one process (tests, simulations) each get their own node= and level and
never share global state.

    text: timestamp=2026-11-25T09:36:10.691327Z level=info event=started node=n1 port=2379
    json: {"timestamp": "...", "level": "info", "event": "started", "node": "n1", "port": 2379}
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, WrappedLogger

__all__ = ["configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR}
_FIRST = ("timestamp", "level", "event", "node")


def configure_logging(fmt: str, level: str, name: str,
                      stream: TextIO | None = None) -> FilteringBoundLogger:
    """A logger bound with node=`name` writing `fmt` ("text" or "json") lines of `level`
    and above to `stream` (default: sys.stderr as it is now)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}")
    if level not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    renderer = _render_text if fmt == "text" else _render_json
    processors = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _order_keys,
        renderer,
    ]
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream if stream is not None else sys.stderr),
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    return logger.bind(node=name)


def _order_keys(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """timestamp, level, event, node first; then the caller's keys in the order given."""
    head = {key: event.pop(key) for key in _FIRST if key in event}
    return head | event


def _render_json(_: WrappedLogger, __: str, event: EventDict) -> str:
    # default=str: a stray object must never make a log call raise.
    return json.dumps(event, ensure_ascii=False, default=str)


def _render_text(_: WrappedLogger, __: str, event: EventDict) -> str:
    return " ".join(f"{key}={_text_value(value)}" for key, value in event.items())


def _text_value(value: Any) -> str:
    """Bare when unambiguous, else a JSON string: control characters (a traceback's
    newlines included) are escaped, so one event is always one line."""
    text = value if isinstance(value, str) else str(value)
    if text and not any(c.isspace() or c in '"=\\' or not c.isprintable() for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)
