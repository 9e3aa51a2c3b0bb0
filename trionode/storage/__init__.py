"""Durable storage: the Raft WAL, snapshots and the data dir's identity and lock.

Blocking file I/O throughout: the node runs it in a worker thread, never on the trio loop.
Imports raft (what it stores) and the Logger Protocol; never server, http, peer or node.
"""

from .datadir import DataDir, added_member_id, cluster_id_for, member_id_for
from .records import Entry, HardState, Snapshot
from .storage import Recovered, Storage
from .wal import SEGMENT_BYTES, StorageFailedError

__all__ = [
    "DataDir",
    "Entry",
    "HardState",
    "Recovered",
    "SEGMENT_BYTES",
    "Snapshot",
    "Storage",
    "StorageFailedError",
    "added_member_id",
    "cluster_id_for",
    "member_id_for",
]
