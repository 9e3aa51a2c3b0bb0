"""Watchers and who gets woken by an event (v2-spec §2.5, §2.7).

Watchers are plain slotted objects filed by the path they watch; there is no task per
watcher, so tens of thousands of idle ones cost a dict entry each. An event for key K
looks up only the paths "/", each ancestor of K, and K (O(depth)); a removed dir also
looks up the paths of the nodes it took with it.

Delivery rules, as etcd's watcherHub:
  * a watcher at K itself always matches (hidden keys included);
  * a recursive watcher at an ancestor A matches unless a segment of K below A starts
    with "_" (live hidden events are not delivered);
  * a watcher at a node that a delete/expire removed matches, with the dir's event;
  * and the event's index must be >= the watcher's `since`.
A one-shot watcher is removed after its first event. A stream watcher stays; when it
already holds STREAM_LIMIT pending events it is closed and removed instead (STYLE 7).
Note that, as in etcd, a stream watcher at a removed path sees that event twice (once
as a removed node, once as the event's own key).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from .event import Event
from .tree import TreeNode, descendant, subtree_paths

__all__ = ["Watcher", "WatcherHub", "STREAM_LIMIT"]

#: etcd's per-watcher channel holds 100 events
STREAM_LIMIT = 100


class Watcher:
    __slots__ = ("key", "recursive", "stream", "since", "events", "closed", "wake", "registered")

    def __init__(self, key: str, recursive: bool, stream: bool, since: int, wake: Callable[[], None]) -> None:
        self.key = key
        self.recursive = recursive
        self.stream = stream
        #: the first index this watcher cares about
        self.since = since
        #: pending events, oldest first; the edge pops them
        self.events: deque[Event] = deque()
        #: True once dropped for falling STREAM_LIMIT events behind
        self.closed = False
        self.wake = wake
        self.registered = False

    def __repr__(self) -> str:
        flags = "".join(f for f, on in (("r", self.recursive), ("s", self.stream), ("x", self.closed)) if on)
        return f"Watcher({self.key} since={self.since} {flags} pending={len(self.events)})"


class WatcherHub:
    __slots__ = ("_by_path", "count")

    def __init__(self) -> None:
        # path -> the watchers there (a dict used as an ordered set: O(1) removal)
        self._by_path: dict[str, dict[Watcher, None]] = {}
        self.count = 0

    def add(self, watcher: Watcher) -> None:
        self._by_path.setdefault(watcher.key, {})[watcher] = None
        watcher.registered = True
        self.count += 1

    def remove(self, watcher: Watcher) -> None:
        if not watcher.registered:
            return
        watcher.registered = False
        self.count -= 1
        group = self._by_path[watcher.key]
        del group[watcher]
        if not group:
            del self._by_path[watcher.key]

    def close_all(self) -> None:
        """End every watch (the store is being replaced by a snapshot): each is woken closed."""
        watchers = [w for group in self._by_path.values() for w in group]
        for watcher in watchers:
            watcher.closed = True
            self.remove(watcher)
            watcher.wake()

    def notify(self, event: Event) -> None:
        """Deliver to watchers at "/", at each ancestor of the event's key, and at the key."""
        by_path = self._by_path
        if not by_path:
            return
        key = event.key
        # A watch path P (an ancestor) is filtered when some "/_" begins at or after the
        # end of P. For "/" the rest of the key is the whole key, hence threshold 0.
        hidden_from = key.rfind("/_")
        group = by_path.get("/")
        if group is not None and key != "/" and hidden_from < 0:
            self._deliver_recursive(group, event)
        pos = key.find("/", 1)
        while pos > 0:
            group = by_path.get(key[:pos])
            if group is not None and hidden_from < pos:
                self._deliver_recursive(group, event)
            pos = key.find("/", pos + 1)
        group = by_path.get(key)
        if group is not None:
            self._deliver_all(group, event)

    def notify_removed(self, event: Event, node: TreeNode) -> None:
        """Deliver `event` to watchers at `node` (detached) or anywhere below it."""
        by_path = self._by_path
        if not by_path:
            return
        paths: list[str] | None
        if node.children is None:
            paths = [node.path] if node.path in by_path else []
        else:
            # Walk the smaller of the removed subtree and the set of watched paths.
            paths = subtree_paths(node, len(by_path))
            if paths is None:
                prefix = node.path + "/"
                paths = [
                    p
                    for p in by_path
                    if (p == node.path or p.startswith(prefix)) and descendant(node, p) is not None
                ]
        for path in paths:
            group = by_path.get(path)
            if group is not None:
                self._deliver_all(group, event)

    def _deliver_recursive(self, group: dict[Watcher, None], event: Event) -> None:
        for watcher in [w for w in group if w.recursive]:
            if watcher.registered and event.index >= watcher.since:
                self._deliver(watcher, event)

    def _deliver_all(self, group: dict[Watcher, None], event: Event) -> None:
        for watcher in list(group):
            # registered: a wake() earlier in this loop may have unwatched it
            if watcher.registered and event.index >= watcher.since:
                self._deliver(watcher, event)

    def _deliver(self, watcher: Watcher, event: Event) -> None:
        if not watcher.stream:
            watcher.events.append(event)
            self.remove(watcher)
        elif len(watcher.events) >= STREAM_LIMIT:
            watcher.closed = True
            self.remove(watcher)
        else:
            watcher.events.append(event)
        watcher.wake()
