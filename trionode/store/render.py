"""JSON text of nodes, byte for byte as etcd 3.4 writes it (v2-spec §0, §1.4, §1.7).

Field order is Go's NodeExtern: key, value, dir, expiration, ttl, nodes, modifiedIndex,
createdIndex; every field is omitted when empty/zero/false, except that a file always has
a value. The root has no key (and its indexes are 0, so omitted too). Text is built by
concatenation: this is the read hot path, and a dict + json.dumps would lose the order
rules and cost more.
"""

from __future__ import annotations

from ..gocompat.jsontext import quote
from ..gocompat.timefmt import rfc3339nano
from .tree import TreeNode

__all__ = ["ttl_seconds", "expiry_fields", "node_json", "NS"]

NS = 1_000_000_000


def ttl_seconds(expiration: int, now_ns: int) -> int:
    """etcd's node.expirationAndTTL: ceil for time left, truncation toward zero once past.

    Go divides durations truncating toward zero and then adds one only for a positive
    remainder, so 1.5 s left -> 2, 0.3 s overdue -> 0 (omitted), 1.5 s overdue -> -1
    (printed: omitempty only drops 0). -((-d) // NS) is exactly that for both signs.
    """
    return -((now_ns - expiration) // NS)


def expiry_fields(expiration: int, now_ns: int) -> str:
    """`,"expiration":...` plus `,"ttl":n` unless n is 0."""
    ttl = ttl_seconds(expiration, now_ns)
    text = ',"expiration":"' + rfc3339nano(expiration) + '"'
    return text + f',"ttl":{ttl}' if ttl else text


def _head(node: TreeNode, now_ns: int) -> str:
    """A node's JSON up to (not including) `nodes`."""
    if node.children is None:
        text = '{"key":' + quote(node.path) + ',"value":' + quote(node.value)
    elif node.path == "/":
        text = '{"dir":true'
    else:
        text = '{"key":' + quote(node.path) + ',"dir":true'
    if node.expiration is not None:
        text += expiry_fields(node.expiration, now_ns)
    return text


def _tail(node: TreeNode) -> str:
    """The indexes and the closing brace (0 only happens for the root: omitted)."""
    if node.modified and node.created:
        return f',"modifiedIndex":{node.modified},"createdIndex":{node.created}}}'
    text = f',"modifiedIndex":{node.modified}' if node.modified else ""
    return text + (f',"createdIndex":{node.created}}}' if node.created else "}")


def _visible(node: TreeNode, sorted_: bool) -> list[TreeNode]:
    """Children shown in a listing: hidden names (leading '_') are left out (§1.4.6)."""
    children = node.children
    if not children:
        return []
    names = [name for name in children if name[0] != "_"]
    if sorted_:
        # Go sorts by key bytes. Siblings share the parent prefix, so names decide; str
        # order equals UTF-8 byte order except for surrogate-escaped bytes, hence bytes.
        if all(name.isascii() for name in names):
            names.sort()
        else:
            names.sort(key=lambda name: name.encode("utf-8", "surrogateescape"))
    return [children[name] for name in names]


def node_json(node: TreeNode, now_ns: int, *, listing: bool = False, recursive: bool = False, sorted_: bool = False) -> str:
    """JSON of one node. `listing`: a dir shows its children (as GET does for the dir
    asked for); `recursive`: child dirs show theirs too, at every depth.

    Iterative, so a very deep tree cannot exhaust the Python stack.
    """
    head = _head(node, now_ns)
    if not listing or node.children is None:
        return head + _tail(node)
    kids = _visible(node, sorted_)
    if not kids:
        return head + _tail(node)
    out = [head, ',"nodes":[']
    # frames: (dir, its visible children, position of the next child)
    stack: list[tuple[TreeNode, list[TreeNode], int]] = [(node, kids, 0)]
    while stack:
        parent, children, pos = stack[-1]
        if pos == len(children):
            out.append("]" + _tail(parent))
            stack.pop()
            continue
        stack[-1] = (parent, children, pos + 1)
        child = children[pos]
        if pos:
            out.append(",")
        out.append(_head(child, now_ns))
        if recursive and child.children:
            grandkids = _visible(child, sorted_)
            if grandkids:
                out.append(',"nodes":[')
                stack.append((child, grandkids, 0))
                continue
        out.append(_tail(child))
    return "".join(out)
