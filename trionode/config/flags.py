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
from typing import Any, Literal

from .. import ETCD_SERVER_VERSION, __version__
from ..gocompat.jsontext import quote
from .errors import ConfigError
from .file import load_config_file
from .options import BY_ENV, BY_NAME, FLAGS, usage
from .tls import TlsSettings
from .values import CLIENT_URLS, PEER_URLS, Url, to_bool, url_list

__all__ = ["FLAGS", "Config", "HttpSettings", "InfoRequested", "TlsSettings", "Url", "parse_config", "usage"]

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
    client_tls: TlsSettings = TlsSettings()
    peer_tls: TlsSettings = TlsSettings()

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
        if not all(member for member, _ in self.initial_cluster):
            raise ConfigError("--initial-cluster: empty member name")
        self.client_tls.check("client", self.listen_client_urls)
        self.peer_tls.check("peer", self.listen_peer_urls)
        self._validate_peer_schemes()

    def _validate_peer_schemes(self) -> None:
        """One scheme for every peer URL of the cluster: a member cannot speak TLS to some
        peers and plain TCP to others (etcd would start such a cluster and fail to dial)."""
        urls = [*self.listen_peer_urls, *self.initial_advertise_peer_urls,
                *(url for _, url in self.initial_cluster), *map(Url.parse, self.peers)]
        if len({url.scheme for url in urls}) > 1:
            listed = ", ".join(sorted({str(url) for url in urls}))
            raise ConfigError(f"mixed http and https peer URLs ({listed}): every member of a cluster "
                              f"must use the same scheme for its peer URLs")

    def notes(self) -> list[str]:
        """Warnings about settings that start but are ignored or risky (TLS, for now)."""
        return [*self.client_tls.notes("client", self.listen_client_urls),
                *self.peer_tls.notes("peer", self.listen_peer_urls)]

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
        if name not in BY_NAME:
            raise ConfigError(f"flag provided but not defined: {token.partition('=')[0]}")
        if not eq and BY_NAME[name].convert is to_bool:
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
        flag = BY_ENV.get(key)
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
            values[name] = BY_NAME[name].convert(text)
        except ConfigError as exc:
            raise ConfigError(f"invalid value {quote(text)} for {source[name]}: {exc}") from None
    return values


def _scan_file(path: str | None, shadowed: set[str],
               warn: Callable[[str], None]) -> dict[str, str]:
    if not path:
        return {}
    found = load_config_file(path, BY_NAME.keys() - {"config-file"})
    for name in [name for name in found if (BY_NAME[name].target or name) in shadowed]:
        warn(f"key {name} of config file {path} is shadowed by a flag or environment variable")
        del found[name]
    return found


def _targets(names: dict[str, str]) -> set[str]:
    return {BY_NAME[name].target or name for name in names}


def parse_config(argv: list[str], environ: Mapping[str, str],
                 warn: Callable[[str], None] = lambda message: None) -> Config:
    """Flags, environment and --config-file -> Config. Reads only the config file: warnings
    go to `warn`, errors are ConfigError, -h/--help and --version raise InfoRequested."""
    from_argv = _scan_argv(list(argv))
    from_env = _scan_environ(environ, _targets(from_argv), warn)
    path = from_argv.get("config-file", from_env.get("config-file"))
    from_file = _scan_file(path, _targets(from_argv) | _targets(from_env), warn)
    source = {name: f"key {name} of config file {path}" for name in from_file}
    source |= {name: f"environment variable {BY_NAME[name].env}" for name in from_env}
    source |= {name: f"flag {BY_NAME[name].shown}" for name in from_argv}
    values = _convert(from_file | from_env | from_argv, source)
    _check_conflicts(values, source)
    config = _build(_clamped(values, source, warn))
    for note in config.notes():
        warn(note)
    return config


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
        target = BY_NAME[name].target
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
              if name in _FIELD or not (BY_NAME[name].legacy or name in _NOT_FIELDS)}
    client_tls, peer_tls = _tls(kwargs, values, ""), _tls(kwargs, values, "peer-")
    # 0.4 had no scheme in its addresses: https exactly when that port has a cert and key.
    _apply_addr(kwargs, values, "addr", "bind-addr", 4001, "client", client_tls.has_files)
    _apply_addr(kwargs, values, "peer-addr", "peer-bind-addr", 2380, "peer", peer_tls.has_files)
    if peer_tls.has_files and "peers" in kwargs:
        kwargs["peers"] = tuple(str(_with_scheme(Url.parse(peer), True)) for peer in kwargs["peers"])
    return Config(**kwargs, client_tls=client_tls, peer_tls=peer_tls)


def _tls(kwargs: dict[str, Any], values: dict[str, Any], prefix: str) -> TlsSettings:
    """Take one port's TLS flags out of `kwargs`; 0.4's -[peer-]ca-file also means
    client certificate authentication (it did in 0.4, and a CA file alone does in 3.4)."""
    fields = ("cert-file", "key-file", "trusted-ca-file", "client-cert-auth", "auto-tls")
    given = {name.replace("-", "_"): kwargs.pop(f"{prefix}{name}".replace("-", "_"))
             for name in fields if f"{prefix}{name}" in values}
    legacy_ca = values.get(f"{prefix}ca-file")
    if legacy_ca:
        given |= {"trusted_ca_file": legacy_ca, "client_cert_auth": True}
    return TlsSettings(**given)


def _with_scheme(url: Url, secure: bool) -> Url:
    return dataclasses.replace(url, scheme="https" if secure else "http")


_FIELD = {"heartbeat-interval": "heartbeat_interval_ms", "election-timeout": "election_timeout_ms",
          "peer-heartbeat-interval": "heartbeat_interval_ms", "peers": "peers",
          "peer-election-timeout": "election_timeout_ms",
          "enable-discovery-service": "discovery_service", "cluster-active-size": "active_size",
          "cluster-remove-delay": "remove_delay_s", "cluster-sync-interval": "sync_interval_s",
          }  # where it isn't the snake-case name
# Checked, then used up: the file is read above, and 'exit' is the only fallback.
_NOT_FIELDS = frozenset({"config-file", "discovery-fallback"})


def _apply_addr(kwargs: dict[str, Any], values: dict[str, Any], addr: str, bind: str,
                default_port: int, kind: str, secure: bool) -> None:
    """0.4: -addr is advertised and, without -bind-addr, also listened on. A bare
    -bind-addr host takes -addr's port, or else `default_port` (0.4's client port 4001;
    for peers our default 2380, since we advertise 2380 and not 0.4's 7001)."""
    advertise_field = "advertise_client_urls" if kind == "client" else "initial_advertise_peer_urls"
    listen_field = f"listen_{kind}_urls"
    url: Url | None = values.get(addr)
    if url is not None:
        url = _with_scheme(url, secure)
        kwargs[advertise_field] = (url,)
    if bind in values:
        host, port = values[bind]
        inherited = url.port if url is not None else default_port
        kwargs[listen_field] = (Url("https" if secure else "http", host,
                                    inherited if port is None else port),)
    elif url is not None and listen_field not in kwargs:
        kwargs[listen_field] = (url,)
