"""Go's text forms of time, as etcd prints them in /v2/stats."""

from __future__ import annotations

from ..store.render import rfc3339nano

__all__ = ["go_duration", "rfc3339nano"]


def _fraction(value: int, digits: int) -> str:
    """`value` (< 10**digits) as a decimal fraction with trailing zeros removed."""
    text = f"{value:0{digits}d}".rstrip("0")
    return f".{text}" if text else ""


def go_duration(ns: int) -> str:
    """time.Duration.String(): 0s, 850ns, 1.5µs, 23.060877ms, 1h19m11.469872568s."""
    if ns < 0:
        return "-" + go_duration(-ns)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns // 1_000}{_fraction(ns % 1_000, 3)}µs"
    if ns < 1_000_000_000:
        return f"{ns // 1_000_000}{_fraction(ns % 1_000_000, 6)}ms"
    seconds, frac = divmod(ns, 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}{_fraction(frac, 9)}s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text
