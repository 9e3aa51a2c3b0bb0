"""One invocation's edge: the console, exit codes, the client and etcdctl's sync step.

etcdctl (etcdctl/ctlv2/command/util.go, error.go) builds its client before the command
looks at its arguments, syncs the endpoint list through /v2/members unless --no-sync, and
leaves with os.Exit from wherever a failure happens. Here a failure prints what etcdctl
prints and raises Exit(code), which main() turns into the exit status.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import BinaryIO, NoReturn, TypeVar

import trio

from ..client import (
    Client,
    ClientError,
    ClusterError,
    NoEndpointsError,
    RequestInfo,
    TlsConfigError,
    tls_context,
)
from ..gocompat.parse import GoSyntaxError, quote
from .args import GlobalOptions, endpoints_from
from .output import Printed

__all__ = [
    "EXIT_BAD_ARGS", "EXIT_BAD_CONNECTION", "EXIT_BAD_FEATURE", "EXIT_SERVER_ERROR",
    "EXIT_CLUSTER_NOT_HEALTHY", "Exit", "DeadlineExceeded", "Console", "Call",
    "fail", "uint64_flag", "within_total", "before", "open_client", "is_connection_error",
    "curl_line", "tls_settings",
]

# etcdctl's exit codes (pkg/cobrautl: ExitBadArgs ... ExitClusterNotHealthy)
EXIT_BAD_ARGS = 1
EXIT_BAD_CONNECTION = 2
EXIT_BAD_FEATURE = 3
EXIT_SERVER_ERROR = 4
EXIT_CLUSTER_NOT_HEALTHY = 5

T = TypeVar("T")


def uint64_flag(call: "Call", flag: str) -> int:
    """An int flag as etcdctl passes it on, through Go's uint64(...): -1 is 2**64 - 1."""
    return int(call.flags[flag]) % (1 << 64)


class Exit(Exception):
    """Leave with this status; everything to print has been printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class DeadlineExceeded(Exception):
    """--total-timeout ran out (Go's context.DeadlineExceeded, printed as such)."""

    def __str__(self) -> str:
        return "context deadline exceeded"


_SURROGATE = re.compile("[\ud800-\udfff]")


class Console:
    """stdout and stderr as etcdctl writes them: bytes, unbuffered (watch output and
    exec-watch children interleave on the same streams)."""

    def __init__(self, out: BinaryIO, err: BinaryIO) -> None:
        self._out, self._err = out, err

    @staticmethod
    def _write(stream: BinaryIO, text: str) -> None:
        if not text:
            return
        try:
            # arguments decoded with surrogateescape go back out as the bytes they were
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = _SURROGATE.sub("\ufffd", text).encode("utf-8")
        stream.write(data)
        stream.flush()

    def out(self, text: str) -> None:
        self._write(self._out, text)

    def err(self, text: str) -> None:
        self._write(self._err, text)

    def show(self, printed: Printed) -> None:
        self.out(printed.out)
        self.err(printed.err)


@dataclass(frozen=True, slots=True)
class Call:
    """One command as the user gave it."""
    name: str                              # "get", "member list", ...
    options: GlobalOptions
    flags: Mapping[str, object]
    args: tuple[str, ...]
    console: Console
    read_stdin: Callable[[], bytes]


def fail(console: Console, code: int, error: BaseException | str) -> NoReturn:
    """etcdctl's handleError: `Error:  <error>`, the cluster detail, then exit."""
    console.err(f"Error:  {error}\n")
    if isinstance(error, ClusterError):
        console.err(error.detail() + "\n")
    raise Exit(code)


async def within_total(options: GlobalOptions, fn: Callable[..., Awaitable[T]],
                       *args: object) -> T:
    """Run fn(*args) under --total-timeout (etcdctl's contextWithTotalTimeout)."""
    return await before(trio.current_time() + options.total_timeout, fn, *args)


async def before(deadline: float, fn: Callable[..., Awaitable[T]], *args: object) -> T:
    """Run fn(*args), or raise DeadlineExceeded at `deadline` (trio clock): one context
    deadline shared by several requests, as member list shares one for list and leader."""
    with trio.move_on_at(deadline):
        return await fn(*args)
    raise DeadlineExceeded()


def is_connection_error(error: BaseException) -> bool:
    """etcdctl's isConnectionError: a dial/read failure or a timeout on every endpoint."""
    if isinstance(error, DeadlineExceeded):
        return True
    if isinstance(error, ClusterError):
        return all(m.startswith(("dial ", "read ")) for m in error.errors)
    return False


def curl_line(info: RequestInfo) -> str:
    """The Go client's --debug line for one request."""
    line = f"cURL Command: curl -X {info.method} {info.url}"
    if info.body is not None:
        line += " -d " + quote(info.body.decode("utf-8", "surrogateescape"))
    return line + "\n"


class _SchemeRefused:
    """Stands in for the client when no endpoint is http(s). Go's transport refuses such a
    URL ("localhost:2379" parses with scheme "localhost") on every attempt, so every call
    fails with a ClusterError of `unsupported protocol scheme "x"`, one per endpoint."""

    def __init__(self, endpoints: tuple[str, ...]) -> None:
        self.endpoints = endpoints
        self._error = ClusterError(tuple(f'unsupported protocol scheme "{_scheme(e)}"'
                                         for e in endpoints))

    async def __aenter__(self) -> _SchemeRefused:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise self._error

    async def watch(self, *args: object, **kwargs: object) -> AsyncIterator[object]:
        raise self._error
        yield                                   # an async generator, as Client.watch

    def __getattr__(self, name: str) -> Callable[..., Awaitable[NoReturn]]:
        return self._refuse


def _scheme(url: str) -> str:
    return url.split(":", 1)[0]


def tls_settings(call: Call) -> ssl.SSLContext | None:
    """etcdctl's getTransport: the TLS context of --ca-file/--cert-file/--key-file (or their
    ETCDCTL_* variables); None for the system's roots. Raises TlsConfigError."""
    options = call.options
    if not (options.ca_file or options.cert_file or options.key_file):
        return None
    return tls_context(options.ca_file, options.cert_file, options.key_file)


def _new_client(call: Call, on_request: Callable[[RequestInfo], None] | None,
                context: ssl.SSLContext | None) -> Client | _SchemeRefused:
    """etcdctl's newClient: the endpoints, then the TLS files; what it refuses is printed
    bare and ends the run with status 1."""
    options, console = call.options, call.console
    try:
        if options.discovery_srv:
            raise ValueError("--discovery-srv (DNS SRV discovery) is not supported by "
                             "trionodectl; give the endpoints with --endpoints")
        endpoints = endpoints_from(options.endpoint_list)
        if context is None:
            context = tls_settings(call)
        if options.username:
            raise ValueError("--username is not supported by trionodectl "
                             "(trionode has no v2 auth)")
        usable = tuple(e for e in endpoints if _scheme(e) in ("http", "https"))
        if not usable:
            return _SchemeRefused(endpoints)
        return Client(usable, timeout=options.timeout, on_request=on_request,
                      ssl_context=context)
    except (GoSyntaxError, ValueError, TlsConfigError) as exc:
        console.err(f"{exc}\n")
        raise Exit(EXIT_BAD_ARGS) from None


async def _sync(call: Call, client: Client) -> None:
    """mustNewClient's sync: only a connection failure or an empty cluster is fatal."""
    options, console = call.options, call.console
    if options.debug:
        console.err(f"start to sync cluster using endpoints({','.join(client.endpoints)})\n")
    try:
        await within_total(options, client.sync)
    except NoEndpointsError as exc:
        console.err("etcd cluster has no published client endpoints.\n")
        console.err("Try '--no-sync' if you want to access non-published client "
                    f"endpoints({','.join(client.endpoints)}).\n")
        fail(console, EXIT_SERVER_ERROR, exc)
    except (ClientError, DeadlineExceeded) as exc:
        # any other failure is not fatal: etcdctl goes on with the endpoints it was given
        if is_connection_error(exc):
            fail(console, EXIT_BAD_CONNECTION, exc)
    if options.debug:
        console.err(f"got endpoints({','.join(client.endpoints)}) after sync\n")


@asynccontextmanager
async def open_client(call: Call, *, sync: bool = True,
                      ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Client]:
    """The client of one invocation: synced unless --no-sync, or unless `sync` is False
    (cluster-health uses the endpoints as given, and prints Cluster-Endpoints first).
    `ssl_context`: tls_settings(call) when the command made it already."""
    options, console = call.options, call.console

    def debug(info: RequestInfo) -> None:
        console.err(curl_line(info))

    client = _new_client(call, debug if options.debug else None, ssl_context)
    async with client:
        if sync and not options.no_sync:
            await _sync(call, client)
        if options.debug:
            console.err(f"Cluster-Endpoints: {', '.join(client.endpoints)}\n")
        yield client
