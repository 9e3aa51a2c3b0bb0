"""The client's TLS settings: tls_context(), built as etcd's Go client builds its own.

etcd 3.4 (pkg/transport/listener.go TLSInfo.ClientConfig, pkg/tlsutil) gives its v2 client
TLS 1.2 or later, verifies the server's certificate and host name (IP hosts against IP
SANs only, never the common name), trusts only the CA file when one is given and presents a
client certificate when both a cert and a key file are given. The same here, on OpenSSL:

* no CA file: the system's roots (OpenSSL's default paths, so SSL_CERT_FILE and SSL_CERT_DIR
  count, as they do for Go on Linux);
* a CA file: its PEM blocks, and nothing else. Every block is loaded whatever its type, as
  Go's NewCertPool does; a file with no PEM in it is an empty pool, so that every server is
  then of an unknown authority (Go's behaviour, not an error);
* any certificate of the pool may anchor a chain (OpenSSL's partial-chain flag), as in Go.

Errors are TlsConfigError with the texts etcdctl prints (checked against etcdctl 3.4.23),
in Go's order: both cert and key or neither, read the cert, read the key, the key pair's PEM
blocks, the certificate, the key, whether they match; then the CA file.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl

from .connection import go_errno_text
from .errors import TlsConfigError
from .x509 import key_algorithm, malformed_text, read_certificate

__all__ = ["tls_context", "pem_blocks"]

_PEM = re.compile(rb"-----BEGIN ([^\r\n-]*)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """(type, DER) of every PEM block Go's pem.Decode would return, in order."""
    blocks = []
    for match in _PEM.finditer(data):
        lines = match.group(2).splitlines()
        body = b"".join(line.strip() for line in lines if b":" not in line)
        try:
            blocks.append((match.group(1).decode("latin-1"), base64.b64decode(body, validate=True)))
        except (binascii.Error, ValueError):
            continue                        # Go skips a block it cannot decode
    return blocks


def _read(path: str) -> bytes:
    """Go's ioutil.ReadFile, with its error texts ("open P: ...", "read P: ...")."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError as exc:
        raise TlsConfigError(f"read {path}: {go_errno_text(exc)}") from None
    except OSError as exc:
        raise TlsConfigError(f"open {path}: {go_errno_text(exc)}") from None


def _no_password() -> bytes:
    return b""      # an encrypted key is refused (Go cannot read one either), never prompted


def _key_pair(context: ssl.SSLContext, cert_file: str, key_file: str) -> None:
    """Go's tlsutil.NewCert: read both files, then tls.X509KeyPair's checks and texts."""
    cert_pem, key_pem = _read(cert_file), _read(key_file)
    blocks = pem_blocks(cert_pem)
    certs = [der for kind, der in blocks if kind == "CERTIFICATE"]
    skipped = [kind for kind, _ in blocks if kind != "CERTIFICATE"]
    if not certs:
        if not skipped:
            raise TlsConfigError("tls: failed to find any PEM data in certificate input")
        if len(skipped) == 1 and skipped[0].endswith("PRIVATE KEY"):
            raise TlsConfigError("tls: failed to find certificate PEM data in certificate input, "
                                 "but did find a private key; PEM inputs may have been switched")
        raise TlsConfigError('tls: failed to find "CERTIFICATE" PEM block in certificate input '
                             f"after skipping PEM blocks of the following types: [{' '.join(skipped)}]")
    skipped = []
    for kind, key_der in pem_blocks(key_pem):
        if kind == "PRIVATE KEY" or kind.endswith(" PRIVATE KEY"):
            break
        skipped.append(kind)
    else:
        if not skipped:
            raise TlsConfigError("tls: failed to find any PEM data in key input")
        if skipped == ["CERTIFICATE"]:
            raise TlsConfigError("tls: found a certificate rather than a key in the PEM for the "
                                 "private key")
        raise TlsConfigError('tls: failed to find PEM block with type ending in "PRIVATE KEY" in '
                             f"key input after skipping PEM blocks of the following types: "
                             f"[{' '.join(skipped)}]")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=certs[0])
        public = read_certificate(certs[0]).key_algorithm
    except (ssl.SSLError, ValueError):
        raise TlsConfigError(malformed_text(certs[0])) from None
    try:
        context.load_cert_chain(cert_file, key_file, password=_no_password)
    except ssl.SSLError as exc:
        # a key of another type lands in another slot: then no certificate is "assigned"
        if exc.reason not in ("KEY_VALUES_MISMATCH", "NO_CERTIFICATE_ASSIGNED"):
            raise TlsConfigError("tls: failed to parse private key") from None
        private = key_algorithm(key_der, kind)
        if public and private and public != private:
            raise TlsConfigError("tls: private key type does not match public key type") from None
        raise TlsConfigError("tls: private key does not match public key") from None
    except OSError as exc:                  # the file went away between the two reads
        raise TlsConfigError(f"open {exc.filename or cert_file}: {go_errno_text(exc)}") from None


def tls_context(ca_file: str | None = None, cert_file: str | None = None,
                key_file: str | None = None) -> ssl.SSLContext:
    """A client SSLContext as etcd's Go client builds one (module docstring); an empty
    string counts as not given, as with etcdctl's flags. Raises TlsConfigError."""
    ca_file, cert_file, key_file = ca_file or "", cert_file or "", key_file or ""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)       # CERT_REQUIRED, check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.hostname_checks_common_name = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise TlsConfigError("KeyFile and CertFile must both be present"
                                 f"[key: {key_file}, cert: {cert_file}]")
        _key_pair(context, cert_file, key_file)
    if not ca_file:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return context
    for _, der in pem_blocks(_read(ca_file)):
        try:
            context.load_verify_locations(cadata=der)
        except ssl.SSLError:
            raise TlsConfigError(malformed_text(der)) from None
    return context
