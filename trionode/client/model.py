"""Replies as frozen values, and the parsing of etcd's JSON into them.

Parsing keeps what the server said apart from what it left out (v2-spec §1.7): a file
always has "value" (maybe ""), a directory never does, so `value` is None only when the
JSON had no "value"; likewise `nodes` is None when the JSON had no "nodes" (a dir listed
without recursion, an empty dir) and () only for an explicit empty list. `expiration` stays
the server's RFC 3339 string so that it can be printed back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import EMPTY_BODY, INVALID_JSON, ClientError, HTTPStatusError, etcd_error

__all__ = [
    "Node", "Response", "Member", "RequestInfo", "Resync",
    "parse_keys_reply", "parse_error", "parse_member", "parse_members", "parse_json",
]


@dataclass(frozen=True, slots=True)
class Node:
    key: str | None            # None for the root node (etcd 3.4 omits "key" there)
    value: str | None          # None when the JSON had no "value" (directories)
    dir: bool = False
    nodes: tuple[Node, ...] | None = None      # None when the JSON had no "nodes"
    created_index: int = 0
    modified_index: int = 0
    expiration: str | None = None              # raw RFC 3339, as the server sent it
    ttl: int | None = None


@dataclass(frozen=True, slots=True)
class Response:
    action: str
    node: Node | None          # None only for a noValueOnSuccess reply ({"action":"set"})
    prev_node: Node | None
    etcd_index: int            # X-Etcd-Index (0 if absent)
    raft_index: int | None     # X-Raft-Index, None if absent
    raft_term: int | None      # X-Raft-Term, None if absent


@dataclass(frozen=True, slots=True)
class Member:
    id: str                    # hex, as /v2/members gives it
    name: str                  # "" for a member that has not started yet
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the client is about to send (etcdctl --debug's "cURL Command:")."""
    method: str
    url: str                   # full URL incl. query, exactly as sent
    body: bytes | None         # None when the request has no body


@dataclass(frozen=True, slots=True)
class Resync:
    """Yielded by Client.watch after a 401: the history was cleared, the key re-read."""
    index: int                 # the watch continues from index + 1
    current: Response | None   # a fresh GET of the watched key; None if it does not exist


def parse_json(status: int, body: bytes) -> object:
    """The JSON document in `body`, or HTTPStatusError with the Go client's wording."""
    try:
        return json.loads(body)
    except ValueError:
        raise HTTPStatusError(status, body, INVALID_JSON) from None


def _int(obj: Mapping, name: str) -> int:
    value = obj.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is not an integer: {value!r}")
    return value


def _str(obj: Mapping, name: str, default: str | None = None) -> str | None:
    value = obj.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} is not a string: {value!r}")
    return value


def _node(obj: object) -> Node | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise ValueError(f"a node is not an object: {obj!r}")
    children = obj.get("nodes")
    if children is not None and not isinstance(children, list):
        raise ValueError(f"nodes is not a list: {children!r}")
    ttl = obj.get("ttl")
    return Node(
        key=_str(obj, "key"),
        value=_str(obj, "value"),
        dir=obj.get("dir") is True,
        nodes=None if children is None else tuple(_node(c) for c in children),
        created_index=_int(obj, "createdIndex"),
        modified_index=_int(obj, "modifiedIndex"),
        expiration=_str(obj, "expiration"),
        ttl=None if ttl is None else _int(obj, "ttl"),
    )


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None or raw == "":
        return None
    return int(raw)


def parse_keys_reply(status: int, headers: Mapping[str, str], body: bytes) -> Response:
    """A /v2/keys reply -> Response (2xx) or the EtcdError it carries (anything else).

    `headers` is keyed by lower-case name. Mirrors the Go client's unmarshalHTTPResponse:
    an empty 2xx body is an error of its own (a watch caller retries on it), a non-2xx body
    that is no JSON object is "invalid json".
    """
    if status not in (200, 201):
        raise parse_error(status, body)
    if not body:
        raise HTTPStatusError(status, body, EMPTY_BODY)
    doc = parse_json(status, body)
    try:
        if not isinstance(doc, Mapping):
            raise ValueError("the reply is not a JSON object")
        return Response(
            action=_str(doc, "action", ""),
            node=_node(doc.get("node")),
            prev_node=_node(doc.get("prevNode")),
            etcd_index=_header_int(headers, "x-etcd-index") or 0,
            raft_index=_header_int(headers, "x-raft-index"),
            raft_term=_header_int(headers, "x-raft-term"),
        )
    except ValueError:
        raise HTTPStatusError(status, body, INVALID_JSON) from None


def parse_error(status: int, body: bytes) -> ClientError:
    """The EtcdError an error body carries (fields absent = zero values, as Go decodes)."""
    try:
        doc = json.loads(body)
        if doc is None:              # Go decodes `null` into a zero Error
            doc = {}
        if not isinstance(doc, Mapping):
            raise ValueError("the error is not a JSON object")
        return etcd_error(_int(doc, "errorCode"), _str(doc, "message", ""),
                          _str(doc, "cause", ""), _int(doc, "index"), status)
    except ValueError:
        return HTTPStatusError(status, body, INVALID_JSON)


def parse_member(obj: object) -> Member:
    """One member object of /v2/members (ValueError when it is not one)."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"a member is not an object: {obj!r}")

    def urls(name: str) -> tuple[str, ...]:
        value = obj.get(name) or []
        if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
            raise ValueError(f"{name} is not a list of strings: {value!r}")
        return tuple(value)

    return Member(id=_str(obj, "id", ""), name=_str(obj, "name", ""),
                  peer_urls=urls("peerURLs"), client_urls=urls("clientURLs"))


def parse_members(status: int, body: bytes) -> list[Member]:
    """GET /v2/members -> members, in the server's order."""
    doc = parse_json(status, body)
    try:
        if not isinstance(doc, Mapping):
            raise ValueError("the reply is not a JSON object")
        return [parse_member(m) for m in doc.get("members") or []]
    except ValueError:
        raise HTTPStatusError(status, body, INVALID_JSON) from None
