"""The client over TLS against real servers: etcd 3.4 (the reference; a missing etcd skips,
and fails under CI=true) and trionode, each with --cert-file/--key-file, and with
--trusted-ca-file --client-cert-auth for the client-certificate cases (tlsservers.py).

What the client decides (the server's certificate, plain HTTP on a TLS port) reads the
same on both. What the server decides, the alert, differs: etcd (Go) refuses a missing or
unknown client certificate with bad_certificate, trionode (OpenSSL, TLS 1.3) with
certificate_required or unknown_ca; the client names each as Go does.
"""

from __future__ import annotations

import re

import pytest

from trionode.client import Client, ClusterError

KINDS = ["etcd", "trionode"]
REFUSED = {
    "etcd": {"none": "remote error: tls: bad certificate",
             "client2": "remote error: tls: bad certificate"},
    "trionode": {"none": "remote error: tls: certificate required",
                 "client2": "remote error: tls: unknown certificate authority"},
}


@pytest.fixture(params=KINDS)
def servers(request, tls_servers):
    """role -> the running server of this parametrization's kind (sync: a skip keeps its
    reason)."""
    return tls_servers(request.param)


def kind_of(servers) -> str:
    return servers["plain"].kind


async def error_of(url: str, **tls) -> str:
    async with Client([url], **tls) as client:
        with pytest.raises(ClusterError) as info:
            await client.get("/tls-real/k")
    assert len(info.value.errors) == 1
    return info.value.errors[0]


async def test_ca_and_client_certificate(servers, tls_files):
    f = tls_files
    async with Client([servers["auth"].url], ca_file=f["ca1.pem"], cert_file=f["client1.crt"],
                      key_file=f["client1.key"]) as client:
        await client.set("/tls-real/k", "v")
        assert (await client.get("/tls-real/k")).node.value == "v"
        assert await client.sync() == (servers["auth"].url,)      # advertised as https
        assert await client.health(servers["auth"].url)
    async with Client([servers["plain"].url], ca_file=f["ca1.pem"]) as client:
        await client.set("/tls-real/k", "w")
        assert [m.client_urls for m in await client.members()] == [(servers["plain"].url,)]


async def test_unknown_authority(servers, tls_files):
    for tls in ({}, {"ca_file": tls_files["ca2.pem"]}, {"ca_file": tls_files["nopem.pem"]}):
        assert await error_of(servers["plain"].url, **tls) == (
            "x509: certificate signed by unknown authority")


@pytest.mark.parametrize("client", ["none", "client2"])
async def test_the_server_refuses_the_client(servers, tls_files, client):
    tls = {"ca_file": tls_files["ca1.pem"]}
    if client != "none":
        tls.update(cert_file=tls_files[f"{client}.crt"], key_file=tls_files[f"{client}.key"])
    assert await error_of(servers["auth"].url, **tls) == REFUSED[kind_of(servers)][client]


async def test_host_name_mismatch(servers, tls_files):
    port = servers["wrong"].port
    assert await error_of(f"https://localhost:{port}", ca_file=tls_files["ca1.pem"]) == (
        "x509: certificate is valid for wrong.example.org, not localhost")
    assert await error_of(f"https://127.0.0.1:{port}", ca_file=tls_files["ca2.pem"]) == (
        "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs")


async def test_expired_certificate(servers, tls_files):
    text = await error_of(servers["expired"].url, ca_file=tls_files["ca1.pem"])
    assert re.fullmatch(r"x509: certificate has expired or is not yet valid: current time \S+ "
                        r"is after \S+Z", text), text


async def test_http_to_a_tls_port_is_eof(servers):
    assert await error_of(servers["plain"].url.replace("https", "http")) == "EOF"
