"""The fast head parser must agree with h11 on every head it accepts, and refuse the rest."""

from __future__ import annotations

import h11
from hypothesis import given, settings
from hypothesis import strategies as st

from trionode.http.fasthead import FALLBACK, NEED_MORE, FastHead, parse_head

MAX = 1 << 16


def h11_parse(raw: bytes) -> tuple[str, str, list[tuple[bytes, bytes]]] | None:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX)
    conn.receive_data(raw)
    try:
        event = conn.next_event()
    except h11.RemoteProtocolError:
        return None
    if type(event) is not h11.Request:
        return None
    return event.method.decode(), event.target.decode(), list(event.headers)


# Mostly well-formed pieces, with a minority that probe the edges of the grammar (odd
# bytes, spaces, colons, control characters), so that both sides of the fast path's
# decision are exercised.
_TOKEN = "abcxyzHOSTLNG019!#$%&'*+-.^_`|~"
_VCHAR = "".join(chr(c) for c in range(0x21, 0x7F))


def _mostly(good: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(good, good, good, good, good, good, odd)


_name = _mostly(st.text(alphabet=_TOKEN, min_size=1, max_size=10), st.text(alphabet="aH :;\t\x00é", max_size=6))
_value = _mostly(st.text(alphabet=_VCHAR + " \t", max_size=16), st.text(alphabet="ab \t:\x7f\x01é,\r", max_size=8))
_method = _mostly(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"]),
                  st.sampled_from(["PATCH", "get", "G ET", ""]))
_target = _mostly(st.builds(lambda t: "/" + t, st.text(alphabet=_VCHAR, max_size=16)),
                  st.text(alphabet="/ab%?#\x7fé ", max_size=8))
_version = st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0", "HTTP/2", "http/1.1"])
_special = st.sampled_from(["Content-Length", "content-length", "Transfer-Encoding", "Connection",
                            "Expect", "Host"])


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    lines = [f"{draw(_method)} {draw(_target)} {draw(_version)}"]
    if draw(st.integers(0, 9)):
        lines.append("Host: x")
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.one_of(_special, _name, _name))
        value = draw(st.sampled_from(["0", "12", " 5 ", "x", "-1"]) | _value)
        lines.append(f"{name}:{value}")
    text = "\r\n".join(lines) + "\r\n\r\n"
    return text.encode("utf-8")


@settings(max_examples=3000, deadline=None)
@given(heads())
def test_fast_path_agrees_with_h11(raw: bytes) -> None:
    fast = parse_head(raw, MAX)
    if not isinstance(fast, FastHead):
        assert fast is FALLBACK  # a complete head is never "need more"
        return
    assert fast.end == len(raw)
    assert h11_parse(raw) == (fast.method, fast.target, fast.headers)


@st.composite
def plain_heads(draw: st.DrawFn) -> bytes:
    """Heads inside the fast path's subset: it must take every one, and agree with h11."""
    method = draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"]))
    target = "/" + draw(st.text(alphabet=_VCHAR, max_size=24))
    lines = [f"{method} {target} HTTP/1.1"]
    names = st.text(alphabet=_TOKEN, min_size=1, max_size=10).filter(
        lambda n: n.lower() not in ("host", "content-length", "transfer-encoding", "expect"))
    values = st.text(alphabet=_VCHAR + " \t", max_size=16)
    headers = draw(st.lists(st.tuples(names, values), max_size=5))
    headers.insert(draw(st.integers(0, len(headers))), ("Host", draw(values)))
    if draw(st.booleans()):
        headers.append(("Content-Length", str(draw(st.integers(0, 10**9)))))
    lines += [f"{name}:{value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@settings(max_examples=1000, deadline=None)
@given(plain_heads())
def test_plain_heads_take_the_fast_path_and_agree_with_h11(raw: bytes) -> None:
    fast = parse_head(raw, MAX)
    assert isinstance(fast, FastHead)
    assert h11_parse(raw) == (fast.method, fast.target, fast.headers)


@given(heads(), st.data())
def test_every_prefix_waits_or_falls_back(raw: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(raw) - 1))
    result = parse_head(raw[:cut], MAX)
    assert result in (NEED_MORE, FALLBACK)


def test_plain_get() -> None:
    raw = b"GET /v2/keys/a?recursive=true HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nrest"
    head = parse_head(raw, MAX)
    assert isinstance(head, FastHead)
    assert (head.method, head.target, head.end) == ("GET", "/v2/keys/a?recursive=true", len(raw) - 4)
    assert head.headers == [(b"host", b"x"), (b"accept", b"*/*")]


def test_content_length_is_read() -> None:
    raw = b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nvalue=1"
    head = parse_head(raw, MAX)
    assert isinstance(head, FastHead) and head.content_length == 7


def test_what_goes_to_h11() -> None:
    for raw in [
        b"GET /k HTTP/1.0\r\nHost: x\r\n\r\n",  # HTTP/1.0
        b"GET /k HTTP/1.1\r\n\r\n",  # no Host
        b"GET /k HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",  # two Hosts
        b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"PUT /k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
        b"GET /k HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  # obs-fold
        b"GET /k HTTP/1.1\r\nHost: \xe9\r\n\r\n",  # obs-text
        b"GET http://h/k HTTP/1.1\r\nHost: x\r\n\r\n",  # absolute form
        b"\r\nGET /k HTTP/1.1\r\nHost: x\r\n\r\n",  # leading blank line
        b"BREW /k HTTP/1.1\r\nHost: x\r\n\r\n",  # unknown method
    ]:
        assert parse_head(raw, MAX) is FALLBACK, raw


def test_oversized_head_goes_to_h11() -> None:
    raw = b"GET /k HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100 + b"\r\n\r\n"
    assert parse_head(raw, 64) is FALLBACK
    assert parse_head(raw[:50], 64) is NEED_MORE


def test_long_targets_go_to_h11() -> None:
    # the line is matched again on every read until the head is whole: bounded, it stays linear
    assert isinstance(parse_head(b"GET /" + b"a" * 8191 + b" HTTP/1.1\r\nHost: x\r\n\r\n", MAX), FastHead)
    assert parse_head(b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\nHost: x\r\n\r\n", MAX) is FALLBACK


def test_a_head_behind_others_keeps_offsets_in_the_buffer() -> None:
    done = b"GET /done HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nvalue=1"
    for buf in (done + raw, bytearray(done + raw)):
        head = parse_head(buf, MAX, len(done))
        assert isinstance(head, FastHead)
        assert (head.method, head.target, head.end) == ("PUT", "/k", len(buf) - 7)
        assert head.headers == [(b"host", b"x"), (b"content-length", b"7")]
        assert all(type(part) is bytes for header in head.headers for part in header)  # even from a bytearray


@given(plain_heads(), st.data())
def test_a_search_resumed_after_more_bytes_finds_the_same_head(raw: bytes, data: st.DataObject) -> None:
    """As the reader calls it: NEED_MORE on a part, then again on the whole, `scanned` = the part."""
    before = data.draw(st.sampled_from([b"", b"GET /done HTTP/1.1\r\nHost: x\r\n\r\n"]))
    cut = data.draw(st.integers(0, len(raw) - 1))
    assert parse_head(bytearray(before + raw[:cut]), MAX, len(before)) is NEED_MORE
    head = parse_head(bytearray(before + raw), MAX, len(before), scanned=cut)
    whole = parse_head(raw, MAX)
    assert isinstance(head, FastHead) and isinstance(whole, FastHead)
    assert head == whole._replace(end=whole.end + len(before))
