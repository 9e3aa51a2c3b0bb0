"""The peer edge: one listener for inbound connections, one sender task per peer (trio).
Moves raft Messages as wire frames over net sockets; imports raft, wire, net and the Logger
Protocol, never server, http or node (what it delivers to comes in as callables)."""

from .limits import PeerLimits
from .stats import LatencyStats, PeerStats
from .transport import PeerTransport

__all__ = ["LatencyStats", "PeerLimits", "PeerStats", "PeerTransport"]
