"""A throwaway CA and certificates for running local clusters on TLS (the --tls mode of
scripts/cluster, scripts/chaos and scripts/bench).

    files = make(run_dir / "tls", hosts=("127.0.0.1", "localhost"))
    argv += files.server_flags()                 # etcd 3.4's flags, trionode's too
    context = files.client_context()             # verifies the server, shows the client cert

make() writes into one directory: ca.pem (the CA's certificate; its key is never written, so
nothing else can ever be signed by it), server.pem/server-key.pem (every member's
certificate, on both ports: it names every host given, and its extended key usage allows
both serverAuth and clientAuth, since a member dials its peers with it as its client
certificate) and client.pem/client-key.pem (what users, load generators and tests present
on a client port with client certificate authentication). Keys are ECDSA P-256 (a cheap
handshake; etcd and OpenSSL both take it), valid for a week.

Why `cryptography` and not `trustme`: cryptography is a runtime dependency of trionode (the
server's --auto-tls makes its certificate with it), so `scripts/cluster start --tls` works
wherever trionode itself does; trustme is only in the test extra, and is a thin layer over
cryptography anyway. Only the few lines below are needed.

load() finds the files make() wrote, for a later command of the same run.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import ssl
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsFiles", "make", "load", "DEFAULT_HOSTS"]

DEFAULT_HOSTS = ("127.0.0.1", "localhost")
VALIDITY = datetime.timedelta(days=7)
_NAMES = {"ca": "ca.pem", "server_cert": "server.pem", "server_key": "server-key.pem",
          "client_cert": "client.pem", "client_key": "client-key.pem"}


@dataclasses.dataclass(frozen=True, slots=True)
class TlsFiles:
    """Absolute paths of one run's PEM files."""
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str

    def server_flags(self, *, client_cert_auth: bool = True) -> list[str]:
        """A member's TLS flags (etcd 3.4's names): both ports serve the server certificate,
        peers must present a certificate of the CA, and so must clients unless
        `client_cert_auth` is off. Off means no --trusted-ca-file either: in etcd 3.4 a CA
        file alone already requires client certificates."""
        flags = ["--cert-file", self.server_cert, "--key-file", self.server_key]
        if client_cert_auth:
            flags += ["--trusted-ca-file", self.ca, "--client-cert-auth"]
        return flags + ["--peer-cert-file", self.server_cert, "--peer-key-file", self.server_key,
                        "--peer-trusted-ca-file", self.ca, "--peer-client-cert-auth"]

    def client_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        """Trusts only the CA, checks the host name, presents the client certificate."""
        context = ssl.create_default_context(cafile=self.ca)
        if client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def curl_flags(self) -> str:
        return f"--cacert {self.ca} --cert {self.client_cert} --key {self.client_key}"

    def etcdctl_flags(self) -> str:
        """etcdctl v2's (and trionodectl's) names for the same files."""
        return f"--ca-file {self.ca} --cert-file {self.client_cert} --key-file {self.client_key}"


def load(directory: Path) -> TlsFiles:
    directory = Path(directory).resolve()
    files = TlsFiles(**{field: str(directory / name) for field, name in _NAMES.items()})
    missing = [path for path in dataclasses.astuple(files) if not os.path.exists(path)]
    if missing:
        raise FileNotFoundError(f"TLS files missing: {', '.join(missing)}")
    return files


def make(directory: Path, hosts: Iterable[str] = DEFAULT_HOSTS) -> TlsFiles:
    """A fresh CA, a server certificate naming `hosts` and a client certificate, written
    into `directory` (made if needed; existing files are replaced)."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("trionode throwaway CA")
    ca_cert = (_builder(ca_name, ca_name, ca_key, now)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_usage(ca=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    _write(directory / _NAMES["ca"], _pem(ca_cert))
    hosts = list(dict.fromkeys(hosts))
    for kind, common_name, sans in (("server", "trionode member", hosts),
                                    ("client", "trionode client", [])):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (_builder(_name(common_name), ca_name, key, now)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(_usage(ca=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                         ExtendedKeyUsageOID.CLIENT_AUTH]),
                                  critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([_san(h) for h in sans]),
                                            critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        _write(directory / _NAMES[f"{kind}_key"], key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), private=True)
        _write(directory / _NAMES[f"{kind}_cert"], _pem(cert))
    return load(directory)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trionode scripts"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
             now: datetime.datetime) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))    # small clock skews
            .not_valid_after(now + VALIDITY))


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=not ca,
                         content_commitment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
