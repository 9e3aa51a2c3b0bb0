"""Go's text forms of time, as etcd prints them (expirations, /v2/stats). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["go_duration", "rfc3339nano"]

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no '.' if 0."""
    secs, frac = divmod(ns, _NS)
    t = _EPOCH + timedelta(seconds=secs)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


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
