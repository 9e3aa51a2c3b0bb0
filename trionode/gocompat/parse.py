"""Go's text syntaxes that etcd and etcdctl read and write. Pure.

Both are Go programs: etcd reads the keys API's booleans with strconv.ParseBool; etcdctl
reads its flag values with strconv.ParseBool/ParseInt and time.ParseDuration, its
endpoints with net/url, and prints with %q (strconv.Quote). Matching them means accepting
exactly what those accept.
"""

from __future__ import annotations

import re

__all__ = ["GoSyntaxError", "parse_bool", "parse_int", "parse_duration", "quote", "endpoint_url"]


class GoSyntaxError(ValueError):
    """A value Go would refuse; str() is the Go error text."""


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise GoSyntaxError("parse error")


_INT64 = 1 << 63
# Go integer literals (underscores only between digits or after a base prefix).
_INT = re.compile(r"(?i)(0x(_?[0-9a-f])+|0o(_?[0-7])+|0b(_?[01])+|0(_?[0-7])*|[1-9](_?[0-9])*)")


def parse_int(text: str) -> int:
    """strconv.ParseInt(text, 0, 64): sign, then 0x / 0o / 0b / leading-0 octal prefixes."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not _INT.fullmatch(body):
        raise GoSyntaxError("parse error")
    digits = body.replace("_", "")
    if digits[:2].lower() in ("0x", "0o", "0b"):
        value = int(digits, 0)
    elif digits[:1] == "0":
        value = int(digits, 8)
    else:
        value = int(digits)
    value = -value if text.startswith("-") else value
    if not -_INT64 <= value < _INT64:
        raise GoSyntaxError("value out of range")
    return value


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
          "m": 60.0, "h": 3600.0}
_TERM = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")


def parse_duration(text: str) -> float:
    """time.ParseDuration, in seconds: "2s", "1.5h", "1m30s", "500ms", "-1s", "0"."""
    rest = text[1:] if text[:1] in ("+", "-") else text
    if rest == "0":
        return 0.0
    if not rest:
        raise GoSyntaxError(f'time: invalid duration "{text}"')
    total = 0.0
    while rest:
        match = _TERM.match(rest)
        assert match is not None  # both groups of _TERM may be empty: it matches any text
        number, unit = match.group(1), match.group(2)
        if number in ("", "."):
            raise GoSyntaxError(f'time: invalid duration "{text}"')
        if not unit:
            raise GoSyntaxError(f'time: missing unit in duration "{text}"')
        if unit not in _UNITS:
            raise GoSyntaxError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += float(number) * _UNITS[unit]
        rest = rest[match.end():]
    return -total if text.startswith("-") else total


_SHORT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
          "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def _quote_char(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:             # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code & 0xFF:02x}" if code >= 0xDC80 else "\\ufffd"
    if ch.isprintable() or ch == " ":
        return ch
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quote(text: str) -> str:
    """strconv.Quote (what fmt's %q prints): printable runes kept, the rest escaped."""
    return '"' + "".join(_quote_char(ch) for ch in text) + '"'


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def endpoint_url(text: str) -> str:
    """One endpoint as etcdctl reads it: url.Parse, then "http" when it has no scheme.

    Go's parser finds no scheme in "127.0.0.1:2379" (a digit first) and then refuses it
    because its first path segment has a colon; "host:2379" parses with scheme "host".
    """
    match = _SCHEME.match(text)
    if match:
        return match.group(0).lower() + text[match.end():]
    if text.startswith(":"):
        raise GoSyntaxError(f'parse "{text}": missing protocol scheme')
    if not text.startswith("/") and ":" in text.split("/", 1)[0]:
        raise GoSyntaxError(f'parse "{text}": first path segment in URL cannot contain colon')
    return "http://" + (text[2:] if text.startswith("//") else text)
