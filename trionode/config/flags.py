"""Configuration: command-line flags and environment -> one frozen, validated Config.

Two flag dialects land on the same Config (v2-spec §6):
* etcd 2.x/3.4 flags (`--name`, `--listen-client-urls`, ...), and
* etcd 0.4 flags (`-addr`, `-peer-addr`, `-peers`, ...) as the 0.4 tutorial and CoreOS
  cloud-config (§6.3) use them.
As in Go's flag package, a flag takes one or two dashes, `-x=v` or `-x v`, last one wins.
Each flag also reads ETCD_<UPPER_SNAKE_NAME>, and a key of --config-file (file.py).
Flags win over the environment, which wins over the file (0.4's order), for the whole
target: `--advertise-client-urls` also hides ETCD_ADDR. [3.4 exits when a flag shadows the
environment; 0.4 and 2.x let the flag win. So do we, with a warning.]
A Config is validated when it is constructed: a Config that exists is legal (STYLE §5).
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

from .. import ETCD_SERVER_VERSION, __version__
from ..gocompat.jsontext import quote
from .errors import ConfigError
from .file import load_config_file
from .values import (
    CLIENT_URLS,
    PEER_URLS,
    Url,
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

__all__ = ["Config", "HttpSettings", "InfoRequested", "Url", "parse_config", "usage"]

MAX_ELECTION_MS = 50_000  # etcd's upper bound for --election-timeout
LOG_LEVELS = ("debug", "info", "warn", "error")
# 0.4's floors for the cluster config (server/cluster_config.go MinActiveSize etc.); a flag
# below one is raised to it with a warning, as 0.4 did.
MINIMUMS = {"active_size": 3, "remove_delay_s": 2.0, "sync_interval_s": 1.0}


class InfoRequested(Exception):
    """-h/--help or --version: not an error; the CLI prints `.text` to stdout and exits 0."""

    @property
    def text(self) -> str:
        return str(self.args[0])


@dataclasses.dataclass(frozen=True, slots=True)
class HttpSettings:
    """Limits of the client HTTP server (STYLE §7: everything has a limit)."""

    # etcd takes values up to 1.5 MiB (--max-request-bytes); percent-encoded in a form
    # body one can triple, so the body cap is 5 MiB.
    max_body_bytes: int = 5 << 20
    max_header_bytes: int = (1 << 20) + 4096  # Go's MaxHeaderBytes plus its 4 KiB slack
    request_timeout_s: float = 30.0  # to receive one whole request once it has begun
    idle_timeout_s: float = 300.0  # keep-alive idle; 0.4's -http-read-timeout default

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if getattr(self, field.name) <= 0:
                raise ConfigError(f"http.{field.name} must be > 0")


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """Everything a node needs to start. Defaults follow etcd 2.x (v2-spec §6.2)."""

    name: str = "default"
    data_dir: pathlib.Path = None  # type: ignore[assignment]  # None -> Path(f"{name}.etcd")
    listen_client_urls: tuple[Url, ...] = url_list(CLIENT_URLS)
    advertise_client_urls: tuple[Url, ...] = url_list(CLIENT_URLS)
    listen_peer_urls: tuple[Url, ...] = url_list(PEER_URLS)
    initial_advertise_peer_urls: tuple[Url, ...] = url_list(PEER_URLS)
    # () -> this member alone: (name, url) for each initial advertise peer URL.
    initial_cluster: tuple[tuple[str, Url], ...] = ()
    initial_cluster_state: Literal["new", "existing"] = "new"
    initial_cluster_token: str = "etcd-cluster"
    discovery: str | None = None
    discovery_service: bool = False  # serve /new and /<token> (http/discovery_service.py)
    snapshot_count: int = 10_000  # 2.x default (3.4 raised it to 100000); entries per snapshot
    heartbeat_interval_ms: int = 100
    election_timeout_ms: int = 1000
    max_history: int = 1000  # watch event history (v2-spec §2); etcd's is fixed at 1000
    log_format: Literal["text", "json"] = "text"
    log_level: str = "info"
    cors: tuple[str, ...] = ("*",)
    peers: tuple[str, ...] = ()  # 0.4 -peers, normalised to http://host:port
    # 0.4's cluster config, the initial /_etcd/config (v2-spec §5.2): voters wanted, seconds
    # before an unreachable voter is removed, seconds between a standby's syncs.
    active_size: int = 9
    remove_delay_s: float = 1800.0
    sync_interval_s: float = 5.0
    http: HttpSettings = HttpSettings()

    def __post_init__(self) -> None:
        # Frozen: the two derived defaults are filled in once, here, before validation.
        data_dir = f"{self.name}.etcd" if self.data_dir is None else self.data_dir
        if not str(data_dir).strip():  # checked before Path("") turns into "."
            raise ConfigError("--data-dir must not be empty")
        object.__setattr__(self, "data_dir", pathlib.Path(data_dir))
        if not self.initial_cluster:
            derived = tuple((self.name, url) for url in self.initial_advertise_peer_urls)
            object.__setattr__(self, "initial_cluster", derived)
        self._validate_values()
        self._validate_urls()

    def _validate_urls(self) -> None:
        for flag in ("listen-client-urls", "advertise-client-urls", "listen-peer-urls",
                     "initial-advertise-peer-urls", "initial-cluster"):
            values = getattr(self, flag.replace("-", "_"))
            if not values:
                raise ConfigError(f"--{flag} must not be empty")
            for url in values if flag != "initial-cluster" else (url for _, url in values):
                if url.scheme == "https":
                    raise ConfigError(f"--{flag}: https is not supported yet (no TLS): {url}")
        if not all(member for member, _ in self.initial_cluster):
            raise ConfigError("--initial-cluster: empty member name")

    def _validate_values(self) -> None:
        if not self.name:
            raise ConfigError("--name must not be empty")
        _check_choice("initial-cluster-state", self.initial_cluster_state, ("new", "existing"))
        _check_choice("log-format", self.log_format, ("text", "json"))
        _check_choice("log-level", self.log_level, LOG_LEVELS)
        if self.discovery is not None and not self.discovery.startswith(("http://", "https://")):
            raise ConfigError(f"--discovery must be an http(s) URL: {self.discovery}")
        for flag in ("snapshot-count", "max-history"):
            if (value := getattr(self, flag.replace("-", "_"))) < 1:
                raise ConfigError(f"--{flag} must be >0 (set to {value})")
        if any(not origin for origin in self.cors):
            raise ConfigError("--cors: empty origin")
        for field, minimum in MINIMUMS.items():
            if getattr(self, field) < minimum:
                raise ConfigError(f"{field} must be at least {minimum}")
        self._validate_timing()

    def _validate_timing(self) -> None:
        # etcd 3.4's checks and words: a follower must miss 5 heartbeats before it campaigns.
        beat, election = self.heartbeat_interval_ms, self.election_timeout_ms
        if beat <= 0:
            raise ConfigError(f"--heartbeat-interval must be >0 (set to {beat}ms)")
        if 5 * beat > election:
            raise ConfigError(f"--election-timeout[{election}ms] should be at least as 5 times "
                              f"as --heartbeat-interval[{beat}ms]")
        if election > MAX_ELECTION_MS:
            raise ConfigError(f"--election-timeout[{election}ms] is too long, and should be set "
                              f"less than {MAX_ELECTION_MS}ms")


def _check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"--{flag} must be one of {', '.join(choices)} (set to {value!r})")


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
)
_BY_NAME = {flag.name: flag for flag in FLAGS}
# 0.4 read ETCD_SNAPSHOTCOUNT, not ETCD_SNAPSHOT_COUNT (v2-spec §6.1).
_BY_ENV = {flag.env: flag for flag in FLAGS} | {"ETCD_SNAPSHOTCOUNT": _BY_NAME["snapshot-count"]}


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


def _scan_argv(argv: list[str]) -> dict[str, str]:
    """Go flag syntax -> {flag name: raw value}; the last occurrence wins."""
    found: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":  # Go stops at "--"; etcd takes no positional arguments
            if i < len(argv):
                raise ConfigError(f"{argv[i]!r} is not a valid flag")
            break
        body = token[2:] if token.startswith("--") else token[1:]
        if not token.startswith("-") or not body or body.startswith(("-", "=")):
            raise ConfigError(f"{token!r} is not a valid flag")
        name, eq, value = body.partition("=")
        if name in ("h", "help"):
            raise InfoRequested(usage())
        if name == "version":
            raise InfoRequested(f"trionode {__version__} (etcd API {ETCD_SERVER_VERSION})\n")
        if name not in _BY_NAME:
            raise ConfigError(f"flag provided but not defined: {token.partition('=')[0]}")
        if not eq and _BY_NAME[name].convert is to_bool:
            value = "true"  # a Go bool flag: bare means true, a value needs "="
        elif not eq:
            if i == len(argv):
                raise ConfigError(f"flag needs an argument: {token}")
            value, i = argv[i], i + 1
        found[name] = value
    return found


def _scan_environ(environ: Mapping[str, str], shadowed: set[str],
                  warn: Callable[[str], None]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in sorted(key for key in environ if key.startswith("ETCD_")):
        flag = _BY_ENV.get(key)
        if flag is None:
            warn(f"unrecognized environment variable {key}")
        elif (flag.target or flag.name) in shadowed:
            warn(f"environment variable {key} is shadowed by a command-line flag")
        elif environ[key]:  # an empty value (as cloud-config may write) means unset
            found[flag.name] = environ[key]
    return found


def _convert(raw: dict[str, str], source: dict[str, str]) -> dict[str, Any]:
    values = {}
    for name, text in raw.items():
        try:
            values[name] = _BY_NAME[name].convert(text)
        except ConfigError as exc:
            raise ConfigError(f"invalid value {quote(text)} for {source[name]}: {exc}") from None
    return values


def _scan_file(path: str | None, shadowed: set[str],
               warn: Callable[[str], None]) -> dict[str, str]:
    if not path:
        return {}
    found = load_config_file(path, _BY_NAME.keys() - {"config-file"})
    for name in [name for name in found if (_BY_NAME[name].target or name) in shadowed]:
        warn(f"key {name} of config file {path} is shadowed by a flag or environment variable")
        del found[name]
    return found


def _targets(names: dict[str, str]) -> set[str]:
    return {_BY_NAME[name].target or name for name in names}


def parse_config(argv: list[str], environ: Mapping[str, str],
                 warn: Callable[[str], None] = lambda message: None) -> Config:
    """Flags, environment and --config-file -> Config. Reads only the config file: warnings
    go to `warn`, errors are ConfigError, -h/--help and --version raise InfoRequested."""
    from_argv = _scan_argv(list(argv))
    from_env = _scan_environ(environ, _targets(from_argv), warn)
    path = from_argv.get("config-file", from_env.get("config-file"))
    from_file = _scan_file(path, _targets(from_argv) | _targets(from_env), warn)
    source = {name: f"key {name} of config file {path}" for name in from_file}
    source |= {name: f"environment variable {_BY_NAME[name].env}" for name in from_env}
    source |= {name: f"flag {_BY_NAME[name].shown}" for name in from_argv}
    values = _convert(from_file | from_env | from_argv, source)
    _check_conflicts(values, source)
    return _build(_clamped(values, source, warn))


def _clamped(values: dict[str, Any], source: dict[str, str],
             warn: Callable[[str], None]) -> dict[str, Any]:
    """0.4 raised a cluster config value below its floor to the floor, with a warning."""
    for name, field in _FIELD.items():
        minimum = MINIMUMS.get(field)
        if minimum is not None and name in values and values[name] < minimum:
            warn(f"{source[name]}: {values[name]} is below the minimum; using {minimum}")
            values[name] = minimum
    return values


def _check_conflicts(values: dict[str, Any], source: dict[str, str]) -> None:
    for name in values:
        target = _BY_NAME[name].target
        if target in values:
            raise ConfigError(f"{source[name]} and {source[target]} cannot both be set")
    if "listen-client-urls" in values and not {"advertise-client-urls", "addr"} & values.keys():
        raise ConfigError("--advertise-client-urls is required when --listen-client-urls is "
                          "set explicitly")
    if values.get("discovery") is not None and "initial-cluster" in values:
        raise ConfigError('multiple discovery or bootstrap flags are set. Choose one of '
                          '"initial-cluster" or "discovery"')


def _build(values: dict[str, Any]) -> Config:
    kwargs = {_FIELD.get(name, name.replace("-", "_")): value for name, value in values.items()
              if name in _FIELD or not (_BY_NAME[name].legacy or name in _NOT_FIELDS)}
    _apply_addr(kwargs, values, "addr", "bind-addr", 4001, "client")
    _apply_addr(kwargs, values, "peer-addr", "peer-bind-addr", 2380, "peer")
    return Config(**kwargs)


_FIELD = {"heartbeat-interval": "heartbeat_interval_ms", "election-timeout": "election_timeout_ms",
          "peer-heartbeat-interval": "heartbeat_interval_ms", "peers": "peers",
          "peer-election-timeout": "election_timeout_ms",
          "enable-discovery-service": "discovery_service", "cluster-active-size": "active_size",
          "cluster-remove-delay": "remove_delay_s", "cluster-sync-interval": "sync_interval_s",
          }  # where it isn't the snake-case name
# Checked, then used up: the file is read above, and 'exit' is the only fallback.
_NOT_FIELDS = frozenset({"config-file", "discovery-fallback"})


def _apply_addr(kwargs: dict[str, Any], values: dict[str, Any], addr: str, bind: str,
                default_port: int, kind: str) -> None:
    """0.4: -addr is advertised and, without -bind-addr, also listened on. A bare
    -bind-addr host takes -addr's port, or else `default_port` (0.4's client port 4001;
    for peers our default 2380, since we advertise 2380 and not 0.4's 7001)."""
    advertise_field = "advertise_client_urls" if kind == "client" else "initial_advertise_peer_urls"
    listen_field = f"listen_{kind}_urls"
    url: Url | None = values.get(addr)
    if url is not None:
        kwargs[advertise_field] = (url,)
    if bind in values:
        host, port = values[bind]
        inherited = url.port if url is not None else default_port
        kwargs[listen_field] = (Url("http", host, inherited if port is None else port),)
    elif url is not None and listen_field not in kwargs:
        kwargs[listen_field] = (url,)
