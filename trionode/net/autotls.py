"""Auto-TLS: the self-signed certificate etcd's --auto-tls / --peer-auto-tls makes at start.

Like etcd's (pkg/transport SelfCert), it lives in <data-dir>/fixtures/{client,peer}/ as
cert.pem and key.pem, is reused as it is when both files are there, names the listen
URLs' hosts (IP literals as IP SANs, names as DNS SANs) and is valid for a year. The key
is ECDSA P-256 (etcd's is P-521: P-256 is as safe for this and its handshakes are
cheaper). Made with `cryptography`, since Python's ssl module cannot make certificates.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..storage.files import ensure_dir, write_atomic

__all__ = ["VALIDITY", "self_signed_files"]

VALIDITY = datetime.timedelta(days=365)


def self_signed_files(directory: Path, hosts: Iterable[str]) -> tuple[str, str]:
    """(cert path, key path) in `directory`, made now unless both are already there."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not (cert.exists() and key.exists()):
        cert_pem, key_pem = _make(sorted(set(hosts)))
        ensure_dir(directory)
        directory.chmod(0o700)
        write_atomic(key, [key_pem])
        write_atomic(cert, [cert_pem])
    return str(cert), str(key)


def _make(hosts: list[str]) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trionode")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([_san(host) for host in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
