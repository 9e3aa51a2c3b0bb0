"""The normalizer itself: what it must forgive and what it must still catch (no servers)."""

from __future__ import annotations

import time

from .harness import Response
from .normalize import Normalizer

NOW = time.time()


def norm(body: str, query: str = "", index: str = "7"):
    resp = Response(200, "OK", [("X-Etcd-Index", index), ("Content-Type", "application/json")],
                    body.encode(), NOW, NOW)
    return Normalizer("/p").response(resp, query=query)


def node(key, m, c=None, extra=""):
    return f'{{"key":"{key}",{extra}"modifiedIndex":{m},"createdIndex":{c or m}}}'


def test_absolute_indexes_are_forgiven_relations_are_not():
    a = norm('{"action":"set","node":' + node("/p/a", 7) + '}\n', index="7")
    b = norm('{"action":"set","node":' + node("/p/a", 1234) + '}\n', index="1234")
    c = norm('{"action":"set","node":' + node("/p/a", 1234, 1233) + '}\n', index="1234")
    assert a.matches(b)
    assert not a.matches(c)


def test_node_order_ignored_unless_sorted_was_asked():
    x, y = node("/p/a", 5), node("/p/b", 6)
    one = '{"action":"get","node":{"key":"/p","dir":true,"nodes":[%s,%s],"modifiedIndex":5,"createdIndex":5}}\n'
    assert norm(one % (x, y)).matches(norm(one % (y, x)))
    assert not norm(one % (x, y), "sorted=true").matches(norm(one % (y, x), "sorted=true"))


def test_escaping_field_order_and_newline_still_matter():
    base = norm('{"action":"get","node":{"key":"/p/a","value":"\\u003c","modifiedIndex":5,"createdIndex":5}}\n')
    assert not base.matches(norm('{"action":"get","node":{"key":"/p/a","value":"<","modifiedIndex":5,"createdIndex":5}}\n'))
    assert not base.matches(norm('{"action":"get","node":{"value":"\\u003c","key":"/p/a","modifiedIndex":5,"createdIndex":5}}\n'))
    assert not base.matches(norm('{"action":"get","node":{"key":"/p/a","value":"\\u003c","modifiedIndex":5,"createdIndex":5}}'))
    assert not base.matches(norm('{"action": "get","node":{"key":"/p/a","value":"\\u003c","modifiedIndex":5,"createdIndex":5}}\n'))


def test_ttl_tolerance_and_expiration_checks():
    def with_ttl(ttl, exp_offset=0.0):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(NOW + ttl + exp_offset)) + ".5Z"
        return norm('{"action":"get","node":' + node("/p/t", 5, extra=f'"value":"x","expiration":"{stamp}","ttl":{ttl},') + "}\n")
    assert with_ttl(100).matches(with_ttl(99))
    assert not with_ttl(100).matches(with_ttl(98))
    assert "IMPLAUSIBLE" in with_ttl(100, exp_offset=60).text


def test_in_order_keys_and_causes_share_the_index_symbols():
    a = norm('{"errorCode":101,"message":"Compare failed","cause":"[3 != 9]","index":9}\n', index="9")
    b = norm('{"errorCode":101,"message":"Compare failed","cause":"[30 != 90]","index":90}\n', index="90")
    c = norm('{"errorCode":101,"message":"Compare failed","cause":"[30 != 91]","index":90}\n', index="90")
    assert a.matches(b) and not a.matches(c)
    q = norm('{"action":"create","node":' + node("/p/q/00000000000000000012", 12) + "}\n", index="12")
    r = norm('{"action":"create","node":' + node("/p/q/00000000000000000040", 40) + "}\n", index="40")
    s = norm('{"action":"create","node":' + node("/p/q/00000000000000000041", 40) + "}\n", index="40")
    assert q.matches(r) and not q.matches(s)
