"""Sockets, for the HTTP and peer edges: direct non-blocking I/O on a trio stream (sockio)
and opening listeners (listen). Imports trio and config only."""

from .listen import ListenError, bound_urls, listen
from .sockio import DirectSocket

__all__ = ["DirectSocket", "ListenError", "bound_urls", "listen"]
