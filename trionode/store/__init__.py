"""The pure v2 key space: tree, TTLs, events, watchers, history, stats, snapshots.

No clock, no I/O: writes come in as replicated Commands (expirations already absolute),
reads take the caller's `now_ns` only to print `ttl`. Imports only gocompat and v2;
the server applies to it and the HTTP handlers read it.
"""

from .event import Event, EventAction
from .snapshot import SnapshotError
from .stats import StoreStats
from .store import Store
from .watch import STREAM_LIMIT, Watcher

__all__ = ["Store", "Event", "EventAction", "Watcher", "StoreStats", "SnapshotError", "STREAM_LIMIT"]
