"""TLS for both ports: SSL contexts from a port's TlsSettings, and the handshake of an
accepted connection (a TlsStream, tlsstream.py).

What the contexts do is etcd 3.4's (docs/research/etcd-3.4-tls.md §2): TLS 1.2 at least;
a client certificate is asked for only when the port verifies clients, and then required;
a peer dials https peers presenting its own certificate, trusting the peer CA file (or the
system store), and trusting anything when its certificate is auto-TLS's, as etcd does.

Certificate, key and CA files are read here, once, when the node starts: a file that
cannot be used is a TlsError with Go's words ("open X: no such file or directory").
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from ..config.tls import Port, TlsSettings
from .tlsstream import TlsStream

__all__ = ["PortTls", "TlsError", "handshake", "peer_address", "port_tls", "ssl_failure"]


#: how long a refused client gets to read the alert that says why (it is a few bytes)
REFUSE_TIMEOUT = 1.0


class TlsError(Exception):
    """A certificate, key or CA file that cannot be used: the node does not start."""


@dataclass(frozen=True, slots=True)
class PortTls:
    """One port's contexts: `server` for its https listeners, `client` for dialing https
    (the peer port's, to reach other members); None where the port has no TLS."""

    server: ssl.SSLContext | None
    client: ssl.SSLContext | None


def port_tls(settings: TlsSettings, port: Port, data_dir: Path, hosts: list[str]) -> PortTls:
    """The contexts of `port` (blocking: reads files, may write auto-TLS's). `hosts` name
    the listen URLs' hosts, which an auto-TLS certificate is made for."""
    cert, key = settings.cert_file, settings.key_file
    if settings.self_signed:
        from .autotls import self_signed_files  # cryptography is loaded only for auto-TLS

        cert, key = self_signed_files(data_dir / "fixtures" / port, hosts)
    server = _server_context(settings, cert, key, port) if cert else None
    dials_tls = port == "peer" and (cert or settings.trusted_ca_file)  # else no https peer to dial
    client = _client_context(settings, cert, key) if dials_tls else None
    return PortTls(server, client)


def _server_context(settings: TlsSettings, cert: str, key: str, port: Port) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION  # a write never has to read (tlsstream.py)
    _load_chain(context, cert, key)
    if settings.verifies_clients:
        context.verify_mode = ssl.CERT_REQUIRED
        _load_roots(context, settings.trusted_ca_file, ssl.Purpose.CLIENT_AUTH)
    if port == "client":
        context.set_alpn_protocols(["http/1.1"])
    return context


def _client_context(settings: TlsSettings, cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION
    if cert:
        _load_chain(context, cert, key)
    if settings.self_signed:  # etcd: peers with auto-TLS certificates do not verify each other
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        _load_roots(context, settings.trusted_ca_file, ssl.Purpose.SERVER_AUTH)
    return context


def _readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise TlsError(f"open {path}: {reason[:1].lower()}{reason[1:]}") from None


def _load_chain(context: ssl.SSLContext, cert: str, key: str) -> None:
    _readable(cert)
    _readable(key)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError(f"tls: private key does not match public key ({cert}, {key})") from None
        raise TlsError(f"tls: cannot load certificate {cert} with key {key}: {exc.reason or exc}") from None


def _load_roots(context: ssl.SSLContext, ca_file: str, purpose: ssl.Purpose) -> None:
    if not ca_file:
        context.load_default_certs(purpose)
        return
    _readable(ca_file)
    try:
        context.load_verify_locations(cafile=ca_file)
    except ssl.SSLError as exc:
        reason = exc.reason or exc
        raise TlsError(f"tls: no certificate could be read from CA file {ca_file}: {reason}") from None


def peer_address(stream: trio.abc.Stream) -> str:
    """host:port of the other end, for log lines ("?" once it is gone)."""
    try:
        host, port = stream.socket.getpeername()[:2]  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return "?"
    return f"{host}:{port}"


Log = Callable[..., None]


async def handshake(stream: TlsStream, timeout: float, log: Log) -> bool:
    """Complete the server side of the handshake within `timeout`; False (after one log
    line) when it failed: plain HTTP or garbage, a refused certificate, a client that
    stalled or went away. OpenSSL has sent its alert, if it had one; the caller then just
    closes the connection, as etcd does."""
    with trio.move_on_after(timeout):
        try:
            await stream.do_handshake()
            return True
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            log("tls.handshake_failed", remote=peer_address(stream), reason=_reason(exc))
            await stream.refuse(REFUSE_TIMEOUT)
            return False
    log("tls.handshake_failed", remote=peer_address(stream), reason="no handshake within the timeout")
    return False


def _reason(exc: BaseException) -> str:
    text = ssl_failure(exc)
    if text is not None:
        return text
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno)
    return "closed during the handshake"


def ssl_failure(exc: BaseException) -> str | None:
    """What went wrong in TLS, when `exc` (or what caused it: trio wraps ssl's errors) is
    an ssl error: the verify message, or OpenSSL's reason in words; else None."""
    cause = exc if isinstance(exc, ssl.SSLError) else exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return (cause.reason or type(cause).__name__).lower().replace("_", " ")
    return None
