"""A throwaway PKI for TLS tests, made with trustme: a CA whose server and client
certificates name 127.0.0.1 and localhost, and a second, foreign CA with a client
certificate of its own (one our nodes must refuse)."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

__all__ = ["Pki"]


class Pki:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        ca, foreign = trustme.CA(organization_name="trionode test CA"), trustme.CA()
        ca.cert_pem.write_to_path(root / "ca.pem")
        foreign.cert_pem.write_to_path(root / "foreign-ca.pem")
        for name, issuer in (("server", ca), ("client", ca), ("foreign", foreign)):
            leaf = issuer.issue_cert("127.0.0.1", "localhost")
            leaf.cert_chain_pems[0].write_to_path(root / f"{name}.crt")
            leaf.private_key_pem.write_to_path(root / f"{name}.key")

    def file(self, name: str) -> str:
        return str(self.root / name)

    @property
    def ca(self) -> str:
        return self.file("ca.pem")

    def server_flags(self, client_cert_auth: bool = True, peer_cert_auth: bool = True) -> list[str]:
        """Both ports on the server certificate, trusting our CA."""
        cert, key = self.file("server.crt"), self.file("server.key")
        flags = ["--cert-file", cert, "--key-file", key, "--peer-cert-file", cert, "--peer-key-file", key,
                 "--peer-trusted-ca-file", self.ca]
        if client_cert_auth:
            flags += ["--trusted-ca-file", self.ca, "--client-cert-auth"]
        if peer_cert_auth:
            flags += ["--peer-client-cert-auth"]
        return flags

    def context(self, who: str | None = "client") -> ssl.SSLContext:
        """A client context trusting our CA, presenting `who`'s certificate (None: none)."""
        context = ssl.create_default_context(cafile=self.ca)
        if who is not None:
            context.load_cert_chain(self.file(f"{who}.crt"), self.file(f"{who}.key"))
        return context

    def curl(self, who: str | None = "client") -> list[str]:
        args = ["curl", "-sS", "--cacert", self.ca]
        if who is not None:
            args += ["--cert", self.file(f"{who}.crt"), "--key", self.file(f"{who}.key")]
        return args

    def etcdctl(self, who: str | None = "client") -> list[str]:
        args = ["--ca-file", self.ca]
        if who is not None:
            args += ["--cert-file", self.file(f"{who}.crt"), "--key-file", self.file(f"{who}.key")]
        return args
