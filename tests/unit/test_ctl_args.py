"""trionodectl's command line: Go flag syntax, urfave/cli v1.22 reordering, Go values.

The expected argument lists of the exec-watch and ls cases were read off the real
etcdctl 3.4.23 (`--debug` shows which key it watches or lists).
"""

from __future__ import annotations

import pytest

from trionode.ctl.args import (
    COMMAND_FLAGS,
    DEFAULT_ENDPOINTS,
    GLOBAL_FLAGS,
    HelpRequested,
    UsageError,
    endpoints_from,
    global_options,
    parse_command_flags,
    parse_flags,
    reorder,
)
from trionode.ctl.watch import exec_watch_target
from trionode.gocompat.parse import GoSyntaxError, endpoint_url, parse_bool, parse_duration, parse_int, quote


def command(name: str, *args: str):
    return parse_command_flags(name, COMMAND_FLAGS[name], args)


# ---------------------------------------------------------------- Go values

@pytest.mark.parametrize("text, value", [
    ("0", 0), ("10", 10), ("-5", -5), ("+3", 3), ("0x10", 16), ("0X1f", 31), ("010", 8),
    ("0o17", 15), ("0b101", 5), ("1_000", 1000), ("0_7", 7),
    ("-9223372036854775808", -(1 << 63)),
])
def test_parse_int_accepts_go_literals(text, value):
    assert parse_int(text) == value


@pytest.mark.parametrize("text, error", [
    ("", "parse error"), ("abc", "parse error"), (" 5", "parse error"), ("5 ", "parse error"),
    ("1__0", "parse error"), ("08", "parse error"), ("٣", "parse error"),
    ("9223372036854775808", "value out of range"),
])
def test_parse_int_refuses_what_go_refuses(text, error):
    with pytest.raises(GoSyntaxError, match=error):
        parse_int(text)


@pytest.mark.parametrize("text, seconds", [
    ("2s", 2.0), ("500ms", 0.5), ("1m30s", 90.0), ("1.5h", 5400.0), ("0", 0.0),
    ("-1s", -1.0), (".5s", 0.5), ("1.s", 1.0), ("100us", 1e-4), ("100µs", 1e-4), ("3ns", 3e-9),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, error", [
    ("5", 'time: missing unit in duration "5"'),
    ("5x", 'time: unknown unit "x" in duration "5x"'),
    ("", 'time: invalid duration ""'),
    ("s", 'time: invalid duration "s"'),
])
def test_parse_duration_errors(text, error):
    with pytest.raises(GoSyntaxError) as info:
        parse_duration(text)
    assert str(info.value) == error


def test_parse_bool_is_strconv():
    for text in ("1", "t", "T", "TRUE", "true", "True"):
        assert parse_bool(text) is True
    for text in ("0", "f", "F", "FALSE", "false", "False"):
        assert parse_bool(text) is False
    with pytest.raises(GoSyntaxError):
        parse_bool("yes")


def test_quote_is_strconv_quote():
    assert quote('value=x+y%22%26') == '"value=x+y%22%26"'
    assert quote('{"peerURLs":["http://a:1"]}') == '"{\\"peerURLs\\":[\\"http://a:1\\"]}"'
    assert quote("a\\b\n\t\x01\x7f é") == '"a\\\\b\\n\\t\\x01\\x7f é"'
    assert quote("\udcff") == '"\\xff"'           # a raw byte from surrogateescape


@pytest.mark.parametrize("text, url", [
    ("http://127.0.0.1:2379", "http://127.0.0.1:2379"),
    ("HTTP://h:1", "http://h:1"),
    ("//127.0.0.1:2379", "http://127.0.0.1:2379"),
    ("localhost:2379", "localhost:2379"),          # scheme "localhost", as Go parses it
    ("h", "http://h"),
])
def test_endpoint_url(text, url):
    assert endpoint_url(text) == url


def test_endpoint_url_errors_are_go_texts():
    with pytest.raises(GoSyntaxError) as info:
        endpoint_url("127.0.0.1:2379")
    assert str(info.value) == ('parse "127.0.0.1:2379": '
                               'first path segment in URL cannot contain colon')
    with pytest.raises(GoSyntaxError, match="missing protocol scheme"):
        endpoint_url(":1")


# ---------------------------------------------------------------- Go flag parsing

def test_global_flags_stop_at_the_command():
    parsed = parse_flags(GLOBAL_FLAGS, ["--debug", "-o", "json", "--timeout=3s", "get", "/a",
                                        "--no-sync"])
    assert parsed.args == ("get", "/a", "--no-sync")
    assert parsed.values["debug"] is True and parsed.values["no-sync"] is False
    assert parsed.values["output"] == "json" and parsed.values["timeout"] == 3.0


def test_single_and_double_dashes_and_equals():
    parsed = parse_flags(GLOBAL_FLAGS, ["-output=extended", "--no-sync=true", "-debug=0", "ls"])
    assert parsed.values["output"] == "extended"
    assert parsed.values["no-sync"] is True and parsed.values["debug"] is False


@pytest.mark.parametrize("argv, message", [
    (["--bogus", "get"], "flag provided but not defined: -bogus"),
    (["-o"], "flag needs an argument: -o"),
    (["---x"], "bad flag syntax: ---x"),
    (["-=x"], "bad flag syntax: -=x"),
    (["--timeout", "5", "get"], 'invalid value "5" for flag -timeout: time: missing unit'),
    (["--debug=maybe"], 'invalid boolean value "maybe" for flag -debug: parse error'),
    (["-o", "json", "--output", "json"], "cannot use two forms of the same flag: o output"),
])
def test_global_flag_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        parse_flags(GLOBAL_FLAGS, argv)


def test_help_flags():
    for argv in (["-h"], ["--help"], ["-help"]):
        with pytest.raises(HelpRequested):
            parse_flags(GLOBAL_FLAGS, argv)
    with pytest.raises(HelpRequested):
        command("ls", "/x", "-h")


def test_command_errors_name_the_command():
    with pytest.raises(UsageError) as info:
        command("set", "--ttl", "abc", "/k", "v")
    assert info.value.command == "set"
    assert str(info.value) == 'invalid value "abc" for flag -ttl: parse error'


# ---------------------------------------------------------------- urfave reordering

def test_flags_after_the_key_are_moved_in_front():
    parsed = command("mkdir", "/here/you/go", "--ttl", "120")
    assert parsed.args == ("/here/you/go",) and parsed.values["ttl"] == 120
    parsed = command("ls", "/", "--recursive")
    assert parsed.args == ("/",) and parsed.values["recursive"] is True


def test_a_bool_flag_takes_the_next_argument_along():
    # reorder moves "/d" with -r (it cannot know -r is a bool); Go's parser then stops
    # at "/d", so the -p after it stays a plain argument: etcdctl prints no slashes
    assert reorder(COMMAND_FLAGS["ls"], ["-r", "/d", "-p"]) == ["-r", "/d", "-p"]
    parsed = command("ls", "-r", "/d", "-p")
    assert parsed.args == ("/d", "-p") and parsed.values["p"] is False


def test_a_value_may_start_with_a_dash():
    parsed = command("set", "/k", "--swap-with-value", "-x", "v")
    assert parsed.values["swap-with-value"] == "-x" and parsed.args == ("/k", "v")


def test_unknown_flags_after_the_key_are_arguments():
    assert command("set", "/k2", "v", "--bogus").args == ("/k2", "v", "--bogus")
    with pytest.raises(UsageError, match="not defined: -bogus"):
        command("get", "--bogus", "/k")


def test_dashdash_is_dropped_and_keeps_what_follows():
    assert command("set", "--", "/k", "-v").args == ("/k", "-v")
    parsed = command("exec-watch", "/a", "--", "echo", "hi", "--after-index", "1")
    assert parsed.args == ("/a", "echo", "hi", "--after-index", "1")
    assert parsed.values["after-index"] == 0


@pytest.mark.parametrize("argv, key, cmd", [
    # (arguments, the key etcdctl 3.4.23 watched, the command it ran)
    (["/a", "--", "echo", "hi"], "hi", ("/a", "echo")),
    (["--after-index", "1", "/a", "--", "echo", "hi"], "hi", ("/a", "echo")),
    (["/a", "--after-index", "1", "--", "echo", "hi"], "hi", ("/a", "echo")),
    (["-r", "/a", "--", "echo", "hi"], "/a", ("echo", "hi")),
    (["/a", "-r", "--", "echo", "hi"], "hi", ("/a", "echo")),
    (["echo", "hi", "/a"], "/a", ("echo", "hi")),
    (["-r", "echo", "hi", "/a"], "/a", ("echo", "hi")),
    (["--after-index=1", "echo", "hi", "/a"], "/a", ("echo", "hi")),
    (["/a", "--", "echo", "-r", "x"], "x", ("/a", "echo", "-r")),
    (["-r", "/a", "--", "sh", "--", "x"], "/a", ("sh", "--", "x")),
])
def test_exec_watch_argument_rule(argv, key, cmd):
    assert exec_watch_target(command("exec-watch", *argv).args) == (key, cmd)


# ---------------------------------------------------------------- environment

def _values(**given):
    values = {f.name: f.default for f in GLOBAL_FLAGS}
    values.update(given)
    return values


def test_endpoint_precedence():
    env = {"ETCDCTL_ENDPOINTS": "http://e:1", "ETCDCTL_ENDPOINT": "http://e:2",
           "ETCDCTL_PEERS": "http://e:3"}
    assert global_options(_values(endpoints="http://f:1"), env).endpoint_list == "http://f:1"
    assert global_options(_values(endpoint="http://f:2"), env).endpoint_list == "http://e:1"
    del env["ETCDCTL_ENDPOINTS"]
    assert global_options(_values(endpoint="http://f:2"), env).endpoint_list == "http://f:2"
    assert global_options(_values(), env).endpoint_list == "http://e:2"
    assert global_options(_values(peers="http://f:3"), {}).endpoint_list == "http://f:3"
    assert global_options(_values(), {"ETCDCTL_PEERS": "p:4"}).endpoint_list == "p:4"
    assert global_options(_values(), {}).endpoint_list == DEFAULT_ENDPOINTS
    assert endpoints_from(DEFAULT_ENDPOINTS) == ("http://127.0.0.1:2379",
                                                  "http://127.0.0.1:4001")


def test_timeouts():
    options = global_options(_values(), {})
    assert options.timeout == 2.0 and options.total_timeout == 5.0
    options = global_options(_values(timeout=0.0, **{"total-timeout": -1.0}), {})
    assert options.timeout is None and options.total_timeout == 0.0
