"""Errors as types.

EtcdError is what a client sees: etcd's error code, its exact message, the HTTP status
the code maps to (v2-spec §3) and the JSON body etcd 3.4 writes. Anything that is not a
client's fault has a type of its own in the part it comes from (config, storage, wire,
membership, net), so that the edge can decide what it closes.
"""

from __future__ import annotations

from ..gocompat.jsontext import quote

__all__ = ["EtcdError", "MESSAGES"]

# v2-spec §3: the exact strings etcd 3.4 emits.
MESSAGES: dict[int, str] = {
    100: "Key not found",
    101: "Compare failed",
    102: "Not a file",
    103: "Reached the max number of peers in the cluster",
    104: "Not a directory",
    105: "Key already exists",
    106: "The prefix of given key is a keyword in etcd",
    107: "Root is read only",
    108: "Directory not empty",
    109: "Peer address has existed",
    110: "The request requires user authentication",
    200: "Value is Required in POST form",
    201: "PrevValue is Required in POST form",
    202: "The given TTL in POST form is not a number",
    203: "The given index in POST form is not a number",
    204: "Value or TTL is required in POST form",
    205: "The given timeout in POST form is not a number",
    206: "Name is required in POST form",
    207: "Index or value is required",
    208: "Index and value cannot both be specified",
    209: "Invalid field",
    210: "Invalid POST form",
    211: "Value provided on refresh",
    212: "A TTL must be provided on refresh",
    300: "Raft Internal Error",
    301: "During Leader Election",
    400: "watcher is cleared due to etcd recovery",
    401: "The event in requested index is outdated and cleared",
    402: "Standby Internal Error",
    403: "Invalid active size",
    404: "Standby remove delay",
    500: "Client Internal Error",
}

_STATUS = {100: 404, 101: 412, 105: 412, 102: 403, 108: 403, 110: 401, 300: 500, 301: 500}


class EtcdError(Exception):
    """An etcd v2 error: `{"errorCode","message","cause","index"}` plus its HTTP status."""

    __slots__ = ("code", "cause", "index")

    def __init__(self, code: int, cause: str = "", index: int = 0) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown etcd error code {code}")
        super().__init__(code, cause, index)
        self.code = code
        self.cause = cause
        self.index = index

    @property
    def message(self) -> str:
        return MESSAGES[self.code]

    @property
    def status(self) -> int:
        return _STATUS.get(self.code, 400)

    def to_json(self) -> bytes:
        """etcd 3.4's body: compact, cause omitted when empty, trailing newline."""
        cause = f',"cause":{quote(self.cause)}' if self.cause else ""
        text = f'{{"errorCode":{self.code},"message":{quote(self.message)}{cause},"index":{self.index}}}\n'
        return text.encode()

    def __str__(self) -> str:
        return f"{self.code}: {self.message} ({self.cause}) [{self.index}]"
