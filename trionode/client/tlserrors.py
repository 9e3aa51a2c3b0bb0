"""TLS failures in the words of Go's crypto/tls and net/http, as etcdctl prints them.

etcdctl 3.4 shows the raw Go error after "error #0: " (docs/research/etcd-3.4-tls.md §3):

    x509: certificate signed by unknown authority
    x509: certificate is valid for wrong.example.org, not localhost
    x509: certificate has expired or is not yet valid: current time T is after T2
    remote error: tls: bad certificate            (an alert from the server)
    EOF                                           (closed during the handshake)
    tls: first record does not look like a TLS handshake     (a reply that is no TLS)

(The last is also what an HTTP reply to the ClientHello gets: Go's "server gave HTTP
response to HTTPS client" comes from http.Client, which etcd's v2 client does not use.)

The alert texts are Go's names of the alert the server sent (crypto/tls alert.go), so they
depend on the server: etcd (Go) answers a missing or unknown client certificate with
bad_certificate, an OpenSSL server with certificate_required or unknown_ca.

A refused server certificate is explained from the certificate itself (x509.py), because
OpenSSL and Go check in different orders and only Go's text names the certificate's hosts.
OpenSSL keeps no certificate it refused (Python 3.11 has no get_unverified_chain), so it is
fetched again: a second handshake to the same address that verifies nothing, made only on
this error path and bounded by EXPLAIN_TIMEOUT_S. When that fails too (the server went away,
or requires a client certificate under TLS 1.2 and so aborts before the handshake ends),
the text comes from OpenSSL's verify code alone.
"""

from __future__ import annotations

import ssl
from datetime import datetime

import trio

from .x509 import CertInfo, host_matches, hostname_error, read_certificate, validity_error

__all__ = ["failure_text", "verify_failure_text", "ssl_error_in",
           "UNKNOWN_AUTHORITY", "EXPLAIN_TIMEOUT_S"]

UNKNOWN_AUTHORITY = "x509: certificate signed by unknown authority"
NOT_TLS = "tls: first record does not look like a TLS handshake"
EXPLAIN_TIMEOUT_S = 1.0

#: OpenSSL's reason for a received alert -> Go's name of that alert
ALERTS = {
    "SSLV3_ALERT_UNEXPECTED_MESSAGE": "unexpected message",
    "SSLV3_ALERT_BAD_RECORD_MAC": "bad record MAC",
    "TLSV1_ALERT_DECRYPTION_FAILED": "decryption failed",
    "TLSV1_ALERT_RECORD_OVERFLOW": "record overflow",
    "SSLV3_ALERT_DECOMPRESSION_FAILURE": "decompression failure",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "handshake failure",
    "SSLV3_ALERT_NO_CERTIFICATE": "alert(41)",        # not in Go's table: printed as a number
    "SSLV3_ALERT_BAD_CERTIFICATE": "bad certificate",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "unsupported certificate",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "revoked certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "expired certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "unknown certificate",
    "SSLV3_ALERT_ILLEGAL_PARAMETER": "illegal parameter",
    "TLSV1_ALERT_UNKNOWN_CA": "unknown certificate authority",
    "TLSV1_ALERT_ACCESS_DENIED": "access denied",
    "TLSV1_ALERT_DECODE_ERROR": "error decoding message",
    "TLSV1_ALERT_DECRYPT_ERROR": "error decrypting message",
    "TLSV1_ALERT_EXPORT_RESTRICTION": "export restriction",
    "TLSV1_ALERT_PROTOCOL_VERSION": "protocol version not supported",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY": "insufficient security level",
    "TLSV1_ALERT_INTERNAL_ERROR": "internal error",
    "TLSV1_ALERT_INAPPROPRIATE_FALLBACK": "inappropriate fallback",
    "TLSV1_ALERT_USER_CANCELLED": "user canceled",
    "TLSV1_ALERT_NO_RENEGOTIATION": "no renegotiation",
    "TLSV13_ALERT_MISSING_EXTENSION": "missing extension",
    "TLSV1_UNSUPPORTED_EXTENSION": "unsupported extension",
    "TLSV1_CERTIFICATE_UNOBTAINABLE": "certificate unobtainable",
    "TLSV1_UNRECOGNIZED_NAME": "unrecognized name",
    "TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE": "bad certificate status response",
    "TLSV1_BAD_CERTIFICATE_HASH_VALUE": "bad certificate hash value",
    "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY": "unknown PSK identity",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "certificate required",
    "TLSV1_ALERT_NO_APPLICATION_PROTOCOL": "no application protocol",
}
#: OpenSSL's reasons for a first record that is no TLS at all
_NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE",
                    "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "UNEXPECTED_RECORD")
#: X509_V_ERR_*: 2 unable to get issuer, 7 bad signature, 18 self-signed leaf, 19 self-signed
#: in chain, 20 issuer not local, 21 leaf signature, 24 invalid CA, 27 untrusted
_UNKNOWN_AUTHORITY_CODES = frozenset({2, 7, 18, 19, 20, 21, 24, 27})
_NAME_CODES = frozenset({62, 64})           # hostname mismatch, IP address mismatch
_PERIOD_CODES = frozenset({9, 10})          # not yet valid, expired
_PURPOSE_CODE = 26


def ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError a trio BrokenResourceError was raised from (or exc itself)."""
    seen = 0
    while exc is not None and seen < 4:
        if isinstance(exc, ssl.SSLError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def failure_text(exc: BaseException) -> str | None:
    """Go's text for a TLS failure other than a refused certificate, or None when `exc` is
    no TLS failure (an OSError of the socket: the caller words that)."""
    err = ssl_error_in(exc)
    if err is None or isinstance(err, ssl.SSLCertVerificationError):
        return None
    reason = err.reason or ""
    if reason in ALERTS:
        return "remote error: tls: " + ALERTS[reason]
    if isinstance(err, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or "EOF" in reason:
        return "EOF"
    if reason in _NOT_TLS_REASONS:
        return NOT_TLS
    return "tls: " + (reason.lower().replace("_", " ") if reason else str(err))


async def _peer_certificate(host: str, port: int) -> CertInfo | None:
    """The server's certificate from a handshake that verifies nothing (error path only)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with trio.move_on_after(EXPLAIN_TIMEOUT_S):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            return None
        tls = trio.SSLStream(stream, context, server_hostname=host, https_compatible=True)
        try:
            await tls.do_handshake()
            der = tls.getpeercert(binary_form=True)
            return read_certificate(der) if der else None
        except (trio.BrokenResourceError, OSError, ValueError):
            return None
        finally:
            stream.socket.close()
    return None


async def verify_failure_text(err: ssl.SSLCertVerificationError, host: str, port: int) -> str:
    """Go's text for a server certificate OpenSSL refused: its validity period first, then
    the host name, then the chain (x509 Certificate.Verify's order)."""
    cert = await _peer_certificate(host, port)
    if cert is not None:
        period = validity_error(cert, datetime.now().astimezone())
        if period is not None:
            return period
        if not host_matches(cert, host):
            return hostname_error(cert, host)
    code = err.verify_code
    if code in _NAME_CODES:
        return hostname_error(cert, host) if cert else f"x509: certificate is not valid for {host}"
    if code in _UNKNOWN_AUTHORITY_CODES:
        return UNKNOWN_AUTHORITY
    if code in _PERIOD_CODES:
        return "x509: certificate has expired or is not yet valid"
    if code == _PURPOSE_CODE:
        return "x509: certificate specifies an incompatible key usage"
    return "x509: " + (err.verify_message or str(err))
