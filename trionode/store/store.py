"""The v2 key space: applies replicated commands, answers reads (v2-spec §1, §2, §1.9).

Pure: no clock. A write's time is in its command (absolute expirations; SYNC's cutoff);
a read's time is the caller's `now_ns`, used only to print `ttl`.

Index rule: the store index goes up by exactly one per successful write (each expired
node is one write); a failed write changes nothing but a fail counter, and every error
carries the current index. Rules and quirks follow etcd 3.4's v2store; each is noted
where it is implemented.

TTLs live in a heap of (expiration, path, seq, node) with lazy deletion: an entry is live
while its node is still the one at its path (nodes are replaced, never edited: tree.py).
The heap is rebuilt when it holds more than twice the live entries, so stale entries
cannot pile up.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from ..v2.errors import ErrorCode, V2Error
from . import stats as st
from .commands import Command, Op
from .event import Event, EventAction
from .history import History
from .render import node_json
from .snapshot import dump_tree, load_tree
from .tree import MIN_EXPIRATION, TreeNode, descendant, ensure_dir, iter_nodes, lookup
from .watch import Watcher, WatcherHub

__all__ = ["Store"]

_HEAP_FLOOR = 1024

# op -> (success counter, fail counter)
_COUNTERS = {
    Op.SET: (st.SETS_OK, st.SETS_FAIL),
    Op.CREATE: (st.CREATE_OK, st.CREATE_FAIL),
    Op.UPDATE: (st.UPDATE_OK, st.UPDATE_FAIL),
    Op.CAS: (st.CAS_OK, st.CAS_FAIL),
    Op.DELETE: (st.DELETE_OK, st.DELETE_FAIL),
    Op.CAD: (st.CAD_OK, st.CAD_FAIL),
}


class Store:
    def __init__(self, history_size: int = 1000) -> None:
        self._root = TreeNode("/", "", {}, 0, 0, None)
        self._index = 0
        self._heap: list[tuple[int, str, int, TreeNode]] = []
        self._heap_limit = _HEAP_FLOOR
        self._seq = itertools.count()
        self._history = History(history_size)
        self._hub = WatcherHub()
        self._stats = st.StoreStats()
        self._apply: dict[Op, Callable[[Command], list[Event]]] = {
            Op.SET: self._set,
            Op.CREATE: self._create_cmd,
            Op.UPDATE: self._update,
            Op.CAS: self._cas,
            Op.DELETE: self._delete,
            Op.CAD: self._cad,
            Op.SYNC: self._sync,
            Op.NOOP: lambda cmd: [],
        }

    # -- reading --------------------------------------------------------------

    @property
    def index(self) -> int:
        return self._index

    @property
    def stats(self) -> st.StoreStats:
        self._stats.watchers = self._hub.count
        return self._stats

    def get(self, key: str, recursive: bool, sorted: bool, now_ns: int) -> bytes:
        """The GET body (v2-spec §1.4): `{"action":"get","node":...}` + "\\n"."""
        counts = self._stats.counts
        try:
            _, node = self._lookup(key)
        except V2Error:
            counts[st.GETS_FAIL] += 1
            raise
        counts[st.GETS_OK] += 1
        body = node_json(node, now_ns, listing=True, recursive=recursive, sorted_=sorted)
        return ('{"action":"get","node":' + body + "}\n").encode()

    def value_of(self, key: str) -> str | None:
        """A key's value for the server's own use (not a GET: no stats); None if the key is
        missing or a directory."""
        node = descendant(self._root, key)
        return node.value if node is not None and node.children is None else None

    @property
    def next_expiration(self) -> int | None:
        """Earliest expiration of a live node (drops stale heap tops on the way)."""
        heap = self._heap
        while heap:
            entry = heap[0]
            if self._live(entry):
                return entry[0]
            heapq.heappop(heap)
        return None

    # -- watching -------------------------------------------------------------

    def watch(self, key: str, recursive: bool, stream: bool, wait_index: int, wake: Callable[[], None]) -> Watcher:
        """A watcher on `key` (v2-spec §2). When history already holds a matching event
        the watcher comes back with it queued (wake() called) and is not registered, as in
        etcd: even a stream watcher then gets that one event only."""
        since = wait_index or self._index + 1
        found = self._history.scan(key, recursive, since, self._index)
        watcher = Watcher(key, recursive, stream, since, wake)
        if found is not None:
            watcher.events.append(found)
            wake()
        else:
            self._hub.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._hub.remove(watcher)

    def close_watchers(self) -> None:
        """End every watch: their long polls finish (a snapshot replaces this store)."""
        self._hub.close_all()

    # -- writing --------------------------------------------------------------

    def apply(self, cmd: Command) -> list[Event]:
        """Apply one committed command; raises V2Error (index = current index)."""
        counters = _COUNTERS.get(cmd.op)
        try:
            events = self._apply[cmd.op](cmd)
        except V2Error as exc:
            if counters is not None:
                self._stats.counts[counters[1]] += 1
                # etcd's create counts a path-through-a-file failure as a failed set too
                if cmd.op is Op.CREATE and exc.code == 104:
                    self._stats.counts[st.SETS_FAIL] += 1
            raise
        if counters is not None:
            self._stats.counts[counters[0]] += 1
        return events

    def _set(self, cmd: Command) -> list[Event]:
        value = cmd.value
        old = None
        try:
            _, old = self._lookup(cmd.key)
        except V2Error as exc:
            if exc.code != 100 or cmd.refresh:
                raise
        if cmd.refresh and old is not None:
            value = old.value
        return [self._create(cmd.key, cmd.dir, value, cmd.expiration, EventAction.SET, replace=True,
                             refresh=cmd.refresh)]

    def _create_cmd(self, cmd: Command) -> list[Event]:
        return [self._create(cmd.key, cmd.dir, cmd.value, cmd.expiration, EventAction.CREATE,
                             unique=cmd.unique)]

    def _create(
        self,
        key: str,
        dir: bool,
        value: str,
        expiration: int | None,
        action: EventAction,
        *,
        replace: bool = False,
        unique: bool = False,
        refresh: bool = False,
    ) -> Event:
        """etcd's internalCreate: make missing parents, then the node (v2-spec §1.5, §1.6.1)."""
        index = self._index + 1
        if unique:
            key = ("" if key == "/" else key) + f"/{index:020d}"
        if key == "/":
            raise V2Error(ErrorCode.ROOT_READ_ONLY, "/", self._index)
        if expiration is not None and expiration < MIN_EXPIRATION:
            expiration = None
        cut = key.rfind("/")
        parent = ensure_dir(self._root, key[:cut] or "/", index, self._index)
        name = key[cut + 1 :]
        children = parent.children
        assert children is not None
        old = children.get(name)
        if old is not None:
            if not replace:
                raise V2Error(ErrorCode.NODE_EXIST, key, self._index)
            if old.children is not None:
                raise V2Error(ErrorCode.NOT_FILE, key, self._index)
        node = TreeNode(key, "" if dir else value, {} if dir else None, index, index, expiration)
        children[name] = node
        if expiration is not None:
            self._push(node)
        self._index = index
        event = Event(
            action, key, index, index, value=None if dir else value, dir=dir, expiration=expiration, prev=old, refresh=refresh
        )
        self._publish(event)
        return event

    def _update(self, cmd: Command) -> list[Event]:
        """prevExist=true (v2-spec §1.5.4). The dir flag plays no part: an update with
        dir=true and no value blanks a file (GH518) only because the value is empty."""
        key = cmd.key
        if key == "/":
            raise V2Error(ErrorCode.ROOT_READ_ONLY, "/", self._index)
        parent, node = self._lookup(key)
        is_dir = node.children is not None
        if is_dir and cmd.value:
            raise V2Error(ErrorCode.NOT_FILE, key, self._index)
        index = self._index + 1
        value = node.value if cmd.refresh else cmd.value
        if is_dir:
            # etcd answers with a new modifiedIndex but the stored dir keeps its old one
            new = TreeNode(key, "", node.children, node.created, node.modified, cmd.expiration)
        else:
            new = TreeNode(key, value, None, node.created, index, cmd.expiration)
        self._replace(parent, new)
        self._index = index
        event = Event(
            EventAction.UPDATE,
            key,
            index,
            node.created,
            value=None if is_dir else value,
            dir=is_dir,
            expiration=cmd.expiration,
            prev=node,
            refresh=cmd.refresh,
        )
        self._publish(event)
        return [event]

    def _cas(self, cmd: Command) -> list[Event]:
        key = cmd.key
        if key == "/":
            raise V2Error(ErrorCode.ROOT_READ_ONLY, "/", self._index)
        parent, node = self._lookup(key)
        if node.children is not None:
            raise V2Error(ErrorCode.NOT_FILE, key, self._index)
        self._compare(node, cmd)
        index = self._index + 1
        value = node.value if cmd.refresh else cmd.value
        self._replace(parent, TreeNode(key, value, None, node.created, index, cmd.expiration))
        self._index = index
        event = Event(
            EventAction.COMPARE_AND_SWAP,
            key,
            index,
            node.created,
            value=value,
            expiration=cmd.expiration,
            prev=node,
            refresh=cmd.refresh,
        )
        self._publish(event)
        return [event]

    def _delete(self, cmd: Command) -> list[Event]:
        """v2-spec §1.6.4: a dir needs dir=true (or recursive, which implies it), and
        recursive when it has children."""
        key = cmd.key
        if key == "/":
            raise V2Error(ErrorCode.ROOT_READ_ONLY, "/", self._index)
        parent, node = self._lookup(key)
        if node.children is not None:
            if not (cmd.dir or cmd.recursive):
                raise V2Error(ErrorCode.NOT_FILE, key, self._index)
            if node.children and not cmd.recursive:
                raise V2Error(ErrorCode.DIR_NOT_EMPTY, key, self._index)
        return [self._remove(parent, node, EventAction.DELETE)]

    def _cad(self, cmd: Command) -> list[Event]:
        key = cmd.key
        parent, node = self._lookup(key)
        if node.children is not None:
            # etcd quirk: no root check here, and the root's 102 carries no cause
            raise V2Error(ErrorCode.NOT_FILE, "" if key == "/" else key, self._index)
        self._compare(node, cmd)
        return [self._remove(parent, node, EventAction.COMPARE_AND_DELETE)]

    def _sync(self, cmd: Command) -> list[Event]:
        """Expire every node whose expiration <= cutoff, earliest first (ties by key):
        one `expire` write each; a dir takes its subtree with it (v2-spec §1.9)."""
        events = []
        heap = self._heap
        while heap and heap[0][0] <= cmd.cutoff:
            entry = heapq.heappop(heap)
            if not self._live(entry):
                continue
            node = entry[3]
            parent = descendant(self._root, node.path[: node.path.rfind("/")] or "/")
            assert parent is not None
            events.append(self._remove(parent, node, EventAction.EXPIRE, stamp=cmd.cutoff))
            self._stats.counts[st.EXPIRE] += 1
        return events

    # -- helpers ----------------------------------------------------------------

    def _lookup(self, key: str) -> tuple[TreeNode | None, TreeNode]:
        return lookup(self._root, key, self._index)

    def _replace(self, parent: TreeNode | None, new: TreeNode) -> None:
        assert parent is not None and parent.children is not None
        parent.children[new.path[new.path.rfind("/") + 1 :]] = new
        if new.expiration is not None:
            self._push(new)

    def _remove(self, parent: TreeNode | None, node: TreeNode, action: EventAction,
                stamp: int | None = None) -> Event:
        assert parent is not None and parent.children is not None
        del parent.children[node.path[node.path.rfind("/") + 1 :]]
        self._index += 1
        is_dir = node.children is not None
        event = Event(action, node.path, self._index, node.created, dir=is_dir, prev=node, stamp=stamp)
        self._publish(event, removed=node)
        return event

    def _compare(self, node: TreeNode, cmd: Command) -> None:
        """v2-spec §1.5.5 causes: `[prevValue != value]`, `[prevIndex != modified]`, both."""
        value_ok = not cmd.prev_value or node.value == cmd.prev_value
        index_ok = not cmd.prev_index or node.modified == cmd.prev_index
        if value_ok and index_ok:
            return
        if value_ok:
            cause = f"[{cmd.prev_index} != {node.modified}]"
        elif index_ok:
            cause = f"[{cmd.prev_value} != {node.value}]"
        else:
            cause = f"[{cmd.prev_value} != {node.value}] [{cmd.prev_index} != {node.modified}]"
        raise V2Error(ErrorCode.TEST_FAILED, cause, self._index)

    def _publish(self, event: Event, removed: TreeNode | None = None) -> None:
        """Record in history, then wake watchers (refreshes are recorded only)."""
        self._history.add(event)
        hub = self._hub
        if event.refresh or not hub.count:
            return
        if removed is not None:
            hub.notify_removed(event, removed)
        hub.notify(event)

    def _push(self, node: TreeNode) -> None:
        heap = self._heap
        expiration = node.expiration
        assert expiration is not None  # only nodes with a TTL are pushed
        heapq.heappush(heap, (expiration, node.path, next(self._seq), node))
        if len(heap) > self._heap_limit:
            heap[:] = [entry for entry in heap if self._live(entry)]
            heapq.heapify(heap)
            self._heap_limit = max(_HEAP_FLOOR, 2 * len(heap))

    def _live(self, entry: tuple[int, str, int, TreeNode]) -> bool:
        node = entry[3]
        return node.expiration == entry[0] and descendant(self._root, entry[1]) is node

    # -- snapshots --------------------------------------------------------------

    def dump(self) -> bytes:
        """The key space and index (watchers, history and stats are not included)."""
        return dump_tree(self._root, self._index)

    @classmethod
    def load(cls, data: bytes, history_size: int = 1000) -> Store:
        store = cls(history_size)
        store._root, store._index = load_tree(data)
        store._heap = [
            (node.expiration, node.path, next(store._seq), node)
            for node in iter_nodes(store._root)
            if node.expiration is not None
        ]
        heapq.heapify(store._heap)
        store._heap_limit = max(_HEAP_FLOOR, 2 * len(store._heap))
        return store

