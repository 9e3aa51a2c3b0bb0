"""Go's path.Clean and ServeMux redirect, with the exact replies of etcd 3.4.23 (v2-spec §1.1)."""

import pytest

from trionode.http.message import HttpResponse
from trionode.http.paths import (
    clean_path,
    decode_path,
    escape_path,
    redirect_for,
    split_target,
)


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("/", "/"),
        ("", "."),
        ("/a/b", "/a/b"),
        ("/a/b/", "/a/b"),
        ("//a//b//", "/a/b"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/..", "/"),
        ("/../../a", "/a"),
        ("/a/b/..", "/a"),
        ("/a/.", "/a"),
        ("/.hidden", "/.hidden"),
        ("/a/..b/c", "/a/..b/c"),
        ("a/../..", ".."),
        ("a/./", "a"),
    ],
)
def test_clean_path_matches_go(path: str, clean: str) -> None:
    assert clean_path(path) == clean


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        ("/v2/keys/a?x=1&y", ("/v2/keys/a", "x=1&y")),
        ("/v2/keys/a", ("/v2/keys/a", "")),
        ("/v2/keys/a?", ("/v2/keys/a", "")),
        ("http://foo/v2/keys//a?x", ("/v2/keys//a", "x")),
        ("http://foo", ("/", "")),
        ("http://foo?q=1", ("/", "q=1")),
        ("*", ("*", "")),
    ],
)
def test_split_target(target: str, parts: tuple[str, str]) -> None:
    assert split_target(target) == parts


def test_decode_path_keeps_plus_and_bytes() -> None:
    assert decode_path("/v2/keys/a+b%20c%2Fd") == "/v2/keys/a+b c/d"
    assert decode_path("/a%FF").encode("utf-8", "surrogateescape") == b"/a\xff"
    with pytest.raises(ValueError, match='invalid URL escape "%zz"'):
        decode_path("/v2/keys/%zz")


def test_escape_path_like_go() -> None:
    raw = "/v2/keys/a!*()'\"<>[]$&+,:;=@~/b"
    assert escape_path(raw) == "/v2/keys/a%21%2A%28%29%27%22%3C%3E%5B%5D$&+,:;=@~/b"
    assert escape_path(decode_path("/%C3%A9%FF %3F")) == "/%C3%A9%FF%20%3F"


def _go_redirect(location: str, href: str | None = None) -> HttpResponse:
    body = f'<a href="{href or location}">Moved Permanently</a>.\n\n'.encode()
    return HttpResponse(301, [("Content-Type", "text/html; charset=utf-8"), ("Location", location)], body)


# Each pair was observed on etcd 3.4.23 (curl --path-as-is).
@pytest.mark.parametrize(
    ("raw_path", "query", "location"),
    [
        ("/v2/keys//dir//a", "", "/v2/keys/dir/a"),
        ("/v2/keys/..", "", "/v2"),
        ("/v2/keys/a/./b", "x=1&y", "/v2/keys/a/b?x=1&y"),
        ("/v2/keys/a%2F..%2Fb", "", "/v2/keys/b"),
        ("/v2/keys/a%2F%2Fb", "", "/v2/keys/a/b"),
        ("/v2/keys/a/b/..", "", "/v2/keys/a"),
        ("/v2/keys/a/.", "", "/v2/keys/a"),
        ("/v2/keys/%2e%2e/x", "", "/v2/x"),
        ("/v2/keys/a/./", "", "/v2/keys/a/"),
        ("/v2/keys/a%20b//c%3Fd", "", "/v2/keys/a%20b/c%3Fd"),
        ("/v2/keys/%C3%A9//x", "", "/v2/keys/%C3%A9/x"),
        ("/v2/keys/a+b//c", "", "/v2/keys/a+b/c"),
        ("//v2/keys", "", "/v2/keys"),
        ("/v2/keys/a%25//b%00", "", "/v2/keys/a%25/b%00"),
    ],
)
def test_redirect_for_unclean_paths(raw_path: str, query: str, location: str) -> None:
    assert redirect_for(raw_path, query) == _go_redirect(location, location.replace("&", "&amp;"))


def test_redirect_body_is_html_escaped_and_sized_like_go() -> None:
    response = redirect_for("/v2/keys//dir//a", "")
    assert response is not None and len(response.body) == 49  # etcd's Content-Length
    response = redirect_for("/v2/keys/a//b", 'q=<&>"')
    assert response is not None
    assert response.body == b'<a href="/v2/keys/a/b?q=&lt;&amp;&gt;&#34;">Moved Permanently</a>.\n\n'
    assert ("Location", '/v2/keys/a/b?q=<&>"') in response.headers


@pytest.mark.parametrize(
    "raw_path", ["/v2/keys/a", "/v2/keys/a/", "/v2/keys/", "/v2/keys", "/v2/keys/a%2F", "/v2/keys/.hidden", "*", "/"]
)
def test_clean_paths_are_not_redirected(raw_path: str) -> None:
    assert redirect_for(raw_path, "x=1") is None


def test_redirect_shape_depends_on_method_like_go_http_redirect() -> None:
    head = redirect_for("/v2/keys//a", "x=1", "HEAD")
    assert head == HttpResponse(301, [("Content-Type", "text/html; charset=utf-8"), ("Location", "/v2/keys/a?x=1")])
    for method in ("PUT", "POST", "DELETE"):
        assert redirect_for("/v2/keys//a", "x=1", method) == HttpResponse(301, [("Location", "/v2/keys/a?x=1")])
