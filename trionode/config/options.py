"""The flag table: every flag's name, converter, default and help, and the usage text.

Each flag is also read from ETCD_<UPPER_SNAKE_NAME> and from a key of --config-file
(flags.py). A `legacy` flag is etcd 0.4's, shown with one dash; its `target` is the 2.x
flag it stands in for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .values import (
    CLIENT_URLS,
    PEER_URLS,
    bind,
    cluster,
    fallback,
    host_port,
    items,
    to_bool,
    to_float,
    to_int,
    url_list,
)

__all__ = ["BY_ENV", "BY_NAME", "FLAGS", "Flag", "usage"]


class Flag(NamedTuple):
    name: str
    convert: Callable[[str], Any]
    default: str  # as the help text shows it
    help: str
    legacy: bool = False  # an etcd 0.4 flag: shown with one dash
    target: str = ""  # the 2.x flag it stands in for; shadowing and conflicts use it

    @property
    def env(self) -> str:
        return "ETCD_" + self.name.upper().replace("-", "_")

    @property
    def shown(self) -> str:
        return f"-{self.name}" if self.legacy else f"--{self.name}"


_ADVERTISE_HELP = "Client URLs advertised to clients; required with --listen-client-urls."
FLAGS: tuple[Flag, ...] = (
    Flag("name", str, "default", "Human-readable name for this member."),
    Flag("data-dir", str, "${name}.etcd", "Path to the data directory."),
    Flag("listen-client-urls", url_list, CLIENT_URLS, "URLs to listen on for client traffic."),
    Flag("advertise-client-urls", url_list, CLIENT_URLS, _ADVERTISE_HELP),
    Flag("listen-peer-urls", url_list, PEER_URLS, "URLs to listen on for peers."),
    Flag("initial-advertise-peer-urls", url_list, PEER_URLS,
         "This member's peer URLs, advertised to the rest of the cluster."),
    Flag("initial-cluster", cluster, "${name}=<each initial advertise peer URL>",
         "Initial cluster for bootstrapping: name=url,..."),
    Flag("initial-cluster-state", str, "new", "Initial cluster state ('new' or 'existing')."),
    Flag("initial-cluster-token", str, "etcd-cluster", "Initial cluster token for bootstrap."),
    Flag("discovery", lambda raw: raw or None, "", "Discovery URL used to bootstrap the cluster."),
    Flag("discovery-fallback", fallback, "exit",
         "When discovery fails: 'exit' (the only choice; there is no proxy mode)."),
    Flag("enable-discovery-service", to_bool, "false",
         "Also serve a discovery service: /new?size=N issues discovery URLs."),
    Flag("config-file", str, "", "YAML file of flag values (keys: flag names without dashes; "
         "a CoreOS cloud-config's 'coreos: etcd:' works too)."),
    Flag("snapshot-count", to_int, "10000", "Committed entries between snapshots (2.x default)."),
    Flag("heartbeat-interval", to_int, "100", "Heartbeat interval in milliseconds."),
    Flag("election-timeout", to_int, "1000",
         "Election timeout in milliseconds: at least 5 heartbeats, at most 50000."),
    Flag("cors", lambda raw: tuple(items(raw)), "*", "Allowed CORS origins, comma-separated."),
    Flag("max-history", to_int, "1000", "Events kept for watches that give a waitIndex."),
    Flag("log-format", str, "text", "Log lines on stderr: 'text' (key=value) or 'json'."),
    Flag("log-level", str, "info", "Log level: debug, info, warn or error."),
    Flag("cert-file", str, "", "Path to the client server TLS cert file."),
    Flag("key-file", str, "", "Path to the client server TLS key file."),
    Flag("trusted-ca-file", str, "", "Path to the client server TLS trusted CA file; clients "
         "must then present a certificate it signed."),
    Flag("client-cert-auth", to_bool, "false", "Require a client certificate on https client "
         "URLs (verified against --trusted-ca-file)."),
    Flag("auto-tls", to_bool, "false", "Client TLS with a self-signed certificate made at start "
         "(<data-dir>/fixtures/client)."),
    Flag("peer-cert-file", str, "", "Path to the peer server TLS cert file."),
    Flag("peer-key-file", str, "", "Path to the peer server TLS key file."),
    Flag("peer-trusted-ca-file", str, "", "Path to the peer server TLS trusted CA file; peers "
         "must then present a certificate it signed."),
    Flag("peer-client-cert-auth", to_bool, "false", "Require a certificate of every peer "
         "(verified against --peer-trusted-ca-file)."),
    Flag("peer-auto-tls", to_bool, "false", "Peer TLS with a self-signed certificate made at start "
         "(<data-dir>/fixtures/peer); peers' certificates are then not verified."),
    Flag("addr", host_port, "127.0.0.1:4001", "[0.4] Advertised client host:port, also "
         "listened on unless -bind-addr.", True, "advertise-client-urls"),
    Flag("bind-addr", bind, "-addr", "[0.4] Client listen host[:port] (port from -addr).",
         True, "listen-client-urls"),
    Flag("peer-addr", host_port, "127.0.0.1:2380", "[0.4] Advertised peer host:port, also "
         "listened on unless -peer-bind-addr.", True, "initial-advertise-peer-urls"),
    Flag("peer-bind-addr", bind, "-peer-addr", "[0.4] Peer listen host[:port] (port from "
         "-peer-addr).", True, "listen-peer-urls"),
    Flag("peers", lambda raw: tuple(str(host_port(item)) for item in items(raw)), "",
         "[0.4] Peers to join: host:port,...", True),
    Flag("peer-heartbeat-interval", to_int, "100", "[0.4] --heartbeat-interval.", True,
         "heartbeat-interval"),
    Flag("peer-election-timeout", to_int, "1000", "[0.4] --election-timeout.", True,
         "election-timeout"),
    Flag("cluster-active-size", to_int, "9", "[0.4] Voting members wanted (at least 3); "
         "more machines join as standbys.", True),
    Flag("cluster-remove-delay", to_float, "1800", "[0.4] Seconds before an unreachable "
         "voter is removed (at least 2).", True),
    Flag("cluster-sync-interval", to_float, "5", "[0.4] Seconds between a standby's syncs "
         "(at least 1).", True),
    Flag("ca-file", str, "", "[0.4] Client CA file: enables client certificate authentication.",
         True, "trusted-ca-file"),
    Flag("peer-ca-file", str, "", "[0.4] Peer CA file: enables peer certificate authentication.",
         True, "peer-trusted-ca-file"),
)
BY_NAME = {flag.name: flag for flag in FLAGS}
# 0.4 read ETCD_SNAPSHOTCOUNT, not ETCD_SNAPSHOT_COUNT (v2-spec §6.1).
BY_ENV = {flag.env: flag for flag in FLAGS} | {"ETCD_SNAPSHOTCOUNT": BY_NAME["snapshot-count"]}


def usage() -> str:
    lines = ["Usage: trionode [flags]    Start a trionode (etcd v2 API) server.", "",
             "  -h | --help    Show this help.", "  --version      Show the version.", "",
             "Flags take one or two dashes: '-flag value' or '-flag=value'. Each can also be",
             "set with the environment variable shown, or as a key of --config-file.",
             "Flags win over the environment, which wins over the config file.", ""]
    for flag in FLAGS:
        lines.append(f"  {flag.shown} '{flag.default}'    [{flag.env}]")
        lines.append(f"      {flag.help}")
    return "\n".join(lines) + "\n"
