"""--config-file (flags > environment > file), the discovery flags and 0.4's cluster flags."""

from __future__ import annotations

import pytest

from trionode.config.errors import ConfigError
from trionode.config.flags import Config, parse_config, usage
from trionode.config.values import Url


def parse(argv=(), env=None, warnings=None):
    return parse_config(list(argv), env or {}, (warnings if warnings is not None else []).append)


@pytest.fixture
def write(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "etcd.yaml"
        path.write_text(text)
        return str(path)
    return write


def test_flat_file_sets_flags(write) -> None:
    path = write("name: n1\npeer-addr: 10.0.0.1:7001\nsnapshot-count: 5000\n"
                 "enable-discovery-service: true\ncors: [a.example, b.example]\n"
                 'initial-cluster-token: "t"\nmax-history:\n')
    config = parse(["--config-file", path])
    assert config.name == "n1" and config.snapshot_count == 5000
    assert config.initial_advertise_peer_urls == (Url("http", "10.0.0.1", 7001),)
    assert config.discovery_service and config.cors == ("a.example", "b.example")
    assert config.initial_cluster_token == "t" and config.max_history == 1000


def test_flags_beat_environment_beats_file(write) -> None:
    path = write("name: file\nsnapshot-count: 1\nheartbeat-interval: 20\naddr: 10.0.0.1:4001\n")
    warnings: list[str] = []
    config = parse(["-config-file=" + path, "--snapshot-count", "3"],
                   {"ETCD_NAME": "env", "ETCD_SNAPSHOT_COUNT": "2",
                    "ETCD_ADVERTISE_CLIENT_URLS": "http://10.9.9.9:2379"}, warnings)
    assert (config.name, config.snapshot_count, config.heartbeat_interval_ms) == ("env", 3, 20)
    # ETCD_ADVERTISE_CLIENT_URLS hides the file's addr, its 0.4 stand-in.
    assert config.advertise_client_urls == (Url("http", "10.9.9.9", 2379),)
    assert any("addr" in w and "shadowed" in w for w in warnings)


def test_config_file_from_the_environment(write) -> None:
    path = write("name: viaenv\n")
    assert parse([], {"ETCD_CONFIG_FILE": path}).name == "viaenv"


def test_cloud_config_form(write) -> None:
    path = write("#cloud-config\n\ncoreos:\n  etcd:\n    discovery: http://d.example/abc\n"
                 "    addr: 10.0.0.5:4001\n    peer-addr: 10.0.0.5:7001\n"
                 "  units:\n    - name: etcd.service\n      command: start\n"
                 "ssh_authorized_keys: [x]\n")
    config = parse(["--config-file", path])
    assert config.discovery == "http://d.example/abc"
    assert config.advertise_client_urls == (Url("http", "10.0.0.5", 4001),)
    assert config.listen_peer_urls == (Url("http", "10.0.0.5", 7001),)


@pytest.mark.parametrize("text, words", [
    ("nmae: x\n", "unknown key 'nmae'"),
    ("config-file: other.yaml\n", "unknown key 'config-file'"),
    ("- name\n", "expected a mapping"),
    ("name: [x, {a: b}]\n", "name must be a string"),
    ("name: {a: b}\n", "name must be a string"),
    ("name: 'x\n", "not valid YAML (line"),
    ("coreos:\n  fleet: {}\n", "exactly one of"),
    ("coreos:\n  etcd:\n    addr: $private_ipv4:4001\n", "addr holds $private_ipv4"),
    ("snapshot-count: many\n", 'invalid value "many" for key snapshot-count of config file'),
])
def test_bad_files(write, text, words) -> None:
    with pytest.raises(ConfigError) as info:
        parse(["--config-file", write(text)])
    assert words in str(info.value)


def test_missing_and_empty_files(write, tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        parse(["--config-file", str(tmp_path / "nope.yaml")])
    assert parse(["--config-file", write("")]) == Config()


def test_enable_discovery_service_is_a_go_bool_flag() -> None:
    assert parse(["--enable-discovery-service"]).discovery_service
    assert parse(["-enable-discovery-service=true"]).discovery_service
    assert not parse(["--enable-discovery-service=false"]).discovery_service
    assert parse([], {"ETCD_ENABLE_DISCOVERY_SERVICE": "1"}).discovery_service
    assert not parse([]).discovery_service
    with pytest.raises(ConfigError, match='invalid value "yes"'):
        parse(["--enable-discovery-service=yes"])
    # a bool flag takes no separate value: "false" is then a stray argument
    with pytest.raises(ConfigError, match="'false' is not a valid flag"):
        parse(["--enable-discovery-service", "false"])


def test_discovery_fallback() -> None:
    assert parse(["--discovery-fallback", "exit"]) == Config()
    with pytest.raises(ConfigError, match="no proxy mode"):
        parse(["--discovery-fallback=proxy"])
    with pytest.raises(ConfigError, match="must be 'exit' or 'proxy'"):
        parse([], {"ETCD_DISCOVERY_FALLBACK": "retry"})


def test_cluster_flags_and_their_floors() -> None:
    config = parse(["-cluster-active-size", "5", "-cluster-remove-delay=30.5"],
                   {"ETCD_CLUSTER_SYNC_INTERVAL": "2"})
    assert (config.active_size, config.remove_delay_s, config.sync_interval_s) == (5, 30.5, 2.0)
    assert (Config().active_size, Config().remove_delay_s, Config().sync_interval_s) == (9, 1800, 5)
    warnings: list[str] = []
    config = parse(["-cluster-active-size=1", "-cluster-remove-delay=0",
                    "-cluster-sync-interval=0.1"], warnings=warnings)
    assert (config.active_size, config.remove_delay_s, config.sync_interval_s) == (3, 2.0, 1.0)
    assert len(warnings) == 3 and "below the minimum" in warnings[0]
    with pytest.raises(ConfigError, match="not a number"):
        parse(["-cluster-remove-delay=soon"])
    with pytest.raises(ConfigError, match="active_size must be at least 3"):
        Config(active_size=2)


def test_usage_lists_the_new_flags_and_the_precedence() -> None:
    text = usage()
    for flag in ("--config-file", "--enable-discovery-service", "--discovery-fallback",
                 "-cluster-active-size", "-cluster-remove-delay", "-cluster-sync-interval"):
        assert f"  {flag} " in text
    assert "which wins over the config file" in text
