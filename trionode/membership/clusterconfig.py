"""The 0.4 cluster config: activeSize, removeDelay, syncInterval (v2-spec §5.2, §5.3).

It lives as JSON in the store key /_etcd/config and is changed through Raft like any
write, so every member reads the same one. Pure: no I/O, no clock.

The JSON is what 0.4's Go struct encodes to: fields in this order, activeSize an int, the
two delays float64 seconds (written without ".0" when integral, as encoding/json does).
A PUT body is decoded the way 0.4 did it (into a map): the first JSON value counts and
anything after it is ignored; keys that are absent or not numbers keep the current value;
then each value is raised to its minimum, silently.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from ..gocompat.jsontext import go_float

__all__ = ["CONFIG_KEY", "ClusterConfig", "ClusterConfigError", "MIN_ACTIVE_SIZE", "MIN_REMOVE_DELAY",
           "MIN_SYNC_INTERVAL"]

#: the store key that holds the cluster config (a hidden key, as in 0.4)
CONFIG_KEY = "/_etcd/config"

MIN_ACTIVE_SIZE = 3
MIN_REMOVE_DELAY = 2.0
MIN_SYNC_INTERVAL = 1.0
_INT64 = 1 << 63
_GO_KINDS = {str: "string", list: "array", bool: "bool", int: "number", float: "number"}


class ClusterConfigError(ValueError):
    """A PUT body that is not a JSON object; the text is Go's decoder error."""


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    active_size: int = 9
    remove_delay: float = 1800
    sync_interval: float = 5

    def to_json(self) -> str:
        return (f'{{"activeSize":{self.active_size},"removeDelay":{go_float(self.remove_delay)},'
                f'"syncInterval":{go_float(self.sync_interval)}}}')

    @classmethod
    def from_json(cls, text: str | None) -> ClusterConfig:
        """The config stored in /_etcd/config; a missing or unreadable value (someone wrote
        the key by hand) gives the defaults, so a bad key never takes the cluster down."""
        if text is None:
            return cls()
        try:
            return cls().updated(text.encode())
        except ClusterConfigError:
            return cls()

    def updated(self, body: bytes) -> ClusterConfig:
        """This config changed by a PUT /v2/admin/config body (0.4 semantics, see above)."""
        fields = _decode_object(body)
        new = self
        if isinstance(fields.get("activeSize"), float):
            new = replace(new, active_size=_go_int(fields["activeSize"]))
        if isinstance(fields.get("removeDelay"), float):
            new = replace(new, remove_delay=fields["removeDelay"])
        if isinstance(fields.get("syncInterval"), float):
            new = replace(new, sync_interval=fields["syncInterval"])
        return new.clamped()

    def clamped(self) -> ClusterConfig:
        """Each value raised to 0.4's minimum (no error: 0.4 did it silently)."""
        return ClusterConfig(max(self.active_size, MIN_ACTIVE_SIZE),
                             max(self.remove_delay, MIN_REMOVE_DELAY),
                             max(self.sync_interval, MIN_SYNC_INTERVAL))


def _go_int(value: float) -> int:
    """Go's int(float64) on amd64: truncation; out of range gives the minimum int64."""
    return int(value) if -_INT64 <= value < _INT64 else -_INT64


def _decode_object(body: bytes) -> dict[str, Any]:
    """The first JSON value of `body` as a map (numbers as floats, as Go's interface{});
    `null` is an empty map. Raises ClusterConfigError with Go's message otherwise."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")  # Go reads bytes: bad UTF-8 is only bad in strings
    text = text.lstrip(" \t\r\n")
    if not text:
        raise ClusterConfigError("EOF")
    decoder = json.JSONDecoder(parse_int=_go_number, parse_float=_go_number,
                               parse_constant=_refuse_constant)
    try:
        value, _ = decoder.raw_decode(text)
    except json.JSONDecodeError as exc:
        raise ClusterConfigError(_go_syntax_error(exc)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = _GO_KINDS[type(value)]
        raise ClusterConfigError(f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")
    return value


def _go_number(text: str) -> float:
    """Every JSON number is a float64 in Go's interface{}; one beyond its range is an error."""
    value = float(text)
    if math.isinf(value):
        raise ClusterConfigError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def _refuse_constant(name: str) -> Any:
    raise ClusterConfigError(f"invalid character '{name[0]}' looking for beginning of value")


def _go_syntax_error(exc: json.JSONDecodeError) -> str:
    """Go's wording for the common cases; the input ending early is 'unexpected EOF'."""
    if exc.pos >= len(exc.doc):
        return "unexpected EOF"
    char = exc.doc[exc.pos]
    context = {
        "Expecting value": "looking for beginning of value",
        "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
        "Expecting ':' delimiter": "after object key",
        "Expecting ',' delimiter": "after object key:value pair",
    }.get(exc.msg, "in string literal" if "control character" in exc.msg else "")
    return f"invalid character {char!r} {context}".rstrip()
