"""The TLS flags of both ports: names, environment, 0.4 forms, and what is refused at start."""

from __future__ import annotations

import pytest

from trionode.config.errors import ConfigError
from trionode.config.flags import parse_config
from trionode.config.tls import TlsSettings
from trionode.config.values import Url

HTTPS_CLIENT = ["--listen-client-urls", "https://127.0.0.1:2379",
                "--advertise-client-urls", "https://127.0.0.1:2379"]
HTTPS_PEER = ["--listen-peer-urls", "https://127.0.0.1:2380",
              "--initial-advertise-peer-urls", "https://127.0.0.1:2380"]
FILES = ["--cert-file", "c.pem", "--key-file", "k.pem"]
PEER_FILES = ["--peer-cert-file", "pc.pem", "--peer-key-file", "pk.pem"]


def parse(*argv: str, env: dict[str, str] | None = None, warnings: list[str] | None = None):
    return parse_config(list(argv), env or {}, (warnings if warnings is not None else []).append)


def test_3_4_flags_fill_both_ports() -> None:
    config = parse(*HTTPS_CLIENT, *FILES, "--trusted-ca-file", "ca.pem", "--client-cert-auth",
                   *HTTPS_PEER, *PEER_FILES, "--peer-trusted-ca-file", "pca.pem", "--peer-client-cert-auth")
    assert config.client_tls == TlsSettings("c.pem", "k.pem", "ca.pem", True, False)
    assert config.peer_tls == TlsSettings("pc.pem", "pk.pem", "pca.pem", True, False)
    assert config.listen_client_urls == (Url("https", "127.0.0.1", 2379),)


def test_environment_variables_as_etcd_names_them() -> None:
    env = {"ETCD_CERT_FILE": "c", "ETCD_KEY_FILE": "k", "ETCD_CLIENT_CERT_AUTH": "true",
           "ETCD_PEER_AUTO_TLS": "true", "ETCD_AUTO_TLS": "1"}
    config = parse(env=env)
    assert config.client_tls == TlsSettings("c", "k", "", True, True)
    assert config.peer_tls.auto_tls and config.peer_tls.self_signed


def test_a_ca_file_alone_requires_client_certificates_as_in_3_4() -> None:
    assert TlsSettings("c", "k", trusted_ca_file="ca").verifies_clients
    assert TlsSettings("c", "k", client_cert_auth=True).verifies_clients
    assert not TlsSettings("c", "k").verifies_clients


def test_04_ca_file_means_client_cert_auth_and_addr_becomes_https() -> None:
    config = parse("-addr", "127.0.0.1:4001", "-cert-file", "c", "-key-file", "k", "-ca-file", "ca",
                   "-peer-addr", "127.0.0.1:7001", "-peer-cert-file", "pc", "-peer-key-file", "pk",
                   "-peer-ca-file", "pca", "-peers", "127.0.0.1:7002")
    assert config.client_tls == TlsSettings("c", "k", "ca", True)
    assert config.peer_tls == TlsSettings("pc", "pk", "pca", True)
    assert config.advertise_client_urls == config.listen_client_urls == (Url("https", "127.0.0.1", 4001),)
    assert config.initial_advertise_peer_urls == (Url("https", "127.0.0.1", 7001),)
    assert config.peers == ("https://127.0.0.1:7002",)


def test_04_addr_stays_http_without_a_key() -> None:
    config = parse("-addr", "127.0.0.1:4001", "-bind-addr", "0.0.0.0", "-ca-file", "ca")
    assert config.listen_client_urls == (Url("http", "0.0.0.0", 4001),)


def test_auto_tls_serves_https_without_files() -> None:
    config = parse(*HTTPS_CLIENT, "--auto-tls", *HTTPS_PEER, "--peer-auto-tls")
    assert config.client_tls.self_signed and config.client_tls.serves_tls
    assert not config.client_tls.verifies_clients


@pytest.mark.parametrize(("argv", "message"), [
    (HTTPS_CLIENT, "TLS key/cert (--cert-file, --key-file) must be provided for client url "
                   "https://127.0.0.1:2379 with HTTPS scheme"),
    (HTTPS_PEER, "cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented"),
    ([*HTTPS_CLIENT, "--cert-file", "c.pem"], "KeyFile and CertFile must both be present[key: , cert: c.pem]"),
    (["--peer-key-file", "k.pem"], "KeyFile and CertFile must both be present[key: k.pem, cert: ]"),
    ([*PEER_FILES, "--listen-peer-urls", "https://127.0.0.1:2380"], "mixed http and https peer URLs"),
    ([*PEER_FILES, *HTTPS_PEER, "--initial-cluster",
      "default=https://127.0.0.1:2380,b=http://127.0.0.1:2381"], "mixed http and https peer URLs"),
])
def test_refused_at_start(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(*argv)
    assert message in str(info.value)


def test_warnings_for_settings_that_are_ignored() -> None:
    warnings: list[str] = []
    parse(*FILES, "--auto-tls", "--peer-auto-tls", "--peer-client-cert-auth", *HTTPS_PEER, warnings=warnings)
    assert "ignoring client auto TLS since certs given" in warnings
    assert any("the scheme of client url http://127.0.0.1:2379 is HTTP while key/cert files are presented"
               in w for w in warnings)
    assert any("--peer-auto-tls: the self-signed certificate serves no client certificate authentication"
               in w for w in warnings)
    warnings.clear()
    parse(*HTTPS_CLIENT, *FILES, "--client-cert-auth", warnings=warnings)
    assert warnings == ["--client-cert-auth without --trusted-ca-file: certificates are verified against "
                        "the system trust store"]
