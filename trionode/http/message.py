"""What the HTTP edge hands to the app and what the app hands back (see contracts.md).

The server owns framing: it adds Date, the CORS headers, Content-Length (or chunked
Transfer-Encoding for a stream), answers HEAD without the body and keeps connections alive.
The app sets only its own headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NamedTuple

__all__ = ["Request", "HttpResponse"]


class Request(NamedTuple):
    """One complete request: head and the whole body, already read.

    `target` is the raw request target; `raw_path` and `query` are its two halves (the
    absolute form `http://host/p` is reduced to `/p`). `path` is `raw_path` percent-decoded
    with '+' kept, non-UTF-8 bytes held as surrogates ('surrogateescape'). Header names
    are lower-case bytes, in arrival order, repeats kept.
    """

    method: str
    target: str
    path: str
    raw_path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        """The first value of header `name` (any case), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


class HttpResponse(NamedTuple):
    """Status, the app's own headers and a body, or a stream of chunks.

    With `stream` set, `body` is ignored: the head goes out at once with chunked framing
    and each item becomes one chunk as soon as it is yielded. If the client goes away the
    server stops iterating and closes the iterator (its `finally` runs).
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
