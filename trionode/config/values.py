"""Flag values: Url and the converters from raw flag text to values. Pure.

Each converter takes the raw text of a flag, environment variable or config-file key and
returns the value, or raises ConfigError(reason); flags.py names the source in front of it.
"""

from __future__ import annotations

import dataclasses

from ..gocompat.parse import GoSyntaxError, parse_bool
from .errors import ConfigError

__all__ = ["Url", "CLIENT_URLS", "PEER_URLS", "items", "url_list", "to_int", "to_float",
           "to_bool", "cluster", "host_port", "bind", "fallback"]


def _split_host_port(text: str) -> tuple[str, int]:
    if text.startswith("["):  # IPv6 literal: [::1]:2379
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
        sep = "" if ":" in host else sep
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ConfigError(f'address does not have the form "host:port": {text}')
    return host, int(port)


@dataclasses.dataclass(frozen=True, slots=True)
class Url:
    """An http(s)://host:port URL with no path, as etcd requires for every member URL."""

    scheme: str
    host: str
    port: int  # 0 asks the OS for a free port (listen URLs; tests rely on it)

    def __post_init__(self) -> None:
        if self.scheme not in ("http", "https"):
            raise ConfigError(f"URL scheme must be http or https: {self.scheme}")
        if not self.host or any(c.isspace() or c in "/?#@[]" for c in self.host):
            raise ConfigError(f"bad host in URL: {self.host!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port out of range: {self.port}")

    @classmethod
    def parse(cls, text: str) -> Url:
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise ConfigError(f"URL scheme must be http or https: {text}")
        if any(c in rest for c in "/?#@"):
            raise ConfigError(f"URL must not contain a path or user info: {text}")
        return cls(scheme.lower(), *_split_host_port(rest))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def url_list(raw: str) -> tuple[Url, ...]:
    return tuple(Url.parse(item) for item in items(raw))


# 2.x also listened on, and advertised, the legacy 0.4 client port 4001.
CLIENT_URLS = "http://127.0.0.1:2379,http://127.0.0.1:4001"
PEER_URLS = "http://127.0.0.1:2380"


# --- value converters: raw text -> value, ConfigError(reason) when the text is bad ---------

def to_int(raw: str) -> int:
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise ConfigError("not an integer")
    return int(raw)


def cluster(raw: str) -> tuple[tuple[str, Url], ...]:
    members = []
    for item in items(raw):
        name, sep, url = item.partition("=")
        if not sep:
            raise ConfigError(f"expected name=url, got {item!r}")
        members.append((name, Url.parse(url)))
    return tuple(members)


def host_port(raw: str) -> Url:
    """0.4's host:port (a full http://host:port is accepted too)."""
    return Url.parse(raw if "://" in raw else f"http://{raw}")


def bind(raw: str) -> tuple[str, int | None]:
    """0.4's bind address: host:port, or a bare host that takes its port from -addr."""
    bare = raw.startswith("[") and raw.endswith("]") or ":" not in raw
    url = host_port(f"{raw}:0" if bare else raw)
    return url.host, None if bare else url.port



def to_float(raw: str) -> float:
    """A number of seconds, as 0.4's float flags took them (`-cluster-remove-delay 1800`)."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError("not a finite number")
    return value


def to_bool(raw: str) -> bool:
    """Go's strconv.ParseBool, as Go's flag package parses `-flag=value` for a bool flag."""
    try:
        return parse_bool(raw)
    except GoSyntaxError:
        raise ConfigError("parse error") from None


def fallback(raw: str) -> str:
    """--discovery-fallback: etcd's default `proxy` would run a proxy, which we do not have."""
    if raw == "proxy":
        raise ConfigError("trionode has no proxy mode; the only choice is 'exit'")
    if raw != "exit":
        raise ConfigError("must be 'exit' or 'proxy'")
    return raw
