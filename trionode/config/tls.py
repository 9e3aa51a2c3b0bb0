"""The TLS settings of one port (client or peer) and the checks etcd makes of them at start.

Pure: files are named here and read by net/tls.py when the node starts. etcd 3.4's rules
(docs/research/etcd-3.4-tls.md §1, §2):
* an https listen URL needs a certificate and key, or auto-TLS;
* a certificate needs its key and a key its certificate (etcd finds that out only once it
  serves; we refuse at start, with etcd's sentence);
* `--trusted-ca-file` alone already requires client certificates (3.4 behaviour), as
  etcd 0.4's `-ca-file` did; `--client-cert-auth` without a CA file verifies against the
  system trust store;
* auto-TLS makes a self-signed certificate; given files win over it, and it serves no
  client-certificate authentication (etcd drops those settings; we say so in the log).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Literal

from .errors import ConfigError
from .values import Url

__all__ = ["Port", "TlsSettings"]

Port = Literal["client", "peer"]


@dataclasses.dataclass(frozen=True, slots=True)
class TlsSettings:
    """One port's TLS flags, as given (file paths are not read here)."""

    cert_file: str = ""
    key_file: str = ""
    trusted_ca_file: str = ""
    client_cert_auth: bool = False
    auto_tls: bool = False

    def __post_init__(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ConfigError(f"KeyFile and CertFile must both be present"
                              f"[key: {self.key_file}, cert: {self.cert_file}]")

    @property
    def has_files(self) -> bool:
        return bool(self.cert_file)

    @property
    def self_signed(self) -> bool:
        """Auto-TLS in force: asked for, and no certificate given to win over it."""
        return self.auto_tls and not self.has_files

    @property
    def serves_tls(self) -> bool:
        return self.has_files or self.auto_tls

    @property
    def verifies_clients(self) -> bool:
        """Whether connections must present a certificate (never with a self-signed one)."""
        return (bool(self.trusted_ca_file) or self.client_cert_auth) and not self.self_signed

    def check(self, port: Port, listen_urls: Iterable[Url]) -> None:
        """An https listener without anything to serve TLS with -> ConfigError (etcd's words)."""
        if self.serves_tls:
            return
        for url in listen_urls:
            if url.scheme != "https":
                continue
            if port == "client":
                raise ConfigError(f"TLS key/cert (--cert-file, --key-file) must be provided for "
                                  f"client url {url} with HTTPS scheme")
            raise ConfigError(f"cannot listen on TLS for {url.host}:{url.port}: KeyFile and CertFile "
                              f"are not presented (give --peer-cert-file and --peer-key-file, or "
                              f"--peer-auto-tls)")

    def notes(self, port: Port, listen_urls: Iterable[Url]) -> list[str]:
        """Settings that start but do not do what they might seem to (etcd warns of most)."""
        flag = "--" if port == "client" else "--peer-"
        found = []
        if self.auto_tls and self.has_files:
            found.append(f"ignoring {port} auto TLS since certs given")
        if self.self_signed and (self.trusted_ca_file or self.client_cert_auth):
            found.append(f"{flag}auto-tls: the self-signed certificate serves no client certificate "
                         f"authentication; {flag}trusted-ca-file and {flag}client-cert-auth are ignored")
        elif self.client_cert_auth and not self.trusted_ca_file:
            found.append(f"{flag}client-cert-auth without {flag}trusted-ca-file: certificates are "
                         f"verified against the system trust store")
        for url in listen_urls:
            if url.scheme == "http" and self.serves_tls:
                found.append(f"the scheme of {port} url {url} is HTTP while key/cert files are "
                             f"presented; ignored key/cert files for it")
        return found
