"""Go's url.ParseQuery / Request.ParseForm as etcd 3.4.23 exposes them (v2-spec §1.2)."""

import pytest

from trionode.http.params import go_quote, parse_form, parse_media_type, unescape
from trionode.v2.errors import V2Error

FORM = b"application/x-www-form-urlencoded"


def _cause(method: str, query: str, ctype: bytes | None, body: bytes) -> str:
    with pytest.raises(V2Error) as info:
        parse_form(method, query, ctype, body)
    assert info.value.code == 210 and info.value.index == 0
    return info.value.cause


def test_unescape_plus_only_in_forms() -> None:
    assert unescape("a+b%2Bc", plus_is_space=True) == "a b+c"
    assert unescape("a+b%2Bc", plus_is_space=False) == "a+b+c"
    assert unescape("plain", plus_is_space=True) == "plain"
    assert unescape("%E2%82%AC%ff", plus_is_space=True) == "€\udcff"


def test_body_wins_over_query_and_first_value_wins() -> None:
    form = parse_form("PUT", "value=q&ttl=5&ttl=6", FORM, b"value=b1&value=b2")
    assert form == {"value": "b1", "ttl": "5"}


def test_names_are_case_sensitive_and_empty_pieces_skipped() -> None:
    assert parse_form("PUT", "", FORM, b"&&value=x&=&noeq&value&Value=zz") == {
        "value": "x",
        "": "",
        "noeq": "",
        "Value": "zz",
    }


@pytest.mark.parametrize("ctype", [b"application/json", b"text/plain", b"multipart/form-data; boundary=x", None])
def test_other_content_types_are_not_read(ctype: bytes | None) -> None:
    assert parse_form("PUT", "value=q", ctype, b"value=b") == {"value": "q"}


@pytest.mark.parametrize("ctype", [b"Application/X-WWW-Form-Urlencoded; charset=utf-8", FORM + b";", FORM + b' ; a="q;x" ;'])
def test_form_media_type_with_parameters(ctype: bytes) -> None:
    assert parse_form("POST", "value=q", ctype, b"value=b") == {"value": "b"}


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD"])
def test_bodies_of_other_methods_are_ignored(method: str) -> None:
    assert parse_form(method, "", FORM, b"prevValue=x&a=%zz") == {}


@pytest.mark.parametrize(
    ("query", "body", "cause"),
    [
        ("value=%zz", b"", 'invalid URL escape "%zz"'),
        ("a=%z", b"", 'invalid URL escape "%z"'),
        ("a=%", b"", 'invalid URL escape "%"'),
        ("%zz=1", b"", 'invalid URL escape "%zz"'),
        ("a=%zz&b=%yy", b"", 'invalid URL escape "%zz"'),
        ("a=1;b=2", b"", "invalid semicolon separator in query"),
        ("a=%zz&b;c", b"", "invalid semicolon separator in query"),
        ("b;c&a=%zz", b"", "invalid semicolon separator in query"),
        ("a=%qq", b"value=%zz", 'invalid URL escape "%zz"'),  # the body's error comes first
        ("a;b", b"value=%zz", 'invalid URL escape "%zz"'),
        ("a=%qq", b"value=1", 'invalid URL escape "%qq"'),
        ("", b"a;b=1&value=x", "invalid semicolon separator in query"),
        ("", b"v=%z\xc3", 'invalid URL escape "%z\\xc3"'),
    ],
)
def test_malformed_forms_fail_with_gos_text(query: str, body: bytes, cause: str) -> None:
    assert _cause("PUT", query, FORM, body) == cause


@pytest.mark.parametrize(
    ("ctype", "cause"),
    [
        (b"text/", "mime: expected token after slash"),
        (b"text/plain x", "mime: unexpected content after media subtype"),
        (b";x=1", "mime: no media type"),
        (b"text/plain; a=1; a=2", "mime: duplicate parameter name"),
        (b"text/plain; a=1; A=2", "mime: duplicate parameter name"),
        (b"text/plain; a=1; a=1", "mime: duplicate parameter name"),
        (b'text/plain; a="x', "mime: invalid media parameter"),
        (FORM + b";;", "mime: invalid media parameter"),
        (b"text/x; charset", "mime: invalid media parameter"),
    ],
)
def test_bad_content_type_fails_the_form(ctype: bytes, cause: str) -> None:
    assert _cause("PUT", "", ctype, b"value=1") == cause


def test_media_type_without_subtype_is_accepted_like_go() -> None:
    assert parse_media_type("text") == ("text", None)
    assert parse_form("PUT", "", b"text", b"value=1") == {}


def test_go_quote() -> None:
    assert go_quote(b"%zz") == '"%zz"'
    assert go_quote(b'%"\\') == '"%\\"\\\\"'
    assert go_quote(b"%\xff\x01") == '"%\\xff\\x01"'
    assert go_quote(b"%\n\xc3\xa9") == '"%\\né"'
