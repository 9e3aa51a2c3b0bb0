"""Config construction and parse_config(): flag forms, environment, 0.4 mapping, bad values."""

from __future__ import annotations

import pathlib

import pytest

from trionode.config.errors import ConfigError
from trionode.config.flags import FLAGS, Config, InfoRequested, parse_config, usage
from trionode.config.values import Url


def parse(*argv: str, env: dict[str, str] | None = None) -> Config:
    return parse_config(list(argv), env or {})


def urls(*texts: str) -> tuple[Url, ...]:
    return tuple(Url.parse(text) for text in texts)


# --- Url ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["http://127.0.0.1:2379", "http://[::1]:4001", "http://example.com:0",
                                  "https://10.0.0.1:443"])
def test_url_round_trips(text: str) -> None:
    assert str(Url.parse(text)) == text


def test_url_fields() -> None:
    assert Url.parse("HTTP://[::1]:80") == Url("http", "::1", 80)


@pytest.mark.parametrize("text", ["127.0.0.1:2379", "ftp://a:1", "http://a", "http://a:1/",
                                  "http://a:1/x", "http://u@a:1", "http://a:99999", "http://:1",
                                  "http://a:b", "http://::1:80", "http://a:1?x"])
def test_url_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        Url.parse(text)


# --- defaults -----------------------------------------------------------------------------

def test_defaults_follow_etcd_2x() -> None:
    config = parse()
    assert config == Config()
    assert config.name == "default"
    assert config.data_dir == pathlib.Path("default.etcd")
    assert config.listen_client_urls == urls("http://127.0.0.1:2379", "http://127.0.0.1:4001")
    assert config.advertise_client_urls == config.listen_client_urls
    assert config.listen_peer_urls == urls("http://127.0.0.1:2380")
    assert config.initial_advertise_peer_urls == urls("http://127.0.0.1:2380")
    assert config.initial_cluster == (("default", Url("http", "127.0.0.1", 2380)),)
    assert (config.initial_cluster_state, config.initial_cluster_token) == ("new", "etcd-cluster")
    assert config.discovery is None
    assert (config.snapshot_count, config.heartbeat_interval_ms, config.election_timeout_ms) == (
        10000, 100, 1000)
    assert (config.max_history, config.log_format, config.log_level) == (1000, "text", "info")
    assert config.cors == ("*",)
    assert config.peers == ()
    assert config.http.max_body_bytes > 0


def test_derived_defaults_follow_name_and_peer_urls() -> None:
    config = parse("--name", "n1", "--initial-advertise-peer-urls", "http://10.0.0.1:2380,http://10.0.0.1:7001")
    assert config.data_dir == pathlib.Path("n1.etcd")
    assert config.initial_cluster == (("n1", Url.parse("http://10.0.0.1:2380")),
                                      ("n1", Url.parse("http://10.0.0.1:7001")))


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Config().name = "x"  # type: ignore[misc]


# --- flag syntax ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--name", "n1"], ["-name", "n1"], ["--name=n1"], ["-name=n1"]])
def test_every_flag_form(argv: list[str]) -> None:
    assert parse(*argv).name == "n1"


def test_last_occurrence_wins_and_values_may_start_with_dash() -> None:
    assert parse("-name", "a", "--name", "b").name == "b"
    assert parse("--name", "-odd").name == "-odd"
    assert parse("--name=a=b").name == "a=b"


def test_every_long_flag() -> None:
    config = parse(
        "--name", "n1", "--data-dir", "/var/lib/x",
        "--listen-client-urls", "http://0.0.0.0:2379", "--advertise-client-urls", "http://10.0.0.1:2379",
        "--listen-peer-urls", "http://0.0.0.0:2380", "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
        "--initial-cluster", "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380",
        "--initial-cluster-state", "existing", "--initial-cluster-token", "tok",
        "--snapshot-count", "5", "--heartbeat-interval", "50", "--election-timeout", "250",
        "--cors", "http://a.example, http://b.example", "--max-history", "20",
        "--log-format", "json", "--log-level", "debug",
    )
    assert config.data_dir == pathlib.Path("/var/lib/x")
    assert config.listen_client_urls == urls("http://0.0.0.0:2379")
    assert config.advertise_client_urls == urls("http://10.0.0.1:2379")
    assert config.listen_peer_urls == urls("http://0.0.0.0:2380")
    assert config.initial_cluster == (("n1", Url.parse("http://10.0.0.1:2380")),
                                      ("n2", Url.parse("http://10.0.0.2:2380")))
    assert (config.initial_cluster_state, config.initial_cluster_token) == ("existing", "tok")
    assert (config.snapshot_count, config.heartbeat_interval_ms, config.election_timeout_ms) == (5, 50, 250)
    assert config.cors == ("http://a.example", "http://b.example")
    assert (config.max_history, config.log_format, config.log_level) == (20, "json", "debug")


def test_discovery() -> None:
    assert parse("-discovery", "https://discovery.etcd.io/abc").discovery == "https://discovery.etcd.io/abc"
    assert parse("--discovery=").discovery is None


# --- 0.4 flags -----------------------------------------------------------------------------

def test_04_addr_is_advertised_and_listened_on() -> None:
    config = parse("-name", "m1", "-addr", "10.0.0.1:4001", "-peer-addr", "10.0.0.1:7001")
    assert config.advertise_client_urls == config.listen_client_urls == urls("http://10.0.0.1:4001")
    assert config.initial_advertise_peer_urls == config.listen_peer_urls == urls("http://10.0.0.1:7001")
    assert config.initial_cluster == (("m1", Url.parse("http://10.0.0.1:7001")),)


def test_04_bind_addr_takes_port_from_addr() -> None:
    config = parse("-addr", "10.0.0.1:4001", "-bind-addr", "0.0.0.0",
                   "-peer-addr", "10.0.0.1:7001", "-peer-bind-addr", "0.0.0.0:7777")
    assert config.advertise_client_urls == urls("http://10.0.0.1:4001")
    assert config.listen_client_urls == urls("http://0.0.0.0:4001")
    assert config.listen_peer_urls == urls("http://0.0.0.0:7777")


def test_04_bare_bind_addr_without_addr_uses_default_ports() -> None:
    config = parse("-bind-addr", "0.0.0.0", "-peer-bind-addr", "[::]")
    assert config.listen_client_urls == urls("http://0.0.0.0:4001")
    assert config.listen_peer_urls == urls("http://[::]:2380")


def test_04_addr_with_explicit_listen_urls() -> None:
    config = parse("-addr", "10.0.0.1:4001", "--listen-client-urls", "http://0.0.0.0:4001")
    assert config.listen_client_urls == urls("http://0.0.0.0:4001")
    assert config.advertise_client_urls == urls("http://10.0.0.1:4001")


def test_04_peers_timing_and_rest() -> None:
    config = parse("-peers", "10.0.0.2:7001,http://10.0.0.3:7001", "-peer-heartbeat-interval", "50",
                   "-peer-election-timeout", "300", "-snapshot-count", "7", "-cors", "*",
                   "-data-dir", "/d", "-discovery", "http://d.example:80/v2/keys/_etcd/registry/t")
    assert config.peers == ("http://10.0.0.2:7001", "http://10.0.0.3:7001")
    assert (config.heartbeat_interval_ms, config.election_timeout_ms) == (50, 300)
    assert (config.snapshot_count, config.cors, config.data_dir) == (7, ("*",), pathlib.Path("/d"))


# --- environment ---------------------------------------------------------------------------

def test_environment_sets_flags() -> None:
    env = {"ETCD_NAME": "e1", "ETCD_DATA_DIR": "/e", "ETCD_ADDR": "10.0.0.1:4001",
           "ETCD_PEER_ADDR": "10.0.0.1:7001", "ETCD_DISCOVERY": "http://d.example:80/x",
           "ETCD_INITIAL_CLUSTER_TOKEN": "t", "ETCD_SNAPSHOTCOUNT": "9", "PATH": "/bin"}
    config = parse(env=env)
    assert (config.name, config.data_dir, config.discovery) == ("e1", pathlib.Path("/e"), "http://d.example:80/x")
    assert config.advertise_client_urls == urls("http://10.0.0.1:4001")
    assert config.initial_advertise_peer_urls == urls("http://10.0.0.1:7001")
    assert (config.initial_cluster_token, config.snapshot_count) == ("t", 9)


def test_flags_win_over_environment_and_shadow_their_target() -> None:
    warnings: list[str] = []
    env = {"ETCD_NAME": "env", "ETCD_ADDR": "10.0.0.9:4001"}
    config = parse_config(["--name", "flag", "--advertise-client-urls", "http://10.0.0.1:2379"], env,
                          warnings.append)
    assert config.name == "flag"
    assert config.advertise_client_urls == urls("http://10.0.0.1:2379")
    assert config.listen_client_urls == Config().listen_client_urls  # ETCD_ADDR did not leak in
    assert len(warnings) == 2 and all("shadowed" in w for w in warnings)


def test_unknown_environment_variable_warns_and_goes_on() -> None:
    warnings: list[str] = []
    config = parse_config([], {"ETCD_BOGUS": "1", "ETCDCTL_API": "2"}, warnings.append)
    assert config == Config()
    assert warnings == ["unrecognized environment variable ETCD_BOGUS"]


def test_empty_environment_value_is_unset() -> None:
    assert parse(env={"ETCD_DISCOVERY": "", "ETCD_NAME": ""}) == Config()


def test_every_flag_has_an_environment_variable() -> None:
    for flag in FLAGS:
        assert flag.env == "ETCD_" + flag.name.upper().replace("-", "_")


# --- errors: one clear line ----------------------------------------------------------------

@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--bogus"], {}, "flag provided but not defined: --bogus"),
    (["-bogus=1"], {}, "flag provided but not defined: -bogus"),
    (["--name"], {}, "flag needs an argument: --name"),
    (["stray"], {}, "'stray' is not a valid flag"),
    (["---name", "x"], {}, "is not a valid flag"),
    (["--", "x"], {}, "'x' is not a valid flag"),
    (["--snapshot-count", "abc"], {}, 'invalid value "abc" for flag --snapshot-count: not an integer'),
    ([], {"ETCD_SNAPSHOT_COUNT": "x"}, "environment variable ETCD_SNAPSHOT_COUNT"),
    (["--listen-peer-urls", "foo"], {}, "URL scheme must be http or https: foo"),
    (["--listen-peer-urls", "http://a:1/x"], {}, "URL must not contain a path"),
    (["-addr", "nohost"], {}, 'does not have the form "host:port"'),
    (["--initial-cluster", "http://a:1"], {}, "expected name=url"),
    (["--initial-cluster-state", "old"], {}, "--initial-cluster-state must be one of new, existing"),
    (["--log-format", "xml"], {}, "--log-format"),
    (["--log-level", "loud"], {}, "--log-level"),
    (["--heartbeat-interval", "0"], {}, "--heartbeat-interval must be >0 (set to 0ms)"),
    (["--heartbeat-interval", "300"], {},
     "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]"),
    (["--election-timeout", "60000"], {},
     "--election-timeout[60000ms] is too long, and should be set less than 50000ms"),
    (["--snapshot-count", "0"], {}, "--snapshot-count must be >0"),
    (["--max-history", "-1"], {}, "--max-history must be >0"),
    (["--listen-peer-urls", "https://a:1", "--initial-advertise-peer-urls", "https://a:1"], {},
     "cannot listen on TLS for a:1: KeyFile and CertFile are not presented"),
    (["--listen-peer-urls", "https://a:1", "--peer-auto-tls"], {}, "mixed http and https peer URLs"),
    (["--listen-client-urls", "http://0.0.0.0:2379"], {},
     "--advertise-client-urls is required when --listen-client-urls is set explicitly"),
    (["-addr", "a:1", "--advertise-client-urls", "http://a:1"], {}, "cannot both be set"),
    (["--discovery", "http://d:1/x", "--initial-cluster", "a=http://a:1"], {}, "multiple discovery"),
    (["--discovery", "d.example"], {}, "--discovery must be an http(s) URL"),
    (["--data-dir", ""], {}, "--data-dir must not be empty"),
    (["--name", ""], {}, "--name must not be empty"),
])
def test_bad_input_is_one_line(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(argv, env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_election_timeout_exactly_five_heartbeats_is_fine() -> None:
    assert parse("--heartbeat-interval", "200").election_timeout_ms == 1000
    assert parse("--election-timeout", "50000").election_timeout_ms == 50000


# --- help and version ----------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["-h", "--help", "-help", "--h"])
def test_help(flag: str) -> None:
    with pytest.raises(InfoRequested) as info:
        parse(flag)
    assert info.value.text == usage()


def test_help_documents_every_flag_default_and_env() -> None:
    text = usage()
    for flag in FLAGS:
        line = next(line for line in text.splitlines() if line.strip().startswith(flag.shown + " "))
        assert f"'{flag.default}'" in line and flag.env in line


def test_version() -> None:
    with pytest.raises(InfoRequested) as info:
        parse("--version")
    assert info.value.text.startswith("trionode ") and "(etcd API 3.4.23)" in info.value.text
