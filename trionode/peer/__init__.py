"""The peer edge: one listener for inbound connections, one sender task per peer (trio)."""

from .limits import PeerLimits
from .stats import LatencyStats, PeerStats
from .transport import PeerTransport

__all__ = ["LatencyStats", "PeerLimits", "PeerStats", "PeerTransport"]
