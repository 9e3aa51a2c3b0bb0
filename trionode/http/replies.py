"""The bare replies Go's HTTP server writes for requests it will not serve (checked
against etcd 3.4): plain text, `Connection: close`, no Date; the connection ends."""

from __future__ import annotations

import h11

__all__ = ["BAD_REQUEST", "CONTINUE", "INTERNAL", "TIMEOUT", "TOO_LARGE_BODY", "TOO_LARGE_HEAD",
           "protocol_reply"]


def _go_error(status_line: str, body: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status_line}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Connection: close\r\n\r\n{body or status_line}"
    ).encode()


BAD_REQUEST = _go_error("400 Bad Request")
NO_HOST = _go_error("400 Bad Request: missing required Host header")
TOO_LARGE_HEAD = _go_error("431 Request Header Fields Too Large")
BAD_TRANSFER_ENCODING = _go_error("501 Not Implemented", "Unsupported transfer encoding")
TOO_LARGE_BODY = _go_error("413 Request Entity Too Large")
TIMEOUT = _go_error("408 Request Timeout")
INTERNAL = _go_error("500 Internal Server Error")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def protocol_reply(exc: h11.RemoteProtocolError) -> bytes:
    """Go's answer to what h11 refused to parse."""
    by_hint = {431: TOO_LARGE_HEAD, 501: BAD_TRANSFER_ENCODING}.get(exc.error_status_hint)
    return by_hint or (NO_HOST if "Host" in str(exc) else BAD_REQUEST)
