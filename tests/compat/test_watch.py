"""Watches (v2-spec §2), TTL expiry (§1.9) and the 1000-event history, side by side.

A Watch step starts the GET in the background and waits until its headers are back (the
watcher is registered by then); later steps write; Collect waits for the watch's body.
"""

from __future__ import annotations

import json

import pytest

from .steps import Bulk, Collect, Sleep, Watch, delete, get, post, put

pytestmark = pytest.mark.compat

W = "/v2/keys{p}"

SEQUENCES: dict[str, list] = {
    "watch_fired_by_later_write": [Watch("w", W + "/a?wait=true"), put("{p}/a", "value=1"),
                                   Collect("w")],
    "watch_missing_key_then_create": [Watch("w", W + "/new/deep?wait=true"),
                                      put("{p}/new/deep?prevExist=false", "value=1"),
                                      Collect("w")],
    "watch_from_history": [put("{p}/a", "value=1"), put("{p}/a", "value=2"),
                           put("{p}/a", "value=3"), get("{p}/a?wait=true&waitIndex={m1}"),
                           get("{p}/a?wait=true&waitIndex={m0}")],
    "watch_history_other_key_skipped": [put("{p}/b", "value=1"), put("{p}/a", "value=2"),
                                        get("{p}/a?wait=true&waitIndex={m0}")],
    "watch_future_index": [put("{p}/a", "value=0"), Watch("w", W + "/a?wait=true&waitIndex={x0+2}"),
                           put("{p}/a", "value=1"), put("{p}/a", "value=2"), Collect("w")],
    "watch_recursive": [Watch("w", W + "/d?wait=true&recursive=true"),
                        put("{p}/d/x/y", "value=1"), Collect("w")],
    "watch_dir_nonrecursive_ignores_children": [
        put("{p}/d/x", "value=0"), Watch("w", W + "/d?wait=true"), put("{p}/d/x", "value=1"),
        delete("{p}/d?recursive=true"), Collect("w")],
    "watch_hidden_not_delivered": [Watch("w", W + "/d?wait=true&recursive=true"),
                                   put("{p}/d/_h", "value=secret"), put("{p}/d/_hd/x", "value=s"),
                                   put("{p}/d/v", "value=visible"), Collect("w")],
    "watch_hidden_own_path": [Watch("w", W + "/d/_h?wait=true"), put("{p}/d/_h", "value=1"),
                              Collect("w")],
    "watch_hidden_history_quirk": [put("{p}/d/_h", "value=1"),
                                   get("{p}/d?wait=true&recursive=true&waitIndex={m0}")],
    "watch_delete": [put("{p}/a", "value=1"), Watch("w", W + "/a?wait=true"), delete("{p}/a"),
                     Collect("w")],
    "watch_compare_and_delete": [put("{p}/a", "value=1"), Watch("w", W + "/a?wait=true"),
                                 delete("{p}/a?prevValue=1"), Collect("w")],
    "watch_child_sees_dir_delete": [put("{p}/d/x", "value=1"), Watch("w", W + "/d/x?wait=true"),
                                    Watch("r", W + "/d/x?wait=true&recursive=true"),
                                    delete("{p}/d?recursive=true"), Collect("w"), Collect("r")],
    "watch_all_actions_stream": [
        Watch("s", W + "?wait=true&recursive=true&stream=true", lines=7),
        put("{p}/a?prevExist=false", "value=1"), put("{p}/a?prevExist=true", "value=2"),
        put("{p}/a?prevValue=2", "value=3"), delete("{p}/a?prevIndex={m3}"),
        put("{p}/b", "value=1"), post("{p}/q", "value=1"), delete("{p}/b"), Collect("s")],
    "watch_refresh_not_delivered": [put("{p}/a", "value=1&ttl=100"),
                                    Watch("w", W + "/a?wait=true"),
                                    put("{p}/a?refresh=true&prevExist=true", "ttl=200"),
                                    put("{p}/a?prevExist=true", "value=2"), Collect("w"),
                                    get("{p}/a?wait=true&waitIndex={m2}")],
    "watch_bad_params": [get("{p}/a?wait=true&waitIndex=abc"), get("{p}/a?wait=true&waitIndex=-1"),
                         get("{p}/a?wait=maybe"), get("{p}/a?wait=true&stream=x")],
    "watch_wait_false_is_get": [put("{p}/a", "value=1"), get("{p}/a?wait=false&waitIndex=1")],
    "ttl_zero_expires_on_next_sweep": [put("{p}/z", "value=x&ttl=0"), Sleep(1.5),
                                       get("{p}/z")],
    "ttl_expiry_and_expire_event": [
        put("{p}/t", "value=x&ttl=1"), Watch("w", W + "/t?wait=true"),
        Watch("r", W + "?wait=true&recursive=true"), Sleep(2.5), get("{p}/t"), Collect("w"),
        Collect("r"), get("{p}/t?wait=true&waitIndex={m0+1}")],
    "ttl_dir_expiry": [put("{p}/d?dir=true", "ttl=1"), put("{p}/d/c", "value=1"),
                       Watch("w", W + "/d/c?wait=true"), Sleep(2.5), get("{p}/d"),
                       get("{p}"), Collect("w")],
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_watch_sequence(name, compare):
    compare(SEQUENCES[name])


@pytest.mark.slow
def test_wait_index_outdated_401(compare):
    """SLOWER (about 1100 writes per server): history keeps the last 1000 events.

    Besides the symbolic comparison, check on each server that the cause's oldest kept
    index is current - 999 and the asked one is echoed.
    """
    steps = [put("{p}/a", "value=first"), Bulk(1005, "/v2/keys{p}/filler"),
             get("{p}/a?wait=true&waitIndex={m0}"),
             get("{p}/filler?wait=true&waitIndex={x2-999}"),
             get("{p}/filler?wait=true&waitIndex={x2-1000}")]
    ref_results, tgt_results = compare(steps)
    for results in (ref_results, tgt_results):
        err = json.loads(results[2].body)
        assert err["errorCode"] == 401, err
        asked = int(results[0].header("X-Etcd-Index"))
        assert err["cause"] == f"the requested history has been cleared " \
                               f"[{err['index'] - 999}/{asked}]", err
