"""Snapshot of the key space: a compact binary pre-order dump (not the API's JSON).

Layout (little endian):
    magic b"TNS1" | u64 store index | root record
    record = u8 flags | u64 createdIndex | u64 modifiedIndex | [i64 expiration]
             | str name | (file: str value) | (dir: u32 child count, then the children)
    str    = u32 length + UTF-8 bytes (surrogateescape: any client bytes round-trip)
flags: 1 = dir, 2 = has expiration. The root's name is "". Children keep their order,
so a loaded store lists (unsorted) exactly as the dumped one. Watchers, history and
stats are not part of it (they are local and reset, as in etcd).
"""

from __future__ import annotations

import struct
from typing import Any

from .tree import TreeNode, iter_nodes

__all__ = ["dump_tree", "load_tree", "SnapshotError"]

MAGIC = b"TNS1"
_DIR, _EXP = 1, 2
_HEAD = struct.Struct("<BQQ")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class SnapshotError(ValueError):
    """Bytes that are not a store snapshot (corruption or a bug, never a client error)."""


def _pack_str(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return _U32.pack(len(raw)) + raw


def dump_tree(root: TreeNode, index: int) -> bytes:
    out = [MAGIC, _U64.pack(index)]
    append = out.append
    for node in iter_nodes(root):
        is_dir = node.children is not None
        flags = (_DIR if is_dir else 0) | (_EXP if node.expiration is not None else 0)
        append(_HEAD.pack(flags, node.created, node.modified))
        if node.expiration is not None:
            append(_I64.pack(node.expiration))
        append(_pack_str(node.path[node.path.rfind("/") + 1 :]))
        if node.children is not None:
            append(_U32.pack(len(node.children)))
        else:
            append(_pack_str(node.value))
    return b"".join(out)


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, data: bytes) -> None:
        self.buf = memoryview(data)
        self.pos = 0

    def take(self, st: struct.Struct) -> tuple[Any, ...]:
        values = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return values

    def text(self) -> str:
        (n,) = self.take(_U32)
        end = self.pos + n
        if end > len(self.buf):
            raise SnapshotError("string runs past the end")
        raw = bytes(self.buf[self.pos : end])
        self.pos = end
        return raw.decode("utf-8", "surrogateescape")


def _record(reader: _Reader, parent_path: str | None) -> tuple[str, TreeNode, int]:
    """One node: (its name, the node, its child count)."""
    flags, created, modified = reader.take(_HEAD)
    expiration = reader.take(_I64)[0] if flags & _EXP else None
    name = reader.text()
    if parent_path is None:
        path = "/"
    elif not name or "/" in name:
        raise SnapshotError(f"bad node name {name!r}")
    else:
        path = parent_path + name if parent_path == "/" else parent_path + "/" + name
    if flags & _DIR:
        (count,) = reader.take(_U32)
        return name, TreeNode(path, "", {}, created, modified, expiration), count
    return name, TreeNode(path, reader.text(), None, created, modified, expiration), 0


def load_tree(data: bytes) -> tuple[TreeNode, int]:
    """(root, store index); raises SnapshotError on anything malformed."""
    if data[:4] != MAGIC:
        raise SnapshotError("not a trionode store snapshot")
    reader = _Reader(data)
    reader.pos = 4
    try:
        (index,) = reader.take(_U64)
        _, root, count = _record(reader, None)
        if root.children is None:
            raise SnapshotError("root is not a directory")
        # dirs still owed children: (its path, its children, how many more)
        pending = [(root.path, root.children, count)]
        while pending:
            path, children, owed = pending.pop()
            if owed == 0:
                continue
            pending.append((path, children, owed - 1))
            name, node, count = _record(reader, path)
            if name in children:
                raise SnapshotError(f"duplicate node {node.path}")
            children[name] = node
            if count:
                assert node.children is not None  # _record gives only dirs a count
                pending.append((node.path, node.children, count))
    except struct.error as exc:
        raise SnapshotError(f"truncated snapshot: {exc}") from None
    if reader.pos != len(data):
        raise SnapshotError(f"{len(data) - reader.pos} trailing bytes")
    return root, index
