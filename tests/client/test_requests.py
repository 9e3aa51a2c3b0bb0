"""Request building: every expected URL and body below was printed by the real
`ETCDCTL_API=2 etcdctl --debug` 3.4.23 ("cURL Command: ...") for the same operation."""

from __future__ import annotations

import pytest

from trionode.client import requests as rq
from trionode.gocompat import url as gourl

EP = rq.parse_endpoint("http://127.0.0.1:41379")
BASE = "http://127.0.0.1:41379"
FLAGS = "?quorum=false&recursive=false&sorted=false"


@pytest.mark.parametrize("key, path", [
    ("foo", "/v2/keys/foo"),
    ("/", "/v2/keys/"),                       # etcdctl ls
    ("", "/v2/keys"),
    ("a//b/", "/v2/keys/a/b/"),               # cleaned, trailing slash kept
    ("/./a/../b/./", "/v2/keys/b/"),
    ("../..", "/"),                           # cleaned right out of /v2/keys
    ("/sp ace/ü?#%x", "/v2/keys/sp%20ace/%C3%BC%3F%23%25x"),
    ("/x!*()'\"$&+,:;=@[]{}|\\^`<>~._-",
     "/v2/keys/x%21%2A%28%29%27%22$&+,:;=@%5B%5D%7B%7D%7C%5C%5E%60%3C%3E~._-"),
])
def test_keys_paths_are_cleaned_and_escaped_as_go_does(key, path):
    assert rq.keys_get(key).url(EP) == BASE + path + FLAGS


def test_get_always_sends_the_three_flags_sorted():
    action = rq.keys_get("/foo", recursive=True, sorted=True)
    assert action.url(EP) == BASE + "/v2/keys/foo?quorum=false&recursive=true&sorted=true"
    assert (action.method, action.body) == ("GET", None)


def test_set_query_and_form_are_sorted_and_query_escaped():
    action = rq.keys_set("/k", "v", ttl=5, prev_value="x y", prev_index=3)
    assert action.url(EP) == BASE + "/v2/keys/k?prevIndex=3&prevValue=x+y"
    assert action.body == b"ttl=5&value=v"
    assert action.content_type == "application/x-www-form-urlencoded"
    assert rq.keys_set("a//b/", "v v&=+%").body == b"value=v+v%26%3D%2B%25"
    assert rq.keys_set("/dd", "").body == b"value="


def test_dir_writes_send_no_value_and_an_empty_body():
    mkdir = rq.keys_set("/dd", dir=True, prev_exist=False)
    assert mkdir.url(EP) == BASE + "/v2/keys/dd?dir=true&prevExist=false"
    assert mkdir.body == b""                   # etcdctl: -d ""
    updatedir = rq.keys_set("/d", dir=True, prev_exist=True, ttl=9)
    assert updatedir.url(EP) == BASE + "/v2/keys/d?dir=true&prevExist=true"
    assert updatedir.body == b"ttl=9"
    # a prevValue means nothing for a dir, so the Go client drops it
    assert "prevValue" not in rq.keys_set("/d", dir=True, prev_value="x").url(EP)


def test_set_flags_only_when_not_default():
    assert rq.keys_set("/k", "v", ttl=0, prev_value="", prev_index=0).url(EP) == \
        BASE + "/v2/keys/k"
    action = rq.keys_set("/k", "v", refresh=True, ttl=3, no_value_on_success=True)
    assert action.url(EP) == BASE + "/v2/keys/k?noValueOnSuccess=true"
    assert action.body == b"refresh=true&ttl=3&value=v"


def test_create_and_delete_are_one_shot_but_update_and_post_are_not():
    assert rq.keys_set("/k", "v", prev_exist=False).one_shot
    assert rq.keys_delete("/k").one_shot
    assert not rq.keys_set("/k", "v", prev_exist=True).one_shot
    assert not rq.keys_create_in_order("/q", "v").one_shot


def test_create_in_order_posts_a_form():
    action = rq.keys_create_in_order("/q", "v", ttl=9)
    assert (action.method, action.url(EP), action.body) == \
        ("POST", BASE + "/v2/keys/q", b"ttl=9&value=v")


def test_delete_params_and_no_body():
    action = rq.keys_delete("/k", prev_value="x y", prev_index=3, recursive=True, dir=True)
    assert action.url(EP) == \
        BASE + "/v2/keys/k?dir=true&prevIndex=3&prevValue=x+y&recursive=true"
    assert (action.method, action.body) == ("DELETE", None)
    assert rq.keys_delete("/dd", dir=True).url(EP) == BASE + "/v2/keys/dd?dir=true"


def test_wait_is_a_long_poll():
    action = rq.keys_wait("/q", recursive=True, wait_index=3)
    assert action.url(EP) == BASE + "/v2/keys/q?recursive=true&wait=true&waitIndex=3"
    assert action.wait and not rq.keys_get("/q").wait


def test_members_requests():
    assert rq.members_list().url(EP) == BASE + "/v2/members"
    assert rq.members_leader().url(EP) == BASE + "/v2/members/leader"
    assert rq.members_remove("deadbeef").url(EP) == BASE + "/v2/members/deadbeef"
    add = rq.members_add("http://127.0.0.1:41390")
    assert (add.method, add.body, add.content_type) == \
        ("POST", b'{"peerURLs":["http://127.0.0.1:41390"]}', "application/json")
    update = rq.members_update("deadbeef", ["http://b:2", "HTTP://a:1"])
    assert update.url(EP) == BASE + "/v2/members/deadbeef"
    assert update.body == b'{"peerURLs":["http://a:1","http://b:2"]}'   # sorted


@pytest.mark.parametrize("url, message", [
    ("notaurl", "URL scheme must be http, https, unix, or unixs: notaurl"),
    ("http://h", 'URL address does not have the form "host:port": http://h'),
    ("http://h:1/p", "URL must not contain a path: http://h:1/p"),
])
def test_peer_urls_are_checked_with_go_messages(url, message):
    with pytest.raises(ValueError) as info:
        rq.members_add(url)
    assert str(info.value) == message


def test_version_uses_the_get_flags_like_the_go_client():
    assert rq.version().url(EP) == BASE + "/version" + FLAGS


@pytest.mark.parametrize("text, url", [
    ("127.0.0.1:2379", "http://127.0.0.1:2379"),
    ("http://localhost:4001", "http://localhost:4001"),
    ("http://[::1]:2379", "http://[::1]:2379"),
    (" http://h:1/base ", "http://h:1/base"),
    ("https://127.0.0.1:2379", "https://127.0.0.1:2379"),
    ("HTTPS://[::1]:2379", "https://[::1]:2379"),
])
def test_endpoints(text, url):
    assert rq.parse_endpoint(text).url == url


def test_https_endpoints_keep_their_scheme_in_every_url():
    ep = rq.parse_endpoint("https://[::1]:2379")
    assert (ep.scheme, ep.host, ep.port, ep.secure) == ("https", "::1", 2379, True)
    assert rq.keys_get("/k").url(ep) == "https://[::1]:2379/v2/keys/k" + FLAGS
    assert rq.members_list().url(ep) == "https://[::1]:2379/v2/members"
    assert rq.parse_endpoint("https://h").port == 443
    assert rq.parse_endpoint("http://h").port == 80
    assert not rq.parse_endpoint("h:1").secure


def test_an_endpoint_path_prefixes_every_request():
    ep = rq.parse_endpoint("http://h:1/base")
    assert rq.keys_get("/k").url(ep) == "http://h:1/base/v2/keys/k" + FLAGS
    assert rq.members_list().url(ep) == "http://h:1/base/v2/members"


@pytest.mark.parametrize("text", ["ftp://h:1", "http://h:x", "https://:1", "unix://s"])
def test_bad_endpoints_are_refused(text):
    with pytest.raises(ValueError):
        rq.parse_endpoint(text)


def test_clean_path_matches_go_path_clean():
    assert gourl.clean_path("/a/b/../../..") == "/"
    assert gourl.clean_path("//a//./b/") == "/a/b"
    assert gourl.clean_keep_slash("") == "/"
    assert gourl.clean_keep_slash("/a//") == "/a/"
