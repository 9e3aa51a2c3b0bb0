"""URL paths as Go's path and net/url packages treat them. Pure.

Shared by the server (Go's ServeMux redirects unclean paths, v2-spec §1.1) and the client
(etcd's Go client cleans and escapes the keys path it sends, and etcdctl --debug shows it).
"""

from __future__ import annotations

__all__ = ["clean_path", "clean_keep_slash", "escape_path"]


def clean_path(path: str) -> str:
    """Go's path.Clean: no empty or '.' segments, '..' folded, no trailing slash but root."""
    rooted = path.startswith("/")
    if rooted and "//" not in path and "/." not in path and (len(path) == 1 or path[-1] != "/"):
        return path  # the common case: already clean
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def clean_keep_slash(path: str) -> str:
    """Rooted, cleaned, but one trailing slash kept: Go's ServeMux cleanPath and etcd's
    pkg/pathutil CanonicalURLPath (the same rule)."""
    if not path.startswith("/"):
        path = "/" + path
    cleaned = clean_path(path)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


# Go's shouldEscape(c, encodePath): what stays literal in a path.
_PATH_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@")


def escape_path(path: str) -> str:
    """Go's url.URL{Path: path}.EscapedPath() for a path without a RawPath; a str decoded
    with surrogateescape goes out as its original bytes."""
    raw = path.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in raw)
