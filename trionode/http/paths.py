"""Request paths as Go's net/url, path and http.ServeMux treat them (v2-spec §1.1).

etcd 3.4 sits behind Go's ServeMux, which percent-decodes the path first (`%2F` is a
`/`, `%2e%2e` is `..`) and then answers any path that is not clean with a 301 to the
cleaned one. A trailing slash is kept by that check, so `/v2/keys/dir/a/` is served.
Location is the cleaned path re-encoded as Go's url.URL.String() does, plus the raw query.
"""

from __future__ import annotations

from ..gocompat.url import clean_keep_slash, clean_path, escape_path
from .message import HttpResponse
from .params import unescape

__all__ = ["clean_path", "split_target", "decode_path", "escape_path", "redirect_for"]


def split_target(target: str) -> tuple[str, str]:
    """(raw path, raw query) of a request target; the absolute form drops scheme and host."""
    if not target.startswith("/") and "://" in target:
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        query = rest.find("?")
        if slash < 0 or 0 <= query < slash:
            target = "/" + rest[query:] if query >= 0 else "/"
        else:
            target = rest[slash:]
    raw_path, _, query = target.partition("?")
    return raw_path, query


def decode_path(raw_path: str) -> str:
    """The percent-decoded path ('+' stays '+'); raises params.BadEscape."""
    return unescape(raw_path, plus_is_space=False)


_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def redirect_for(raw_path: str, query: str, method: str = "GET") -> HttpResponse | None:
    """The 301 Go's ServeMux sends for an unclean path, or None when the path is clean.

    Like Go's http.Redirect: GET gets the HTML body, HEAD only its Content-Type, other
    methods neither.
    """
    if not raw_path.startswith("/"):
        return None  # '*' (OPTIONS): Go's mux does not redirect it
    if "//" not in raw_path and "." not in raw_path and "%" not in raw_path:
        return None  # nothing that decoding or cleaning could change
    try:
        path = decode_path(raw_path)
    except ValueError:
        return None  # the server answers bad escapes with 400 before any app runs
    cleaned = clean_keep_slash(path)
    if cleaned == path:
        return None
    location = escape_path(cleaned) + ("?" + query if query else "")
    headers = [("Location", location)]
    if method not in ("GET", "HEAD"):
        return HttpResponse(301, headers)
    headers.insert(0, ("Content-Type", "text/html; charset=utf-8"))
    if method == "HEAD":
        return HttpResponse(301, headers)
    body = f'<a href="{location.translate(_HTML)}">Moved Permanently</a>.\n\n'
    return HttpResponse(301, headers, body.encode())
