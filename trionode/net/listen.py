"""Opening the client and peer listeners, and naming what was bound.

An https URL's listener is a TlsListener: its connections arrive as TlsStreams whose
handshake has not happened yet; the server that takes them does it, under a deadline
(tls.handshake).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import trio

from ..config.values import Url
from .tlsstream import TlsListener

__all__ = ["ListenError", "bound_urls", "listen"]

Listener = trio.SocketListener | TlsListener


class ListenError(Exception):
    """A client or peer URL that cannot be listened on (in use, not a local address)."""


async def listen(urls: Iterable[Url], tls: ssl.SSLContext | None = None) -> list[Listener]:
    """A listener per URL (per address of its host); `tls` serves the https ones."""
    listeners: list[Listener] = []
    for url in urls:
        try:
            opened = await trio.open_tcp_listeners(url.port, host=url.host, backlog=1024)
        except OSError as exc:
            raise ListenError(f"cannot listen on {url}: {exc.strerror or exc}") from None
        if url.scheme == "https":
            if tls is None:
                raise ListenError(f"cannot listen on {url}: no TLS certificate for it")
            listeners.extend(TlsListener(listener, tls) for listener in opened)
        else:
            listeners.extend(opened)
    return listeners


def bound_urls(listeners: list[Listener]) -> list[str]:
    """The addresses actually bound (port 0 becomes the OS's choice), for the log."""
    names = []
    for listener in listeners:
        scheme = "https" if isinstance(listener, TlsListener) else "http"
        socket = listener.transport_listener.socket if isinstance(listener, TlsListener) else listener.socket
        host, port = socket.getsockname()[:2]
        names.append(f"{scheme}://{host}:{port}")
    return names
