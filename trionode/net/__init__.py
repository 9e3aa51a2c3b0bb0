"""Sockets, for the HTTP and peer edges: direct non-blocking I/O on a trio stream (sockio),
opening listeners (listen), TLS contexts and handshakes (tls) and auto-TLS certificates
(autotls). Imports trio, config and storage's file helpers only."""

from .listen import ListenError, bound_urls, listen
from .sockio import DirectSocket
from .streams import stream_io
from .tls import PortTls, TlsError, port_tls

__all__ = ["DirectSocket", "ListenError", "PortTls", "TlsError", "bound_urls", "listen", "port_tls",
           "stream_io"]
