"""Events: what a write did, as the writer, the watchers and the history see it (v2-spec §1.7).

An event keeps the fields of its `node` (which may differ from any stored node: a delete
shows no value, an update on a dir shows a new modifiedIndex the dir does not keep) and
the old node itself as `prev` (nodes are never changed once linked, see tree.py).

Its JSON is built once and cached: etcd computes an event's `ttl` when it makes the
event, and a write's response is rendered right after apply, so freezing the first
rendering both matches etcd and saves re-rendering for every woken watcher.
"""

from __future__ import annotations

import enum

from ..gocompat.jsontext import quote
from .render import expiry_fields, node_json
from .tree import TreeNode

__all__ = ["Event", "EventAction"]


class EventAction(enum.StrEnum):
    """An event's `action` (v2-spec §1.7), spelled as etcd spells it on the wire."""

    SET = "set"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPIRE = "expire"
    COMPARE_AND_SWAP = "compareAndSwap"
    COMPARE_AND_DELETE = "compareAndDelete"


class Event:
    __slots__ = (
        "action",
        "key",
        "index",
        "value",
        "dir",
        "expiration",
        "created",
        "prev",
        "refresh",
        "stamp",
        "_json",
    )

    def __init__(
        self,
        action: EventAction,
        key: str,
        index: int,
        created: int,
        *,
        value: str | None = None,
        dir: bool = False,
        expiration: int | None = None,
        prev: TreeNode | None = None,
        refresh: bool = False,
        stamp: int | None = None,
    ) -> None:
        self.action = action
        self.key = key
        #: the node's modifiedIndex, which is the store index this event produced
        self.index = index
        self.created = created
        #: None = no "value" field (dirs, deletes)
        self.value = value
        self.dir = dir
        self.expiration = expiration
        self.prev = prev
        #: a TTL refresh: recorded in history but never delivered (v2-spec §1.5.7)
        self.refresh = refresh
        #: when set, ttl is computed at this time instead of the first render's (expire
        #: events: etcd makes them at the sweep's cutoff)
        self.stamp = stamp
        self._json: bytes | None = None

    @property
    def prev_is_dir(self) -> bool:
        return self.prev is not None and self.prev.children is not None

    def render(self, now_ns: int, no_value: bool = False) -> bytes:
        """The event's JSON plus "\\n"; `no_value` -> only the action (noValueOnSuccess)."""
        if no_value:
            return b'{"action":"' + self.action.encode() + b'"}\n'
        if self._json is None:
            self._json = self._build(now_ns if self.stamp is None else self.stamp).encode()
        return self._json

    def _build(self, now_ns: int) -> str:
        text = '{"action":"' + self.action + '","node":{"key":' + quote(self.key)
        if self.value is not None:
            text += ',"value":' + quote(self.value)
        elif self.dir:
            text += ',"dir":true'
        if self.expiration is not None:
            text += expiry_fields(self.expiration, now_ns)
        text += f',"modifiedIndex":{self.index},"createdIndex":{self.created}}}'
        if self.prev is not None:
            text += ',"prevNode":' + node_json(self.prev, now_ns)
        return text + "}\n"

    def describe(self) -> str:
        """One line for logs (STYLE principle 13)."""
        extra = " refresh" if self.refresh else ""
        return f"{self.action} {self.key} index={self.index}{extra}"

    def __repr__(self) -> str:
        return f"Event({self.describe()})"
