"""What etcdctl prints for a keys response, as text. Pure.

`response_text` is etcdctl's printResponseKey: simple, extended (rfc2822-like) and json,
plus our documented superset: extended also shows the Etcd-Index / Raft-Index / Raft-Term
lines of the 0.4 tutorial right after `Index:`.

json is Go's encoding/json of the Go client's Response and Node structs: fields in struct
order, "dir" and "expiration"/"ttl" left out when empty, "value" always there ("" for a
directory), "nodes" null when the reply had none, "key" "" for the root, and Go's string
escaping (trionode.jsontext.quote).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..client import Node, Response
from ..gocompat.jsontext import quote

__all__ = ["Printed", "response_text", "json_response", "json_node", "ls_text"]


@dataclass(frozen=True, slots=True)
class Printed:
    """What one print writes to stdout and to stderr."""
    out: str = ""
    err: str = ""


def _key(node: Node) -> str:
    return node.key if node.key is not None else ""


def _value(node: Node | None) -> str:
    return node.value if node is not None and node.value is not None else ""


def json_node(node: Node | None) -> str:
    """One client Node as Go marshals it (null for a missing node)."""
    if node is None:
        return "null"
    parts = [f'"key":{quote(_key(node))}']
    if node.dir:
        parts.append('"dir":true')
    parts.append(f'"value":{quote(_value(node))}')
    children = "null" if node.nodes is None else "[" + ",".join(map(json_node, node.nodes)) + "]"
    parts.append(f'"nodes":{children}')
    parts.append(f'"createdIndex":{node.created_index}')
    parts.append(f'"modifiedIndex":{node.modified_index}')
    if node.expiration is not None:
        parts.append(f'"expiration":{quote(node.expiration)}')
    if node.ttl:
        parts.append(f'"ttl":{node.ttl}')
    return "{" + ",".join(parts) + "}"


def json_response(resp: Response) -> str:
    """The Go client's Response marshalled: action, node, prevNode (Index is not in JSON)."""
    return (f'{{"action":{quote(resp.action)},"node":{json_node(resp.node)},'
            f'"prevNode":{json_node(resp.prev_node)}}}')


def _extended(resp: Response) -> str:
    node = resp.node
    lines = [f"Key: {_key(node)}",
             f"Created-Index: {node.created_index}",
             f"Modified-Index: {node.modified_index}"]
    if resp.prev_node is not None:
        lines.append(f"PrevNode.Value: {_value(resp.prev_node)}")
    lines.append(f"TTL: {node.ttl or 0}")
    lines.append(f"Index: {resp.etcd_index}")
    # The superset: the 0.4 tutorial's header lines (Etcd-Index is Index again).
    lines.append(f"Etcd-Index: {resp.etcd_index}")
    if resp.raft_index is not None:
        lines.append(f"Raft-Index: {resp.raft_index}")
    if resp.raft_term is not None:
        lines.append(f"Raft-Term: {resp.raft_term}")
    if resp.action != "delete":
        lines += ["", _value(node)]
    return "\n".join(lines) + "\n"


def response_text(resp: Response, output: str) -> Printed:
    """etcdctl's printResponseKey for one response in the given -o format."""
    if output == "simple":
        if resp.action != "delete":
            return Printed(_value(resp.node) + "\n")
        return Printed(f"PrevNode.Value: {_value(resp.prev_node)}\n")
    if output == "extended":
        return Printed(_extended(resp))
    if output == "json":
        return Printed(json_response(resp) + "\n")
    return Printed(err=f"Unsupported output format: {output}\n")


def _ls_lines(node: Node, slash: bool, lines: list[str]) -> None:
    lines.append(_key(node) + ("/" if node.dir and slash else ""))
    for child in node.nodes or ():
        _ls_lines(child, slash, lines)


def ls_text(resp: Response, slash: bool) -> str:
    """`ls` in simple mode: a file lists itself, a dir its children (depth first)."""
    lines: list[str] = []
    if not resp.node.dir:
        lines.append(_key(resp.node))
    for child in resp.node.nodes or ():
        _ls_lines(child, slash, lines)
    return "".join(line + "\n" for line in lines)
