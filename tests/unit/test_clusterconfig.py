"""ClusterConfig: 0.4's JSON, its PUT semantics and minimums (v2-spec §5.2 items 1-2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trionode.membership.clusterconfig import ClusterConfig, ClusterConfigError

DEFAULT = '{"activeSize":9,"removeDelay":1800,"syncInterval":5}'


def test_defaults_print_as_the_tutorial_shows() -> None:
    assert ClusterConfig().to_json() == DEFAULT


def test_non_integral_delays_keep_their_fraction() -> None:
    assert ClusterConfig(5, 2.5, 1.25).to_json() == '{"activeSize":5,"removeDelay":2.5,"syncInterval":1.25}'


@pytest.mark.parametrize(("body", "expected"), [
    (DEFAULT, (9, 1800, 5)),  # the tutorial's PUT
    ('{"activeSize":5}', (5, 1800, 5)),
    ('{"removeDelay":60,"syncInterval":2}', (9, 60, 2)),
    ('{"activeSize":1,"removeDelay":0.5,"syncInterval":0}', (3, 2, 1)),  # raised to the minimums
    ('{"activeSize":-7,"removeDelay":-1,"syncInterval":-1}', (3, 2, 1)),
    ('{"activeSize":7.9}', (7, 1800, 5)),  # Go's int(float64) truncates
    ('{"activeSize":1e30}', (3, 1800, 5)),  # out of int64: Go gives the minimum int
    ('{"activeSize":"12","removeDelay":true,"syncInterval":null}', (9, 1800, 5)),  # not numbers
    ('{"other":1,"activesize":4}', (9, 1800, 5)),  # unknown keys, and keys are exact
    ('{}', (9, 1800, 5)),
    ('null', (9, 1800, 5)),
    ('  {"activeSize":4} and then anything', (4, 1800, 5)),  # only the first value is read
])
def test_put_semantics(body: str, expected: tuple[int, float, float]) -> None:
    assert ClusterConfig().updated(body.encode()) == ClusterConfig(*expected)


def test_update_starts_from_the_current_config() -> None:
    current = ClusterConfig(4, 100, 3)
    assert current.updated(b'{"syncInterval":7}') == ClusterConfig(4, 100, 7)


@pytest.mark.parametrize(("body", "message"), [
    ("", "EOF"),
    ("   \n", "EOF"),
    ("{", "unexpected EOF"),
    ('{"activeSize":', "unexpected EOF"),
    ("x", "invalid character 'x' looking for beginning of value"),
    ("NaN", "invalid character 'N' looking for beginning of value"),
    ("{,}", "invalid character ',' looking for beginning of object key string"),
    ('{"a" 1}', "invalid character '1' after object key"),
    ('{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
    ("[1]", "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ("5", "json: cannot unmarshal number into Go value of type map[string]interface {}"),
    ('"s"', "json: cannot unmarshal string into Go value of type map[string]interface {}"),
    ("true", "json: cannot unmarshal bool into Go value of type map[string]interface {}"),
    ('{"removeDelay":1e400}', "json: cannot unmarshal number 1e400 into Go value of type float64"),
])
def test_bad_bodies_raise_gos_message(body: str, message: str) -> None:
    with pytest.raises(ClusterConfigError) as info:
        ClusterConfig().updated(body.encode())
    assert str(info.value) == message


@pytest.mark.parametrize("text", [None, "", "garbage", "[1,2]", '{"activeSize":"x"}'])
def test_from_json_is_lenient(text: str | None) -> None:
    assert ClusterConfig.from_json(text) == ClusterConfig()


def test_from_json_reads_what_to_json_wrote_and_clamps() -> None:
    assert ClusterConfig.from_json('{"activeSize":4,"removeDelay":30,"syncInterval":1.5}') == ClusterConfig(4, 30, 1.5)
    assert ClusterConfig.from_json('{"activeSize":1}') == ClusterConfig(3, 1800, 5)


@given(st.integers(3, 10**6), st.floats(2, 1e12), st.floats(1, 1e12))
def test_round_trip(active: int, remove: float, sync: float) -> None:
    config = ClusterConfig(active, remove, sync)
    assert ClusterConfig.from_json(config.to_json()) == config


@given(st.binary(max_size=64))
def test_any_body_updates_or_raises_the_one_error_type(body: bytes) -> None:
    try:
        config = ClusterConfig().updated(body)
    except ClusterConfigError:
        return
    assert config.active_size >= 3 and config.remove_delay >= 2 and config.sync_interval >= 1
