"""parse_keys_request against etcd 3.4.23's exact replies and check order (v2-spec §1.2)."""

import pytest

from trionode.http.keys_params import KeysRequest, parse_keys_request
from trionode.http.message import Request
from trionode.http.paths import decode_path, split_target
from trionode.v2.errors import V2Error

FORM = (b"content-type", b"application/x-www-form-urlencoded")


def _request(method: str, target: str, body: bytes = b"", headers: list | None = None) -> Request:
    raw_path, query = split_target(target)
    hdrs = headers if headers is not None else ([FORM] if body else [])
    return Request(method, target, decode_path(raw_path), raw_path, query, hdrs, body)


def _error_json(method: str, target: str, body: bytes = b"") -> bytes:
    with pytest.raises(V2Error) as info:
        parse_keys_request(_request(method, target, body))
    return info.value.to_json()


# Bodies copied from etcd 3.4.23 (curl -s, Nov 2026).
_IDX = b'{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \\"%s\\"","index":0}\n'
_FIELD = b'{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"%s\\"","index":0}\n'
_TTL = b'{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}\n'


@pytest.mark.parametrize(
    ("method", "target", "body", "expected"),
    [
        ("GET", "/v2/keys/p?prevIndex=x", b"", _IDX % b"prevIndex"),
        ("GET", "/v2/keys/p?prevIndex=", b"", _IDX % b"prevIndex"),
        ("GET", "/v2/keys/p?waitIndex=-1", b"", _IDX % b"waitIndex"),
        ("GET", "/v2/keys/p?waitIndex=%2B1", b"", _IDX % b"waitIndex"),
        ("GET", "/v2/keys/p?prevIndex=18446744073709551615&waitIndex=18446744073709551616", b"", _IDX % b"waitIndex"),
        ("GET", "/v2/keys/p?waitIndex=x&prevIndex=x", b"", _IDX % b"prevIndex"),
        ("GET", "/v2/keys/p?recursive=yes", b"", _FIELD % b"recursive"),
        ("GET", "/v2/keys/p?recursive=", b"", _FIELD % b"recursive"),
        ("GET", "/v2/keys/p?sorted=2", b"", _FIELD % b"sorted"),
        ("GET", "/v2/keys/p?wait=x", b"", _FIELD % b"wait"),
        ("GET", "/v2/keys/p?dir=x", b"", _FIELD % b"dir"),
        ("GET", "/v2/keys/p?quorum=x", b"", _FIELD % b"quorum"),
        ("GET", "/v2/keys/p?stream=x", b"", _FIELD % b"stream"),
        ("GET", "/v2/keys/p?noValueOnSuccess=x", b"", _FIELD % b"noValueOnSuccess"),
        ("GET", "/v2/keys/p?prevExist=x&ttl=x&noValueOnSuccess=x", b"", _FIELD % b"noValueOnSuccess"),
        (
            "GET",
            "/v2/keys/p?prevExist=x",
            b"",
            b'{"errorCode":209,"message":"Invalid field","cause":"invalid value for prevExist","index":0}\n',
        ),
        (
            "GET",
            "/v2/keys/p?refresh=x",
            b"",
            b'{"errorCode":209,"message":"Invalid field","cause":"invalid value for refresh","index":0}\n',
        ),
        ("PUT", "/v2/keys/p?ttl=x", b"", _TTL),
        ("PUT", "/v2/keys/p?ttl=-1", b"", _TTL),
        ("PUT", "/v2/keys/p?ttl=+1", b"", _TTL),
        ("PUT", "/v2/keys/p?ttl=99999999999999999999", b"value=1", _TTL),
        (
            "PUT",
            "/v2/keys/p?wait=true",
            b"",
            b'{"errorCode":209,"message":"Invalid field","cause":"\\"wait\\" can only be used with GET requests","index":0}\n',
        ),
        (
            "PUT",
            "/v2/keys/p?prevValue=",
            b"",
            b'{"errorCode":201,"message":"PrevValue is Required in POST form","cause":"\\"prevValue\\" cannot be empty","index":0}\n',
        ),
        (
            "PUT",
            "/v2/keys/p",
            b"value=%zz",
            b'{"errorCode":210,"message":"Invalid POST form","cause":"invalid URL escape \\"%zz\\"","index":0}\n',
        ),
        (
            "GET",
            "/v2/keys/p?a=1;b=2",
            b"",
            b'{"errorCode":210,"message":"Invalid POST form","cause":"invalid semicolon separator in query","index":0}\n',
        ),
        (
            "PUT",
            "/v2/keys/p?refresh=true",
            b"value=1",
            b'{"errorCode":211,"message":"Value provided on refresh","cause":"A value was provided on a refresh","index":0}\n',
        ),
        (
            "PUT",
            "/v2/keys/p?refresh=true",
            b"",
            b'{"errorCode":212,"message":"A TTL must be provided on refresh","cause":"No TTL value set","index":0}\n',
        ),
    ],
)
def test_errors_match_etcd(method: str, target: str, body: bytes, expected: bytes) -> None:
    assert _error_json(method, target, body) == expected


def test_validation_order() -> None:
    everything_bad = "prevIndex=x&waitIndex=x&recursive=x&wait=true&prevValue=&noValueOnSuccess=x&ttl=x&prevExist=x&refresh=x"
    steps = [  # (parameter to fix next, code expected before fixing it)
        ("prevIndex=x", 203),
        ("waitIndex=x", 203),
        ("recursive=x", 209),
        ("wait=true", 209),
        ("prevValue=", 201),
        ("noValueOnSuccess=x", 209),
        ("ttl=x", 202),
        ("prevExist=x", 209),
        ("refresh=x", 209),
    ]
    query = everything_bad + "&a=%zz"
    with pytest.raises(V2Error) as info:
        parse_keys_request(_request("PUT", "/v2/keys/p?" + query))
    assert info.value.code == 210
    query = everything_bad
    for piece, code in steps:
        with pytest.raises(V2Error) as info:
            parse_keys_request(_request("PUT", "/v2/keys/p?" + query))
        assert (piece, info.value.code) == (piece, code)
        query = query.replace(piece, "ok=1")
    parse_keys_request(_request("PUT", "/v2/keys/p?" + query))


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_go_true(text: str) -> None:
    parsed = parse_keys_request(_request("GET", f"/v2/keys/a?recursive={text}&prevExist={text}"))
    assert parsed.recursive is True and parsed.prev_exist is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_false(text: str) -> None:
    parsed = parse_keys_request(_request("GET", f"/v2/keys/a?recursive={text}&prevExist={text}"))
    assert parsed.recursive is False and parsed.prev_exist is False


@pytest.mark.parametrize("text", ["yes", "tRuE", "2", "", " 1", "on"])
def test_not_go_bools(text: str) -> None:
    with pytest.raises(V2Error) as info:
        parse_keys_request(_request("GET", f"/v2/keys/a?sorted={text}"))
    assert info.value.code == 209


def test_defaults() -> None:
    assert parse_keys_request(_request("GET", "/v2/keys")) == KeysRequest(
        method="GET",
        key="/",
        value="",
        dir=False,
        ttl=None,
        prev_exist=None,
        prev_value=None,
        prev_index=0,
        recursive=False,
        sorted=False,
        wait=False,
        wait_index=0,
        stream=False,
        quorum=False,
        no_value_on_success=False,
        refresh=False,
    )


def test_full_put() -> None:
    parsed = parse_keys_request(
        _request(
            "PUT",
            "/v2/keys/dir/a%2Fb/?value=q&prevIndex=007&ttl=",
            b"value=a+b%2Bc%FF&ttl=10&prevValue=old&prevExist=false&refresh=false&dir=true",
        )
    )
    assert parsed.key == "/dir/a/b"
    assert parsed.value == "a b+c\udcff" and parsed.value.encode("utf-8", "surrogateescape") == b"a b+c\xff"
    assert (parsed.ttl, parsed.prev_index, parsed.prev_value, parsed.prev_exist) == (10, 7, "old", False)
    assert parsed.dir and not parsed.refresh


def test_empty_ttl_means_no_ttl_and_refresh_with_ttl_is_fine() -> None:
    assert parse_keys_request(_request("PUT", "/v2/keys/a?ttl=", b"value=1")).ttl is None
    parsed = parse_keys_request(_request("PUT", "/v2/keys/a?refresh=true&ttl=5&value="))
    assert parsed.refresh and parsed.ttl == 5


def test_watch_parameters_and_plus_in_path_is_literal() -> None:
    parsed = parse_keys_request(_request("GET", "/v2/keys/a+b?wait=true&waitIndex=42&stream=1&recursive=t"))
    assert (parsed.key, parsed.wait, parsed.wait_index, parsed.stream, parsed.recursive) == ("/a+b", True, 42, True, True)


def test_delete_body_is_ignored() -> None:
    parsed = parse_keys_request(_request("DELETE", "/v2/keys/a", b"prevValue=x&a=%zz"))
    assert parsed.prev_value is None


def test_json_body_is_not_read() -> None:
    request = _request("PUT", "/v2/keys/q?value=fromquery", b"value=frombody", [(b"content-type", b"application/json")])
    assert parse_keys_request(request).value == "fromquery"


def test_wrong_prefix() -> None:
    with pytest.raises(V2Error) as info:
        parse_keys_request(_request("GET", "/v2/members"))
    assert (info.value.code, info.value.cause) == (210, "incorrect key prefix")
