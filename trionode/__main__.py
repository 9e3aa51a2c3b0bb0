"""Command line: flags -> Config -> trio.run(node.serve).

Exit codes: 0 clean shutdown (or --help/--version), 1 the node could not start: its data,
an address to listen on or a TLS file (DataDirError, WalCorruptError, ListenError,
TlsError), 2 bad flags or environment, 130 interrupted before the
node's own SIGINT handling took over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import trio
from structlog.typing import FilteringBoundLogger

from .config.errors import ConfigError
from .config.flags import InfoRequested, parse_config
from .net.listen import ListenError
from .net.tls import TlsError
from .storage.errors import DataDirError, WalCorruptError
from .telemetry.log import configure_logging

__all__ = ["main"]

_START_ERRORS = (DataDirError, WalCorruptError, ListenError, TlsError)
_FD_CEILING = 1 << 20  # Linux's default nr_open, for when the hard limit is unlimited


def main(argv: Sequence[str] | None = None) -> int:
    warnings: list[str] = []
    try:
        config = parse_config(list(sys.argv[1:] if argv is None else argv), os.environ,
                              warnings.append)
    except InfoRequested as info:
        sys.stdout.write(info.text)
        return 0
    except ConfigError as exc:
        sys.stderr.write(f"trionode: {exc}\n")
        return 2
    log = configure_logging(config.log_format, config.log_level, config.name)
    for warning in warnings:  # held back until the log format was known
        log.warning(warning)
    _raise_fd_limit(log)
    _fix_mmap_threshold(log)
    from .node import serve  # here, not at the top: it pulls in the whole server

    try:
        trio.run(serve, config, log)
    except ConfigError as exc:  # found only at start-up, e.g. our name not in the cluster
        sys.stderr.write(f"trionode: {exc}\n")
        return 2
    except (KeyboardInterrupt, *_START_ERRORS, BaseExceptionGroup) as exc:
        return _exit_code(exc, log)
    return 0


def _exit_code(exc: BaseException, log: FilteringBoundLogger) -> int:
    """Known ways to stop -> exit code; anything else is a bug and keeps its traceback."""
    leaves = _leaves(exc)
    if not all(isinstance(leaf, (KeyboardInterrupt, *_START_ERRORS)) for leaf in leaves):
        raise exc
    data_errors = [leaf for leaf in leaves if isinstance(leaf, _START_ERRORS)]
    for error in data_errors:
        log.error("cannot start", error=str(error), kind=type(error).__name__)
    if data_errors:
        return 1
    log.info("interrupted")
    return 130


def _leaves(exc: BaseException) -> list[BaseException]:
    # Nurseries wrap what escapes them in exception groups, possibly nested.
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _raise_fd_limit(log: FilteringBoundLogger) -> None:
    """Soft RLIMIT_NOFILE -> hard: every watcher holds a connection, and there may be tens
    of thousands of them."""
    try:
        import resource
    except ImportError:  # not a Unix
        return
    infinity = resource.RLIM_INFINITY
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit cannot become the soft one on Linux (nr_open caps it).
    target = _FD_CEILING if hard == infinity else hard
    if soft == infinity or soft >= target:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("cannot raise the open file limit", soft=soft, hard=hard, error=str(exc))
    else:
        log.debug("raised the open file limit", old=soft, new=target)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD = 128 * 1024  # glibc's initial value


def _fix_mmap_threshold(log: FilteringBoundLogger) -> None:
    """Keep glibc's mmap threshold at its initial 128 KiB.

    glibc raises the threshold each time a large mmapped block is freed, after which
    blocks of that size come from the heap instead and are never given back. A snapshot
    is a few MiB built and freed every --snapshot-count entries; with the dynamic
    threshold each one stayed in the heap: 100k keys cost 56 MiB of RSS instead of 40.
    Setting the threshold explicitly turns the adjustment off. Other C libraries: no-op.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    if not mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD):
        log.debug("mallopt refused the mmap threshold")


if __name__ == "__main__":
    sys.exit(main())
