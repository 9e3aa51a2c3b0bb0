"""The bounded event history behind waitIndex (v2-spec §2.4).

A ring of the last `size` events. Every successful write makes exactly one event
(refreshes included), so the kept indexes are contiguous and the event for index i sits
at offset i - oldest: a scan starts there in O(1).
"""

from __future__ import annotations

from ..v2.errors import ErrorCode, V2Error
from .event import Event, EventAction

__all__ = ["History"]


class History:
    __slots__ = ("_ring", "_size", "_head", "_count")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("history size must be at least 1")
        self._ring: list[Event | None] = [None] * size
        self._size = size
        self._head = 0  # slot of the oldest event
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def oldest(self) -> int:
        """Index of the oldest kept event; 0 when empty (as etcd's StartIndex)."""
        # the _count slots from _head hold events; mypy sees only list[Event | None]
        return self._ring[self._head].index if self._count else 0  # type: ignore[union-attr]

    @property
    def newest(self) -> int:
        if not self._count:
            return 0
        # a slot within the count: an event (see oldest)
        return self._ring[(self._head + self._count - 1) % self._size].index  # type: ignore[union-attr]

    def add(self, event: Event) -> None:
        if self._count:
            assert event.index == self.newest + 1, "history indexes must be contiguous"
        if self._count < self._size:
            self._ring[(self._head + self._count) % self._size] = event
            self._count += 1
        else:
            self._ring[self._head] = event
            self._head = (self._head + 1) % self._size

    def scan(self, key: str, recursive: bool, since: int, current: int) -> Event | None:
        """The first kept event at or after `since` that a watcher on `key` would see.

        Raises V2Error 401 when `since` is older than the history; None when it lies
        beyond the newest event (the watcher must wait). Unlike live delivery, the replay
        applies no hidden-key filter (v2-spec §2.5 quirk) and skips refreshes.
        """
        oldest = self.oldest
        if since < oldest:
            raise V2Error(ErrorCode.EVENT_INDEX_CLEARED,
                          f"the requested history has been cleared [{oldest}/{since}]", current)
        if since > self.newest:
            return None
        prefix = key if key.endswith("/") else key + "/"
        ring, size = self._ring, self._size
        for offset in range(since - oldest, self._count):
            event = ring[(self._head + offset) % size]
            assert event is not None
            if event.refresh:
                continue
            if event.key == key or (recursive and event.key.startswith(prefix)):
                return event
            # A removed dir concerns everything that was under it. etcd compares raw
            # prefixes here (so a delete of /foo also matches a watch on /foobar); we
            # keep that, since a client replaying history sees exactly etcd's answer.
            gone = event.action is EventAction.DELETE or event.action is EventAction.EXPIRE
            if gone and event.prev_is_dir and key.startswith(event.key):
                return event
        return None
