"""A fast path for the plain request heads that nearly all traffic consists of.

h11 is the parser of record, but it costs about 16 µs a request, a third of a small
GET. Heads made only of the strictest, unambiguous syntax are taken here instead: a
known method, an origin-form target of visible ASCII up to 8 KiB, HTTP/1.1, token
header names, values of visible ASCII with inner spaces, exactly one Host, at most one
Content-Length of digits, and no Transfer-Encoding or Expect. Anything else, however
legal, returns FALLBACK and h11 parses it, so every error reply and every corner of the
grammar stays h11's. tests/unit/test_fasthead.py checks that both agree on every head
this module accepts.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FastHead", "FALLBACK", "NEED_MORE", "parse_head"]

FALLBACK = "fallback"
NEED_MORE = "need-more"

# A target longer than 8 KiB is h11's: the line is matched again on every read until the
# head is complete, so its length must be bounded for that to cost linear time.
_REQUEST_LINE = re.compile(rb"(GET|HEAD|PUT|POST|DELETE|OPTIONS) (/[!-~]{0,8191}) HTTP/1\.1\r\n")
_HEADER = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[!-~](?:[ \t]*[!-~])*)?)[ \t]*\r\n")
_CONTENT_LENGTH_MAX_DIGITS = 18  # well past any body limit; h11 judges longer ones


class FastHead(NamedTuple):
    method: str
    target: str
    #: names lower-case, in arrival order, as h11 gives them
    headers: list[tuple[bytes, bytes]]
    content_length: int
    #: offset of the first body byte in the buffer (from the start of the buffer, not of the head)
    end: int


def parse_head(buf: bytes | bytearray, max_head: int, start: int = 0, scanned: int = 0) -> FastHead | str:
    """The head at `buf[start:]`, or NEED_MORE, or FALLBACK (let h11 decide).

    Offsets in the result count from the start of `buf`, so the caller slices the body out
    of its own buffer without first copying the request to the front. `scanned`: how many
    bytes after `start` an earlier call already searched for the blank line that ends the
    head (it said NEED_MORE); they are not searched again, so a head arriving in many small
    reads costs linear time. Header names and values are bytes even from a bytearray (re
    returns bytes groups).
    """
    line = _REQUEST_LINE.match(buf, start)
    if line is None:
        # A partial first line may still become a plain one; a whole bad one is h11's.
        return NEED_MORE if len(buf) - start < 1024 and buf.find(b"\n", start) < 0 else FALLBACK
    search = line.end() - 2
    if scanned:  # less 3: the blank line may straddle the old end
        search = max(search, start + scanned - 3)
    end = buf.find(b"\r\n\r\n", search)
    if end < 0:
        return NEED_MORE if len(buf) - start < max_head else FALLBACK
    if end + 4 - start > max_head:
        return FALLBACK
    headers: list[tuple[bytes, bytes]] = []
    pos = line.end()
    stop = end + 2
    hosts = lengths = 0
    content_length = 0
    while pos < stop:
        match = _HEADER.match(buf, pos, stop)
        if match is None:
            return FALLBACK
        name = match.group(1).lower()
        value = match.group(2)
        if name == b"host":
            hosts += 1
        elif name == b"content-length":
            lengths += 1
            if not value.isdigit() or len(value) > _CONTENT_LENGTH_MAX_DIGITS:
                return FALLBACK
            content_length = int(value)
        elif name == b"transfer-encoding" or name == b"expect":
            return FALLBACK
        headers.append((name, value))
        pos = match.end()
    if hosts != 1 or lengths > 1:
        return FALLBACK
    return FastHead(line.group(1).decode("ascii"), line.group(2).decode("ascii"), headers,
                    content_length, end + 4)
