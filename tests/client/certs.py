"""The certificates of the TLS tests, made with trustme (the same set as the research doc's,
docs/research/etcd-3.4-tls.md): two CAs, servers of CA1 (right names, a wrong name, expired),
clients of CA1 and CA2, and files that are no use (no PEM, an RSA key for an ECDSA cert).

make_files(dir) writes them and returns name -> path; server_context() makes the SSLContext
of a server that presents one of them.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import trustme

__all__ = ["make_files", "server_context"]


def _leaf(files: dict[str, str], root: Path, name: str, leaf: trustme.LeafCert) -> None:
    files[f"{name}.crt"] = str(root / f"{name}.crt")
    files[f"{name}.key"] = str(root / f"{name}.key")
    leaf.cert_chain_pems[0].write_to_path(files[f"{name}.crt"])
    leaf.private_key_pem.write_to_path(files[f"{name}.key"])


def make_files(root: Path) -> dict[str, str]:
    """ca1.pem ca2.pem; server1 (CA1: 127.0.0.1, localhost), wrong (CA1: wrong.example.org),
    expired (CA1: 127.0.0.1, localhost; ended yesterday), server2 (CA2: 127.0.0.1, localhost),
    client1 (CA1), client2 (CA2), rsa (CA1, an RSA key) .crt/.key; nopem.pem."""
    root.mkdir(parents=True, exist_ok=True)
    ca1 = trustme.CA(organization_name="CA-one")
    ca2 = trustme.CA(organization_name="CA-two")
    files = {"ca1.pem": str(root / "ca1.pem"), "ca2.pem": str(root / "ca2.pem"),
             "nopem.pem": str(root / "nopem.pem")}
    ca1.cert_pem.write_to_path(files["ca1.pem"])
    ca2.cert_pem.write_to_path(files["ca2.pem"])
    Path(files["nopem.pem"]).write_text("no PEM block in here\n")
    now = datetime.datetime.now(datetime.timezone.utc)
    _leaf(files, root, "server1", ca1.issue_cert("127.0.0.1", "localhost"))
    _leaf(files, root, "server2", ca2.issue_cert("127.0.0.1", "localhost"))
    _leaf(files, root, "wrong", ca1.issue_cert("wrong.example.org"))
    _leaf(files, root, "expired", ca1.issue_cert(
        "127.0.0.1", "localhost", not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1)))
    _leaf(files, root, "client1", ca1.issue_cert("client1@example.org"))
    _leaf(files, root, "client2", ca2.issue_cert("client2@example.org"))
    _leaf(files, root, "rsa", ca1.issue_cert("rsa.example.org", key_type=trustme.KeyType.RSA))
    return files


def server_context(files: dict[str, str], name: str = "server1", *, client_ca: str | None = None,
                   tls12: bool = False) -> ssl.SSLContext:
    """A server presenting `name`; requiring a client certificate of `client_ca` if given;
    at most TLS 1.2 with `tls12` (the alerts differ: OpenSSL's 1.2 says handshake_failure
    where 1.3 says certificate_required)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files[f"{name}.crt"], files[f"{name}.key"])
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(files[client_ca])
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context
