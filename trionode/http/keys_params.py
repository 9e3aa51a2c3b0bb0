"""The parameters of one /v2/keys request, checked in etcd 3.4's order (v2-spec §1.2).

Every failure is a V2Error with index 0, raised at the first failing check of
§1.2.6: form 210 -> prevIndex 203 -> waitIndex 203 -> recursive/sorted/wait/dir/quorum/
stream 209 -> wait on a non-GET 209 -> empty prevValue 201 -> noValueOnSuccess 209 ->
ttl 202 -> prevExist 209 -> refresh 209/211/212. Causes are etcd's texts, byte for byte.
"""

from __future__ import annotations

from typing import NamedTuple

from ..gocompat.parse import GoSyntaxError, parse_bool
from ..v2.errors import ErrorCode, V2Error
from .message import Request
from .params import parse_form
from .paths import clean_path

__all__ = ["KeysRequest", "parse_keys_request", "KEYS_PREFIX"]

KEYS_PREFIX = "/v2/keys"
_UINT64_MAX = (1 << 64) - 1
# Checked in this order, each with cause `invalid value for "<name>"`.
_BOOLS = ("recursive", "sorted", "wait", "dir", "quorum", "stream")


class KeysRequest(NamedTuple):
    """A /v2/keys request with every parameter parsed; legal by construction.

    `key` is clean: leading '/', no trailing '/', root is '/'. `prev_value` is None when
    absent (present-but-empty is error 201). `ttl` is None when absent or empty.
    """

    method: str
    key: str
    value: str
    dir: bool
    ttl: int | None
    prev_exist: bool | None
    prev_value: str | None
    prev_index: int
    recursive: bool
    sorted: bool
    wait: bool
    wait_index: int
    stream: bool
    quorum: bool
    no_value_on_success: bool
    refresh: bool


def _uint(form: dict[str, str], name: str, code: int) -> int:
    """Go's ParseUint(v, 10, 64) of a present parameter (absent -> 0)."""
    text = form.get(name)
    if text is None:
        return 0
    if text.isascii() and text.isdigit():
        number = int(text)
        if number <= _UINT64_MAX:
            return number
    raise V2Error(code, f'invalid value for "{name}"')


def _bool(form: dict[str, str], name: str, cause: str) -> bool | None:
    """Go's ParseBool of a present parameter; None when absent."""
    text = form.get(name)
    if text is None:
        return None
    try:
        return parse_bool(text)
    except GoSyntaxError:
        raise V2Error(ErrorCode.INVALID_FIELD, cause) from None


def _key(path: str) -> str:
    if not path.startswith(KEYS_PREFIX):
        raise V2Error(ErrorCode.INVALID_FORM, "incorrect key prefix")
    return clean_path("/" + path[len(KEYS_PREFIX) :])


def parse_keys_request(request: Request) -> KeysRequest:
    """Parse and validate; raises V2Error(code, cause, index=0) like etcd 3.4."""
    form = parse_form(request.method, request.query, request.header(b"content-type"), request.body)
    key = _key(request.path)
    if not form:  # a bare GET or DELETE: nothing to check
        return KeysRequest(request.method, key, "", False, None, None, None, 0,
                           False, False, False, 0, False, False, False, False)
    prev_index = _uint(form, "prevIndex", 203)
    wait_index = _uint(form, "waitIndex", 203)
    recursive, sorted_, wait, dir_, quorum, stream = (
        bool(_bool(form, name, f'invalid value for "{name}"')) for name in _BOOLS)
    if wait and request.method != "GET":
        raise V2Error(ErrorCode.INVALID_FIELD, '"wait" can only be used with GET requests')
    prev_value = form.get("prevValue")
    if prev_value == "":
        raise V2Error(ErrorCode.PREV_VALUE_REQUIRED, '"prevValue" cannot be empty')
    no_value = bool(_bool(form, "noValueOnSuccess", 'invalid value for "noValueOnSuccess"'))
    ttl = _uint(form, "ttl", 202) if form.get("ttl") else None
    prev_exist = _bool(form, "prevExist", "invalid value for prevExist")
    refresh = bool(_bool(form, "refresh", "invalid value for refresh"))
    value = form.get("value", "")
    if refresh:
        if value:
            raise V2Error(ErrorCode.REFRESH_VALUE, "A value was provided on a refresh")
        if ttl is None:
            raise V2Error(ErrorCode.REFRESH_TTL_REQUIRED, "No TTL value set")
    return KeysRequest(request.method, key, value, dir_, ttl, prev_exist, prev_value, prev_index,
                       recursive, sorted_, wait, wait_index, stream, quorum, no_value, refresh)
