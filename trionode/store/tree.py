"""Nodes of the v2 key space and the rules for walking them (v2-spec §1.1, §1.4).

A node is a file (children is None, value is its string) or a directory (children is a
dict name -> TreeNode, in insertion order, value unused ""). Every node knows its full path,
because keys are what every response prints and what the TTL heap orders by.

Invariant: a node object is never changed after it is linked into the tree, except that a
directory's children dict grows and shrinks. Any other change (update, CAS, a TTL change
on a directory) links a fresh node in its place. So an old node is a faithful `prevNode`
snapshot for free, and a TTL heap entry is live exactly while its node is still the one
found at its path.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..v2.errors import ErrorCode, V2Error

__all__ = ["TreeNode", "MIN_EXPIRATION", "lookup", "ensure_dir", "descendant", "subtree_paths", "iter_nodes"]

#: etcd treats an expiration before 2000-01-01T00:00:00Z as "permanent" when a node is
#: created (v2store internalCreate: such times come from JSON zero values).
MIN_EXPIRATION = 946_684_800 * 1_000_000_000


class TreeNode:
    __slots__ = ("path", "value", "children", "created", "modified", "expiration")

    def __init__(
        self,
        path: str,
        value: str,
        children: dict[str, TreeNode] | None,
        created: int,
        modified: int,
        expiration: int | None,
    ) -> None:
        self.path = path
        self.value = value
        self.children = children
        self.created = created
        self.modified = modified
        self.expiration = expiration

    def __repr__(self) -> str:
        kind = "dir" if self.children is not None else repr(self.value)
        return f"TreeNode({self.path} {kind} c={self.created} m={self.modified} exp={self.expiration})"


def subtree_paths(node: TreeNode, limit: int) -> list[str] | None:
    """Paths of `node` and everything under it, or None when there are more than `limit`."""
    out = [node.path]
    stack = [node]
    while stack:
        children = stack.pop().children
        if children:
            for child in children.values():
                out.append(child.path)
                if child.children:
                    stack.append(child)
            if len(out) > limit:
                return None
    return out if len(out) <= limit else None


def descendant(node: TreeNode, path: str) -> TreeNode | None:
    """The node at a clean `path` inside the (possibly detached) subtree rooted at `node`
    (the root included), or None: no error detail, for internal bookkeeping."""
    if path == node.path:
        return node
    start = len(node.path) if node.path == "/" else len(node.path) + 1
    for name in path[start:].split("/"):
        children = node.children
        if children is None:
            return None
        child = children.get(name)
        if child is None:
            return None
        node = child
    return node


def iter_nodes(root: TreeNode) -> Iterator[TreeNode]:
    """Every node, parents before children (depth first, insertion order)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if node.children:
            stack.extend(reversed(node.children.values()))


def lookup(root: TreeNode, key: str, index: int) -> tuple[TreeNode | None, TreeNode]:
    """(parent, node) at `key`. Errors carry `index` (v2-spec §1.4.7): 100 with the first
    missing prefix as cause, or 104 with the path of the file in the way."""
    if key == "/":
        return None, root
    parent = None
    node = root
    for name in key[1:].split("/"):
        children = node.children
        if children is None:
            raise V2Error(ErrorCode.NOT_DIR, node.path, index)
        child = children.get(name)
        if child is None:
            missing = "/" + name if node.path == "/" else node.path + "/" + name
            raise V2Error(ErrorCode.KEY_NOT_FOUND, missing, index)
        parent, node = node, child
    return parent, node


def ensure_dir(root: TreeNode, path: str, new_index: int, index: int) -> TreeNode:
    """The dir at `path`, making missing ones with created = modified = `new_index` (the
    write that makes them, v2-spec §1.4.9). A file on the way -> 104 (with `index`)
    before anything is made."""
    node = root
    if path == "/":
        return node
    names = path[1:].split("/")
    for depth, name in enumerate(names):
        children = node.children
        if children is None:
            raise V2Error(ErrorCode.NOT_DIR, node.path, index)
        child = children.get(name)
        if child is None:
            # everything from here down is new, so nothing below can fail
            for new_name in names[depth:]:
                new_path = "/" + new_name if node.path == "/" else node.path + "/" + new_name
                kids: dict[str, TreeNode] = {}
                child = TreeNode(new_path, "", kids, new_index, new_index, None)
                children[new_name] = child
                node, children = child, kids
            return node
        node = child
    if node.children is None:
        raise V2Error(ErrorCode.NOT_DIR, node.path, index)
    return node
