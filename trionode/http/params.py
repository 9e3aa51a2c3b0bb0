"""Percent-decoding and form parsing exactly as Go's net/url and net/http do it (v2-spec §1.2).

etcd 3.4 calls `r.ParseForm()` and answers any error with 210 `Invalid POST form`, the Go
error text as cause. The rules we mirror (each checked against etcd 3.4.23 / Go 1.19):

* Only POST, PUT and PATCH bodies are read, and only when the media type of
  `Content-Type` is `application/x-www-form-urlencoded` (any letter case, any parameters).
  A Content-Type that does not parse fails the whole form with Go's `mime: ...` text.
* Body values come before query values for the same name; the first value wins.
* Pieces are split on `&` only. A piece holding `;` is an error (`invalid semicolon
  separator in query`); it overrides any escape error of the same string, because Go
  assigns it unconditionally while it keeps only the first escape error.
* An error in the body is reported before any error in the query string.
* `+` means space in forms and queries, never in paths.

Text arrives as str decoded with 'surrogateescape' (bodies as bytes), so any byte survives
decoding and re-encoding; values come back the same way.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from ..v2.errors import ErrorCode, V2Error

__all__ = ["BadEscape", "unescape", "unescape_bytes", "go_quote", "parse_form", "FORM_METHODS"]

FORM_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_SEMICOLON = "invalid semicolon separator in query"
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class BadEscape(ValueError):
    """A '%' not followed by two hex digits; str() is Go's `url.EscapeError` text."""

    def __init__(self, fragment: bytes) -> None:
        super().__init__(f"invalid URL escape {go_quote(fragment)}")


def unescape_bytes(raw: bytes, *, plus_is_space: bool) -> str:
    """Go's url.unescape on bytes: strict about '%', result decoded with surrogateescape."""
    if b"%" in raw:
        bad = _BAD_ESCAPE.search(raw)
        if bad is not None:
            raise BadEscape(raw[bad.start() : bad.start() + 3])
        if plus_is_space:
            raw = raw.replace(b"+", b" ")
        raw = unquote_to_bytes(raw)
    elif plus_is_space:
        raw = raw.replace(b"+", b" ")
    return raw.decode("utf-8", "surrogateescape")


def unescape(text: str, *, plus_is_space: bool) -> str:
    """Go's PathUnescape (plus_is_space=False) or QueryUnescape (True) for a str."""
    if "%" not in text and not (plus_is_space and "+" in text):
        return text
    return unescape_bytes(text.encode("utf-8", "surrogateescape"), plus_is_space=plus_is_space)


def go_quote(raw: bytes) -> str:
    """Go's strconv.Quote of a byte string (only used for short error fragments)."""
    out = ['"']
    for ch in raw.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SHORT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _parse_pairs(raw: bytes, into: dict[str, str]) -> str | None:
    """Add the first value of each name to `into` (existing names kept); return Go's error text."""
    error = None
    semicolon = False
    for piece in raw.split(b"&"):
        if not piece:
            continue
        if b";" in piece:
            semicolon = True
            continue
        name, _, value = piece.partition(b"=")
        try:
            key = unescape_bytes(name, plus_is_space=True)
            text = unescape_bytes(value, plus_is_space=True)
        except BadEscape as exc:
            error = error or str(exc)
            continue
        into.setdefault(key, text)
    return _SEMICOLON if semicolon else error


_FORM_TYPE_BYTES = _FORM_TYPE.encode()


def parse_form(method: str, query: str, content_type: bytes | None, body: bytes) -> dict[str, str]:
    """Go's Request.ParseForm + FormValue: name -> first value; raises V2Error(ErrorCode.INVALID_FORM)."""
    form: dict[str, str] = {}
    if method in FORM_METHODS:
        if content_type == _FORM_TYPE_BYTES:  # what every client sends: skip the parse
            media, error = _FORM_TYPE, None
        else:
            media, error = parse_media_type((content_type or b"application/octet-stream").decode("latin-1"))
        if error is None and media == _FORM_TYPE:
            error = _parse_pairs(body, form)
        if error is not None:
            raise V2Error(ErrorCode.INVALID_FORM, error)
    if query:
        error = _parse_pairs(query.encode("utf-8", "surrogateescape"), form)
        if error is not None:
            raise V2Error(ErrorCode.INVALID_FORM, error)
    return form


# --- Go's mime.ParseMediaType, reduced to what decides "is this a form?" and its errors.

_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')


def _token(text: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and " " < text[end] < "\x7f" and text[end] not in _TSPECIALS:
        end += 1
    return text[:end], text[end:]


def _media_type_error(media: str) -> str | None:
    kind, rest = _token(media)
    if not kind:
        return "mime: no media type"
    if not rest:
        return None
    if not rest.startswith("/"):
        return "mime: expected slash after first token"
    subtype, rest = _token(rest[1:])
    if not subtype:
        return "mime: expected token after slash"
    if rest:
        return "mime: unexpected content after media subtype"
    return None


def _quoted(text: str) -> tuple[str, str] | None:
    """A quoted-string at the start of `text` (after the quote): (value, rest) or None."""
    value = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(value), text[i + 1 :]
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        value.append(ch)
        i += 1
    return None


def _param(text: str) -> tuple[str, str] | None:
    """One `; name=value`: (lower-case name, rest) or None when it does not parse."""
    rest = text.lstrip()
    if not rest.startswith(";"):
        return None
    name, rest = _token(rest[1:].lstrip())
    rest = rest.lstrip()
    if not name or not rest.startswith("="):
        return None
    rest = rest[1:].lstrip()
    if rest.startswith('"'):
        quoted = _quoted(rest[1:])
        return None if quoted is None else (name.lower(), quoted[1])
    value, after = _token(rest)
    return None if not value else (name.lower(), after)


def parse_media_type(header: str) -> tuple[str, str | None]:
    """(lower-case media type, Go's error text or None). Parameter values are not needed."""
    base = header.partition(";")[0]
    media = base.lower().strip()
    error = _media_type_error(media)
    if error is not None:
        return "", error
    text = header[len(base) :]
    seen: set[str] = set()
    while text.strip():
        parsed = _param(text)
        if parsed is None:
            if text.strip() == ";":  # Go ignores one trailing semicolon
                break
            return media, "mime: invalid media parameter"
        name, text = parsed
        if name in seen:
            return "", "mime: duplicate parameter name"
        seen.add(name)
    return media, None
