"""Pure request building: the method, URL and body of every operation.

Everything here reproduces what etcd 3.4's Go client sends (client/keys.go, members.go,
client.go), because trionodectl's --debug prints these URLs and must match etcdctl's
"cURL Command:" lines byte for byte:

* keys paths: endpoint path + "/v2/keys" + key, cleaned like Go path.Clean but keeping a
  trailing slash (pkg/pathutil CanonicalURLPath): "a//b/" -> /v2/keys/a/b/, "/" -> /v2/keys/;
* members paths: Go path.Join (no trailing slash kept);
* the path escaped as Go's URL.EscapedPath does (only unreserved characters and
  `$&+,/:;=@` stay as they are);
* query and form parameters sorted by name, each escaped as Go's url.QueryEscape (space
  becomes "+"), as url.Values.Encode does.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

from ..gocompat.jsontext import quote
from ..gocompat.url import clean_keep_slash, clean_path, escape_path

__all__ = [
    "Endpoint", "Operation", "parse_endpoint", "encode_values", "peer_urls",
    "keys_get", "keys_wait", "keys_set", "keys_create_in_order", "keys_delete",
    "members_list", "members_leader", "members_add", "members_remove", "members_update",
    "version", "health",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One http or https endpoint, as Go's url.URL holds it."""
    netloc: str                # "host:port" as written (IPv6 in brackets)
    host: str                  # what to dial and, over TLS, verify: no brackets
    port: int
    path: str                  # the endpoint's own path ("" almost always)
    scheme: str = "http"       # "http" or "https" (lower case)

    @property
    def url(self) -> str:
        """Go's ep.String(): what error messages and sync results show."""
        return f"{self.scheme}://{self.netloc}{self.path}"

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_endpoint(text: str) -> Endpoint:
    """"http[s]://host:port[/path]"; a bare "host:port" gets "http://" as etcdctl gives it."""
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"unsupported endpoint {text!r}: only http:// and https:// are supported")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"invalid endpoint {text!r}: bad port") from None
    if not parts.hostname or "@" in parts.netloc:
        raise ValueError(f"invalid endpoint {text!r}: expected {scheme}://host:port")
    return Endpoint(parts.netloc, parts.hostname, port, parts.path, scheme)


def _utf8(text: str) -> bytes:
    # surrogateescape: a key given as undecodable bytes on a command line goes out as those bytes
    return text.encode("utf-8", "surrogateescape")


def encode_values(values: dict[str, str]) -> str:
    """Go url.Values.Encode for single values: sorted by name, QueryEscape'd."""
    return "&".join(f"{quote_plus(_utf8(k), safe='')}={quote_plus(_utf8(v), safe='')}"
                    for k, v in sorted(values.items()))


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation, independent of the endpoint it will be sent to."""
    method: str
    path: str                       # unescaped, relative to the endpoint's own path
    query: str = ""                 # already encoded
    body: bytes | None = None       # None: no body at all (GET, DELETE)
    content_type: str | None = None
    keep_slash: bool = True         # keys URLs keep a trailing slash, members URLs do not
    wait: bool = False              # a long poll: no header timeout, empty 200 retried
    one_shot: bool = False          # never sent to a second endpoint (create, delete)

    def target(self, endpoint: Endpoint) -> str:
        """The request target (escaped path + query) for this endpoint."""
        if self.keep_slash:
            path = clean_keep_slash(endpoint.path + self.path)
        else:
            path = clean_path(endpoint.path + "/" + self.path)
        target = escape_path(path)
        return f"{target}?{self.query}" if self.query else target

    def url(self, endpoint: Endpoint) -> str:
        return f"{endpoint.scheme}://{endpoint.netloc}{self.target(endpoint)}"


def _keys_path(key: str) -> str:
    # keys.go v2KeysURL: prefix and key each get a leading slash, then the whole is cleaned
    if key and not key.startswith("/"):
        key = "/" + key
    return "/v2/keys" + key


def keys_get(key: str, *, recursive: bool = False, sorted: bool = False,
             quorum: bool = False) -> Operation:
    query = encode_values({"recursive": _bool(recursive), "sorted": _bool(sorted),
                           "quorum": _bool(quorum)})
    return Operation("GET", _keys_path(key), query)


def keys_wait(key: str, *, recursive: bool = False, wait_index: int = 0) -> Operation:
    query = encode_values({"wait": "true", "waitIndex": str(wait_index),
                           "recursive": _bool(recursive)})
    return Operation("GET", _keys_path(key), query, wait=True)


def keys_set(key: str, value: str = "", *, ttl: int | None = None,
             prev_value: str | None = None, prev_index: int = 0,
             prev_exist: bool | None = None, dir: bool = False, refresh: bool = False,
             no_value_on_success: bool = False) -> Operation:
    params: dict[str, str] = {}
    form: dict[str, str] = {}
    if dir:
        params["dir"] = "true"
    else:                           # prevValue and value only make sense for a file
        if prev_value:
            params["prevValue"] = prev_value
        form["value"] = value
    if prev_index > 0:
        params["prevIndex"] = str(prev_index)
    if prev_exist is not None:
        params["prevExist"] = _bool(prev_exist)
    if ttl is not None and ttl > 0:
        form["ttl"] = str(ttl)
    if refresh:
        form["refresh"] = "true"
    if no_value_on_success:
        params["noValueOnSuccess"] = "true"
    return Operation("PUT", _keys_path(key), encode_values(params),
                  encode_values(form).encode("ascii"), FORM,
                  one_shot=prev_exist is False)


def keys_create_in_order(dir_key: str, value: str = "", *, ttl: int | None = None) -> Operation:
    form = {"value": value}
    if ttl is not None and ttl > 0:
        form["ttl"] = str(ttl)
    return Operation("POST", _keys_path(dir_key), "", encode_values(form).encode("ascii"), FORM)


def keys_delete(key: str, *, recursive: bool = False, dir: bool = False,
                prev_value: str | None = None, prev_index: int = 0) -> Operation:
    params: dict[str, str] = {}
    if prev_value:
        params["prevValue"] = prev_value
    if prev_index > 0:
        params["prevIndex"] = str(prev_index)
    if dir:
        params["dir"] = "true"
    if recursive:
        params["recursive"] = "true"
    # the Go client labels the (absent) body as a form too
    return Operation("DELETE", _keys_path(key), encode_values(params), None, FORM,
                  one_shot=True)


def _peer_urls_body(urls: list[str]) -> bytes:
    """json.Marshal of the members API's {"peerURLs": [...]}, Go's escaping included."""
    return ('{"peerURLs":[' + ",".join(map(quote, urls)) + "]}").encode("utf-8")


def peer_urls(urls: list[str] | tuple[str, ...]) -> list[str]:
    """Go types.NewURLs: validated, scheme lower-cased, sorted; ValueError with Go's text."""
    if not urls:
        raise ValueError("no valid URLs given")
    out = []
    for given in urls:
        text = given.strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https", "unix", "unixs"):
            raise ValueError(f"URL scheme must be http, https, unix, or unixs: {text}")
        try:
            has_port = parts.port is not None
        except ValueError:
            has_port = False
        if not has_port:
            raise ValueError(f'URL address does not have the form "host:port": {text}')
        if parts.path:
            raise ValueError(f"URL must not contain a path: {text}")
        out.append(parts.scheme.lower() + text[len(parts.scheme):])
    return sorted(out)


def members_list() -> Operation:
    return Operation("GET", "/v2/members", keep_slash=False)


def members_leader() -> Operation:
    return Operation("GET", "/v2/members/leader", keep_slash=False)


def members_add(peer_url: str) -> Operation:
    body = _peer_urls_body(peer_urls([peer_url]))
    return Operation("POST", "/v2/members", "", body, JSON, keep_slash=False)


def members_remove(member_id: str) -> Operation:
    return Operation("DELETE", "/v2/members/" + member_id, keep_slash=False)


def members_update(member_id: str, urls: list[str] | tuple[str, ...]) -> Operation:
    body = _peer_urls_body(peer_urls(urls))
    return Operation("PUT", "/v2/members/" + member_id, "", body, JSON, keep_slash=False)


def version() -> Operation:
    # client.go GetVersion reuses the keys getAction with prefix /version, so the Go
    # client sends the three GET flags here too
    return Operation("GET", "/version", encode_values(
        {"recursive": "false", "sorted": "false", "quorum": "false"}))


def health() -> Operation:
    return Operation("GET", "/health", keep_slash=False)
