"""/v2/keys request sequences (v2-spec §1 and §3), compared with a real etcd 3.4.

Each entry of SEQUENCES is one test: a name and the steps. `{p}` is the test's own key
prefix; `{m0}`/`{c0}`/`{x0}`/`{k0}` are the modifiedIndex / createdIndex / X-Etcd-Index /
node key of step 0's response on that same server (see harness.Req). Adding a case is one
line.
"""

from __future__ import annotations

import json

import pytest

from .steps import Req, delete, get, post, put, req

pytestmark = pytest.mark.compat

JSON_CT = (("Content-Type", "application/json"),)
TEXT_CT = (("Content-Type", "text/plain"),)

SEQUENCES: dict[str, list] = {
    # ---- GET (§1.4)
    "get_file": [put("{p}/a", "value=hello"), get("{p}/a")],
    "get_missing": [get("{p}/nokey")],
    "get_missing_parent_cause": [put("{p}/d/x", "value=1"), delete("{p}/d?recursive=true"),
                                 get("{p}/d/y/z")],
    "get_through_file": [put("{p}/f", "value=1"), get("{p}/f/x"), get("{p}/f/x/y")],
    "get_dir": [put("{p}/d/a", "value=1"), put("{p}/d/b", "value=2"),
                put("{p}/d/sub/c", "value=3"), get("{p}/d")],
    "get_dir_recursive": [put("{p}/d/a", "value=1"), put("{p}/d/sub/c", "value=3"),
                          put("{p}/d/sub/e?dir=true"), get("{p}/d?recursive=true")],
    "get_sorted": [put("{p}/d/b", "value=1"), put("{p}/d/a", "value=2"),
                   put("{p}/d/c", "value=3"), put("{p}/d/s/z", "value=4"),
                   put("{p}/d/s/y", "value=5"), put("{p}/d/B", "value=6"),
                   get("{p}/d?sorted=true"), get("{p}/d?sorted=true&recursive=true"),
                   get("{p}/d?sorted=1&recursive=T")],
    "get_empty_dir": [put("{p}/e?dir=true"), get("{p}/e"), get("{p}/e?recursive=true")],
    "get_root": [put("{p}/x", "value=1"), get("", only_prefix=True),
                 get("/", only_prefix=True), get("/?recursive=true", only_prefix=True)],
    "get_hidden": [put("{p}/h/_secret", "value=s"), put("{p}/h/vis", "value=v"),
                   put("{p}/h/_hd/x", "value=x"), put("{p}/h/sub/_y", "value=y"),
                   get("{p}/h"), get("{p}/h?recursive=true"), get("{p}/h/_secret"),
                   get("{p}/h/_hd"), get("{p}/h/_hd?recursive=true")],
    "get_only_hidden_children": [put("{p}/oh/_a", "value=1"), get("{p}/oh"),
                                 get("{p}/oh?recursive=true")],
    "get_trailing_slash": [put("{p}/a/", "value=1"), get("{p}/a/"), get("{p}/a")],
    "get_percent_encoded_key": [put("{p}/a%2Fb", "value=1"), get("{p}/a/b"),
                                put("{p}/sp%20ace", "value=2"), get("{p}/sp%20ace"),
                                put("{p}/k%C3%A9y+plus", "value=3"), get("{p}?sorted=true")],
    "get_case_sensitive_key": [put("{p}/Key", "value=1"), get("{p}/key"), get("{p}/Key")],
    "get_quorum": [put("{p}/a", "value=1"), get("{p}/a?quorum=true"),
                   get("{p}/nokey?quorum=true")],
    "value_escaping": [put("{p}/a", "value=%3Cb%3E%26%22q%22%5C%E2%80%A8%E2%80%A9%01%1F%7F"
                                    "%C3%A9%F0%9F%98%80%0A%09%0D"),
                       put("{p}/bad", "value=%FF%FEok"), get("{p}/a"), get("{p}/bad")],
    "head": [put("{p}/a", "value=hello"), req("HEAD", "/v2/keys{p}/a"),
             req("HEAD", "/v2/keys{p}/nokey"), req("HEAD", "/v2/keys{p}?recursive=true")],

    # ---- set (§1.5)
    "set_new_then_replace": [put("{p}/a", "value=one"), put("{p}/a", "value=two"),
                             get("{p}/a")],
    "set_without_value": [put("{p}/a"), put("{p}/b", "other=1"), get("{p}?sorted=true")],
    "set_value_in_query": [put("{p}/a?value=fromquery", ""), get("{p}/a")],
    "set_dir": [put("{p}/d?dir=true"), put("{p}/d?dir=true"), put("{p}/d", "value=x"),
                get("{p}/d")],
    "set_dir_ignores_value": [put("{p}/d?dir=true", "value=ignored"), get("{p}/d")],
    "set_dir_over_file": [put("{p}/f", "value=1"), put("{p}/f?dir=true"), get("{p}/f")],
    "set_through_file": [put("{p}/f", "value=1"), put("{p}/f/x", "value=2"),
                         post("{p}/f", "value=3")],
    "set_root_read_only": [put("/", "value=x"), put("", "value=x"), put("/?dir=true")],
    "set_ttl": [put("{p}/t", "value=x&ttl=100"), get("{p}/t"), put("{p}/t", "value=y"),
                get("{p}/t")],
    "set_ttl_empty_means_none": [put("{p}/t", "value=x&ttl="), get("{p}/t")],
    "set_ttl_bad": [put("{p}/t", "value=x&ttl=abc"), put("{p}/t", "value=x&ttl=-1"),
                    put("{p}/t", "value=x&ttl=1.5"), put("{p}/t", "value=x&ttl=+5"),
                    put("{p}/t", "value=x&ttl=%20")],
    "set_prevnode_with_ttl": [put("{p}/t", "value=x&ttl=100"), put("{p}/t", "value=y&ttl=50"),
                              delete("{p}/t")],
    "set_dir_with_ttl": [put("{p}/d?dir=true", "ttl=100"), get("{p}/d"),
                         put("{p}/d/c", "value=1"), get("{p}/d?recursive=true")],

    # ---- create (prevExist=false)
    "create": [put("{p}/a?prevExist=false", "value=1"), put("{p}/a?prevExist=false", "value=2"),
               get("{p}/a")],
    "create_dir": [put("{p}/d?prevExist=false&dir=true"), put("{p}/d?prevExist=false&dir=true")],
    "create_ignores_prev_value": [put("{p}/a?prevExist=false&prevValue=zz&prevIndex=9",
                                      "value=1")],

    # ---- update (prevExist=true)
    "update_missing": [put("{p}/a?prevExist=true", "value=1")],
    "update_clears_ttl": [put("{p}/a", "value=1&ttl=100"), put("{p}/a?prevExist=true", "value=2"),
                          get("{p}/a"), put("{p}/a?prevExist=true", "value=3&ttl=100"),
                          put("{p}/a?prevExist=true", "value=4&ttl="), get("{p}/a")],
    "update_without_value": [put("{p}/a", "value=1"), put("{p}/a?prevExist=true"),
                             get("{p}/a")],
    "update_dir_ttl": [put("{p}/d?dir=true", "ttl=100"), put("{p}/d?dir=true&prevExist=true",
                                                             "ttl=200"),
                       get("{p}/d"), put("{p}/d?prevExist=true", "value=x"),
                       put("{p}/d?prevExist=true", "ttl=")],
    "update_dir_flag_on_file_gh518": [put("{p}/f", "value=keep"),
                                      put("{p}/f?dir=true&prevExist=true"), get("{p}/f")],
    "prev_exist_bad": [put("{p}/a?prevExist=maybe", "value=1"), put("{p}/a?prevExist=", "value=1")],

    # ---- compareAndSwap
    "cas_value": [put("{p}/a", "value=one"), put("{p}/a?prevValue=one", "value=two"),
                  put("{p}/a?prevValue=one", "value=three"), get("{p}/a")],
    "cas_index": [put("{p}/a", "value=one"), put("{p}/a?prevIndex={m0}", "value=two"),
                  put("{p}/a?prevIndex={m0}", "value=three"), get("{p}/a")],
    "cas_both_fail": [put("{p}/a", "value=one"), put("{p}/a?prevValue=two&prevIndex=1", "value=x"),
                      put("{p}/a?prevValue=one&prevIndex=1", "value=x"),
                      put("{p}/a?prevValue=two&prevIndex={m0}", "value=x")],
    "cas_empty_current": [put("{p}/a", "value="), put("{p}/a?prevValue=four", "value=x")],
    "cas_missing_and_dir": [put("{p}/a?prevValue=x", "value=1"), put("{p}/d?dir=true"),
                            put("{p}/d?prevValue=x", "value=1"), put("{p}/d?prevIndex=1", "")],
    "cas_with_prev_exist_true": [put("{p}/a", "value=one"),
                                 put("{p}/a?prevExist=true&prevValue=one", "value=two"),
                                 put("{p}/a?prevExist=true&prevIndex={m1}", "value=three")],
    "cas_ttl": [put("{p}/a", "value=one&ttl=100"), put("{p}/a?prevValue=one", "value=two"),
                put("{p}/a?prevValue=two", "value=three&ttl=100"), get("{p}/a")],
    "prev_index_zero_is_set": [put("{p}/a", "value=one"), put("{p}/a?prevIndex=0", "value=two")],
    "prev_value_empty": [put("{p}/a", "value=one"), put("{p}/a?prevValue=", "value=two")],
    "prev_index_bad": [put("{p}/a?prevIndex=abc", "value=1"), put("{p}/a?prevIndex=-1", "value=1"),
                       delete("{p}/a?prevIndex=x1")],

    # ---- delete / compareAndDelete (§1.6)
    "delete_file": [put("{p}/a", "value=1"), delete("{p}/a"), get("{p}/a"), delete("{p}/a")],
    "delete_dirs": [put("{p}/d/x", "value=1"), put("{p}/e?dir=true"), put("{p}/f", "value=1"),
                    delete("{p}/d"), delete("{p}/d?dir=true"), delete("{p}/e?dir=true"),
                    delete("{p}/f?dir=true"), delete("{p}/d?recursive=true"), get("{p}/d"),
                    get("{p}")],
    "delete_last_child_keeps_dir": [put("{p}/d/x", "value=1"), delete("{p}/d/x"), get("{p}/d")],
    "cad_value": [put("{p}/a", "value=one"), delete("{p}/a?prevValue=two"),
                  delete("{p}/a?prevValue=one"), delete("{p}/a?prevValue=one")],
    "cad_index": [put("{p}/a", "value=one"), delete("{p}/a?prevIndex=1"),
                  delete("{p}/a?prevIndex={m0}&prevValue=nope"), delete("{p}/a?prevIndex={m0}")],
    "cad_dir_and_zero_index": [put("{p}/d?dir=true"), delete("{p}/d?prevValue=x"),
                               put("{p}/a", "value=1"), delete("{p}/a?prevIndex=0")],
    "delete_root": [delete("/"), delete(""), delete("/?recursive=true"),
                    delete("/?prevValue=x")],
    "delete_body_ignored": [put("{p}/a", "value=one"),
                            Req("DELETE", "/v2/keys{p}/a", "prevValue=nope",
                                (("Content-Type", "application/x-www-form-urlencoded"),)),
                            get("{p}/a")],
    "delete_with_ttl_prevnode": [put("{p}/a", "value=1&ttl=100"), delete("{p}/a")],

    # ---- POST in-order keys
    "post_in_order": [post("{p}/q", "value=a"), post("{p}/q", "value=b"),
                      get("{p}/q?sorted=true"), get("{k0}"), delete("{k1}")],
    "post_dir_ttl_and_flags": [post("{p}/q?dir=true"), post("{p}/q", "value=t&ttl=100"),
                               post("{p}/q?prevExist=true", "value=p"),
                               get("{p}/q?sorted=true&recursive=true")],
    "post_on_file": [put("{p}/f", "value=1"), post("{p}/f", "value=2")],

    # ---- refresh (§1.5.7) and noValueOnSuccess (§1.5.8)
    "refresh": [put("{p}/a", "value=keep&ttl=100"),
                put("{p}/a?refresh=true&prevExist=true", "ttl=200"), get("{p}/a"),
                put("{p}/a?refresh=true", "ttl=300"), get("{p}/a"),
                put("{p}/a?refresh=true&prevValue=keep", "ttl=50")],
    "refresh_errors": [put("{p}/a", "value=keep&ttl=100"), put("{p}/a?refresh=true"),
                       put("{p}/a?refresh=true", "ttl=10&value=new"),
                       put("{p}/nokey?refresh=true", "ttl=10"),
                       put("{p}/a?refresh=nah", "ttl=10"), get("{p}/a")],
    "no_value_on_success": [put("{p}/a?noValueOnSuccess=true", "value=1"),
                            put("{p}/b?noValueOnSuccess=true&prevExist=false", "value=1"),
                            put("{p}/a?noValueOnSuccess=true&prevExist=true", "value=2"),
                            put("{p}/a?noValueOnSuccess=true&prevValue=2", "value=3"),
                            put("{p}/a?noValueOnSuccess=true&prevValue=zz", "value=3"),
                            get("{p}/a?noValueOnSuccess=true"),
                            delete("{p}/a?noValueOnSuccess=true"),
                            put("{p}/a?noValueOnSuccess=x", "value=1")],

    # ---- parameters (§1.2)
    "bad_booleans": [get("{p}?recursive=yes"), get("{p}?sorted=2"), get("{p}?wait=x"),
                     get("{p}?quorum=on"), get("{p}?stream=nope"), put("{p}/a?dir=maybe"),
                     get("{p}?recursive=TRUE"), delete("{p}/x?recursive=tRuE")],
    "wait_only_on_get": [put("{p}/a?wait=true", "value=1"), delete("{p}/a?wait=true")],
    "validation_order": [put("{p}/a?prevIndex=x&waitIndex=y&recursive=z", "value=%zz"),
                         put("{p}/a?prevIndex=x&waitIndex=y&recursive=z", "value=1"),
                         put("{p}/a?waitIndex=y&recursive=z", "value=1"),
                         put("{p}/a?recursive=z&wait=true", "value=1"),
                         put("{p}/a?wait=true&prevValue=", "value=1"),
                         put("{p}/a?prevValue=&noValueOnSuccess=x", "value=1"),
                         put("{p}/a?noValueOnSuccess=x&ttl=z", "value=1"),
                         put("{p}/a?ttl=z&prevExist=q", "value=1"),
                         put("{p}/a?prevExist=q&refresh=q", "value=1")],
    "bad_percent_escapes": [put("{p}/a", "value=%zz"), put("{p}/a?value=%zz"),
                            put("{p}/a", "value=%4"), get("{p}/a?recursive=%zz"),
                            get("{p}/%zz"), get("{p}/a")],
    "other_content_types": [put("{p}/j", '{"value":"x"}', headers=JSON_CT),
                            put("{p}/t", "value=x", headers=TEXT_CT),
                            put("{p}/n", "value=x", headers=()),
                            put("{p}/q?value=fromquery", "value=x", headers=JSON_CT),
                            get("{p}?sorted=true")],
    "repeated_params": [put("{p}/a?value=q1&value=q2"), put("{p}/b", "value=b1&value=b2"),
                        put("{p}/c?prevExist=false&prevExist=true", "value=1"),
                        get("{p}?sorted=true")],
    "body_beats_query": [put("{p}/a?value=query", "value=body"),
                         put("{p}/b?ttl=abc", "value=x&ttl=100"),
                         put("{p}/c?ttl=100", "value=x"), get("{p}?sorted=true")],
    "param_names_case_sensitive": [put("{p}/a", "Value=x&TTL=5"), get("{p}/a?Recursive=zz"),
                                   get("{p}/a")],
    "unknown_params_ignored": [put("{p}/a?consistent=true&foo=bar", "value=1&zap=2"),
                               get("{p}/a?consistent=true")],

    # ---- paths and methods (§1.1)
    "redirect_unclean_paths": [get("{p}//a"), get("{p}/./a?recursive=true"),
                               get("{p}/x/../a"), Req("GET", "/v2/keys/.."),
                               put("{p}//a", "value=1"), delete("{p}//a")],
    "methods": [Req("PATCH", "/v2/keys{p}/a"), Req("OPTIONS", "/v2/keys{p}/a"),
                Req("TRACE", "/v2/keys{p}/a"), Req("OPTIONS", "/v2/keys/"),
                Req("GET", "/v2/keys{p}/a", headers=(("Origin", "http://example.com"),))],

    # ---- other endpoints (§4)
    "version": [req("GET", "/version", shape=True), req("PUT", "/version", shape=True)],
    "health": [req("GET", "/health")],
    "stats_store": [req("GET", "/v2/stats/store", shape=True)],
    "stats_self": [req("GET", "/v2/stats/self", shape=True),
                   req("PUT", "/v2/stats/self", shape=True)],
    "stats_leader": [req("GET", "/v2/stats/leader", shape=True)],
    "members": [req("GET", "/v2/members", shape=True),
                req("GET", "/v2/members/leader", shape=True),
                req("GET", "/v2/members/nope", shape=True),
                req("DELETE", "/v2/members/zzz", shape=True),
                req("DELETE", "/v2/members", shape=True),
                req("POST", "/v2/members", '{"peerURLs":["notaurl"]}', shape=True,
                    headers=JSON_CT),
                req("POST", "/v2/members", "peerURLs=x", shape=True,
                    headers=(("Content-Type", "application/x-www-form-urlencoded"),))],
    "machines": [req("GET", "/v2/machines"), req("HEAD", "/v2/machines"),
                 req("POST", "/v2/machines")],
    # /v2/leader and /v2/peers are 0.4's (404 in 3.4): tests/system/test_membership.py
    "unknown_paths": [req("GET", "/nope"), req("GET", "/v2/admin/config"), req("GET", "/v2"),
                      req("GET", "/v1/keys/a"), req("GET", "/v2/keysx")],
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_sequence(name, compare):
    ref_results, _ = compare(SEQUENCES[name])
    for res in ref_results:
        code = _error_code(res)
        if code is not None:
            SEEN_CODES.add(code)


SEEN_CODES: set[int] = set()
REQUIRED_CODES = {100, 101, 102, 104, 105, 107, 108, 201, 202, 203, 209, 210, 211, 212}


def _error_code(res):
    try:
        for line in res.body.splitlines():
            doc = json.loads(line)
            if isinstance(doc, dict) and "errorCode" in doc:
                return doc["errorCode"]
    except (AttributeError, ValueError):
        pass
    return None


def test_every_error_code_was_exercised():
    """Runs after the sequences: proves the data above reaches each code on etcd itself
    (401 lives in test_watch.py)."""
    if len(SEEN_CODES) < 3:
        pytest.skip("run together with test_sequence")
    assert REQUIRED_CODES <= SEEN_CODES, f"never reached: {sorted(REQUIRED_CODES - SEEN_CODES)}"
