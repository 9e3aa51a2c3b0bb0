"""Errors as types.

V2Error is what a client sees: etcd's error code, its exact message, the HTTP status
the code maps to (v2-spec §3) and the JSON body etcd 3.4 writes. Anything that is not a
client's fault has a type of its own in the part it comes from (config, storage, wire,
membership, net), so that the edge can decide what it closes.
"""

from __future__ import annotations

import enum

from ..gocompat.jsontext import quote

__all__ = ["ErrorCode", "MESSAGES", "V2Error"]


class ErrorCode(enum.IntEnum):
    """etcd v2's error codes, named as etcd's Go code names them (v2error.Ecode...)."""

    KEY_NOT_FOUND = 100
    TEST_FAILED = 101
    NOT_FILE = 102
    NO_MORE_PEER = 103
    NOT_DIR = 104
    NODE_EXIST = 105
    KEY_IS_PRESERVED = 106
    ROOT_READ_ONLY = 107
    DIR_NOT_EMPTY = 108
    EXISTING_PEER_ADDR = 109
    UNAUTHORIZED = 110
    VALUE_REQUIRED = 200
    PREV_VALUE_REQUIRED = 201
    TTL_NAN = 202
    INDEX_NAN = 203
    VALUE_OR_TTL_REQUIRED = 204
    TIMEOUT_NAN = 205
    NAME_REQUIRED = 206
    INDEX_OR_VALUE_REQUIRED = 207
    INDEX_VALUE_MUTEX = 208
    INVALID_FIELD = 209
    INVALID_FORM = 210
    REFRESH_VALUE = 211
    REFRESH_TTL_REQUIRED = 212
    RAFT_INTERNAL = 300
    LEADER_ELECT = 301
    WATCHER_CLEARED = 400
    EVENT_INDEX_CLEARED = 401
    STANDBY_INTERNAL = 402
    INVALID_ACTIVE_SIZE = 403
    INVALID_REMOVE_DELAY = 404
    CLIENT_INTERNAL = 500


# v2-spec §3: the exact strings etcd 3.4 emits.
MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.KEY_NOT_FOUND: "Key not found",
    ErrorCode.TEST_FAILED: "Compare failed",
    ErrorCode.NOT_FILE: "Not a file",
    ErrorCode.NO_MORE_PEER: "Reached the max number of peers in the cluster",
    ErrorCode.NOT_DIR: "Not a directory",
    ErrorCode.NODE_EXIST: "Key already exists",
    ErrorCode.KEY_IS_PRESERVED: "The prefix of given key is a keyword in etcd",
    ErrorCode.ROOT_READ_ONLY: "Root is read only",
    ErrorCode.DIR_NOT_EMPTY: "Directory not empty",
    ErrorCode.EXISTING_PEER_ADDR: "Peer address has existed",
    ErrorCode.UNAUTHORIZED: "The request requires user authentication",
    ErrorCode.VALUE_REQUIRED: "Value is Required in POST form",
    ErrorCode.PREV_VALUE_REQUIRED: "PrevValue is Required in POST form",
    ErrorCode.TTL_NAN: "The given TTL in POST form is not a number",
    ErrorCode.INDEX_NAN: "The given index in POST form is not a number",
    ErrorCode.VALUE_OR_TTL_REQUIRED: "Value or TTL is required in POST form",
    ErrorCode.TIMEOUT_NAN: "The given timeout in POST form is not a number",
    ErrorCode.NAME_REQUIRED: "Name is required in POST form",
    ErrorCode.INDEX_OR_VALUE_REQUIRED: "Index or value is required",
    ErrorCode.INDEX_VALUE_MUTEX: "Index and value cannot both be specified",
    ErrorCode.INVALID_FIELD: "Invalid field",
    ErrorCode.INVALID_FORM: "Invalid POST form",
    ErrorCode.REFRESH_VALUE: "Value provided on refresh",
    ErrorCode.REFRESH_TTL_REQUIRED: "A TTL must be provided on refresh",
    ErrorCode.RAFT_INTERNAL: "Raft Internal Error",
    ErrorCode.LEADER_ELECT: "During Leader Election",
    ErrorCode.WATCHER_CLEARED: "watcher is cleared due to etcd recovery",
    ErrorCode.EVENT_INDEX_CLEARED: "The event in requested index is outdated and cleared",
    ErrorCode.STANDBY_INTERNAL: "Standby Internal Error",
    ErrorCode.INVALID_ACTIVE_SIZE: "Invalid active size",
    ErrorCode.INVALID_REMOVE_DELAY: "Standby remove delay",
    ErrorCode.CLIENT_INTERNAL: "Client Internal Error",
}

_STATUS = {ErrorCode.KEY_NOT_FOUND: 404, ErrorCode.TEST_FAILED: 412, ErrorCode.NODE_EXIST: 412,
           ErrorCode.NOT_FILE: 403, ErrorCode.DIR_NOT_EMPTY: 403, ErrorCode.UNAUTHORIZED: 401,
           ErrorCode.RAFT_INTERNAL: 500, ErrorCode.LEADER_ELECT: 500}


class V2Error(Exception):
    """An etcd v2 error: `{"errorCode","message","cause","index"}` plus its HTTP status."""

    __slots__ = ("code", "cause", "index")

    def __init__(self, code: ErrorCode, cause: str = "", index: int = 0) -> None:
        code = ErrorCode(code)  # ValueError for a code etcd does not have
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
        text = f'{{"errorCode":{self.code:d},"message":{quote(self.message)}{cause},"index":{self.index}}}\n'
        return text.encode()

    def __str__(self) -> str:
        return f"{self.code:d}: {self.message} ({self.cause}) [{self.index}]"
