"""x509.py, the DER reader behind the client's Go-worded certificate errors: the fields it
reads from real certificates (trustme's, and cryptography's for shapes trustme does not
make), Go 1.19's host name rules (crypto/x509 verify.go) and its texts, and garbage."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
import trustme
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from trionode.client.x509 import (
    host_matches,
    hostname_error,
    malformed_text,
    read_certificate,
    validity_error,
)

UTC = datetime.timezone.utc
CA = trustme.CA()


def der(*names: str, **kwargs) -> bytes:
    return ssl.PEM_cert_to_DER_cert(CA.issue_cert(*names, **kwargs).cert_chain_pems[0].bytes().decode())


def hand_made(common_name: str, sans: list | None) -> bytes:
    """A self-signed certificate with exactly this subject CN and these SANs (None: no
    subjectAltName extension at all, which trustme never makes)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (cx509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(7)
               .not_valid_before(datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC))
               .not_valid_after(datetime.datetime(2101, 2, 3, 4, 5, 6, tzinfo=UTC)))
    if sans is not None:
        builder = builder.add_extension(cx509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_fields_of_a_trustme_certificate():
    cert = read_certificate(der("127.0.0.1", "::1", "localhost", "*.example.org",
                                key_type=trustme.KeyType.RSA))
    assert cert.dns_names == ("localhost", "*.example.org")
    assert cert.ip_addresses == (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    assert cert.has_san and cert.key_algorithm == "RSA" and cert.common_name == ""
    assert cert.not_before == datetime.datetime(2000, 1, 1, tzinfo=UTC)
    assert read_certificate(der("a.example")).key_algorithm == "ECDSA"


def test_fields_of_a_hand_made_certificate():
    cert = read_certificate(hand_made("legacy.example", None))
    assert (cert.common_name, cert.has_san, cert.dns_names) == ("legacy.example", False, ())
    assert cert.not_before == datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert cert.not_after == datetime.datetime(2101, 2, 3, 4, 5, 6, tzinfo=UTC)   # GeneralizedTime


@pytest.mark.parametrize("host, ok", [
    ("localhost", True), ("LOCALHOST", True), ("localhost.", True), ("a.example.org", True),
    ("A.Example.Org", True), ("example.org", False), ("a.b.example.org", False),
    ("127.0.0.1", True), ("[::1]", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("127.0.0.2", False), ("other", False),
])
def test_go_host_name_rules(host, ok):
    cert = read_certificate(der("127.0.0.1", "::1", "localhost", "*.example.org"))
    assert host_matches(cert, host) is ok


def test_names_are_never_matched_against_the_common_name():
    cert = read_certificate(hand_made("legacy.example", None))
    assert not host_matches(cert, "legacy.example")
    assert hostname_error(cert, "legacy.example") == (
        "x509: certificate relies on legacy Common Name field, use SANs instead")
    assert hostname_error(cert, "other.example") == (
        "x509: certificate is not valid for any names, but wanted to match other.example")


@pytest.mark.parametrize("names, host, text", [
    (("wrong.example.org",), "localhost", "x509: certificate is valid for wrong.example.org, not localhost"),
    (("a.example", "b.example"), "c.example", "x509: certificate is valid for a.example, b.example, not c.example"),
    (("wrong.example.org",), "127.0.0.1",
     "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"),
    (("127.0.0.1", "::1"), "127.0.0.2", "x509: certificate is valid for 127.0.0.1, ::1, not 127.0.0.2"),
    (("127.0.0.1",), "[::2]", "x509: certificate is valid for 127.0.0.1, not ::2"),
    (("127.0.0.1",), "localhost", "x509: certificate is not valid for any names, but wanted to match localhost"),
])
def test_host_name_texts(names, host, text):
    assert hostname_error(read_certificate(der(*names)), host) == text


def test_validity_texts():
    cert = read_certificate(hand_made("x", None))
    assert validity_error(cert, datetime.datetime(2050, 1, 1, tzinfo=UTC)) is None
    assert validity_error(cert, datetime.datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC)) == (
        "x509: certificate has expired or is not yet valid: current time 2000-01-01T00:00:01Z "
        "is before 2001-02-03T04:05:06Z")
    later = datetime.datetime(2102, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert validity_error(cert, later) == (
        "x509: certificate has expired or is not yet valid: current time 2102-01-01T00:00:00+02:00 "
        "is after 2101-02-03T04:05:06Z")


def test_garbage_is_a_value_error_and_go_names_it():
    good = der("a.example")
    for bad in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", good[:40], b"\x04\x02ab"):
        with pytest.raises(ValueError):
            read_certificate(bad)
    assert malformed_text(b"\x04\x02ab") == "x509: malformed certificate"
    assert malformed_text(b"\x30\x03\x02\x01\x01") == "x509: malformed tbs certificate"
    assert malformed_text(b"\x30\x02\x30\x00") == "x509: malformed certificate"
