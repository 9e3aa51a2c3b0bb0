"""Just enough X.509 to say what Go's crypto/x509 would say about a server certificate. Pure.

OpenSSL verifies; this module only explains. When OpenSSL refuses a server's certificate,
the client fetches it again (tlserrors.py) and asks here which error Go 1.19 reports first,
since Go checks in another order (x509 Certificate.Verify: validity period, then the host
name, then the chain) and prints the certificate's names where OpenSSL does not:

    x509: certificate has expired or is not yet valid: current time T is after T2
    x509: certificate is valid for a.example, b.example, not localhost
    x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs

A DER reader, not a parser: it walks the few fields it needs (validity, subject common
name, subjectAltName DNS and IP entries, the public key's algorithm) and raises ValueError
on anything it cannot walk; the caller then falls back to OpenSSL's own verdict.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone

__all__ = ["CertInfo", "read_certificate", "validity_error", "hostname_error",
           "host_matches", "malformed_text", "key_algorithm"]

_SEQUENCE, _SET, _OID, _OCTETS, _BOOLEAN = 0x30, 0x31, 0x06, 0x04, 0x01
_SAN = bytes.fromhex("551d11")                # 2.5.29.17 subjectAltName
_CN = bytes.fromhex("550403")                 # 2.5.4.3 commonName
ALGORITHMS = {bytes.fromhex("2a864886f70d010101"): "RSA",      # 1.2.840.113549.1.1.1
              bytes.fromhex("2a8648ce3d0201"): "ECDSA",        # 1.2.840.10045.2.1
              bytes.fromhex("2b6570"): "Ed25519"}              # 1.3.101.112


@dataclass(frozen=True, slots=True)
class CertInfo:
    not_before: datetime
    not_after: datetime
    common_name: str
    has_san: bool                           # the extension is there (even if empty)
    dns_names: tuple[str, ...]
    ip_addresses: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]
    key_algorithm: str                      # "RSA", "ECDSA", "Ed25519" or ""


def _item(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `pos`."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > end:
            raise ValueError("bad length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out, pos = [], start
    while pos < end:
        item = _item(data, pos, end)
        out.append(item)
        pos = item[2]
    return out


def _time(data: bytes, item: tuple[int, int, int]) -> datetime:
    tag, start, end = item
    text = data[start:end].decode("ascii")
    if tag == 0x17:                         # UTCTime YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:                       # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError("not a time")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)


def _common_name(data: bytes, name: tuple[int, int, int]) -> str:
    found = ""                              # Go's pkix.Name keeps the last one
    for _, rdn_start, rdn_end in _children(data, name[1], name[2]):
        for _, s, e in _children(data, rdn_start, rdn_end):
            oid, value = _children(data, s, e)[:2]
            if data[oid[1]:oid[2]] == _CN:
                found = data[value[1]:value[2]].decode("utf-8", "replace")
    return found


def _alt_names(data: bytes, start: int, end: int) -> tuple[list[str], list]:
    dns, ips = [], []
    (seq,) = _children(data, start, end)
    for tag, s, e in _children(data, seq[1], seq[2]):
        if tag == 0x82:                     # [2] dNSName
            dns.append(data[s:e].decode("ascii", "replace"))
        elif tag == 0x87 and e - s in (4, 16):   # [7] iPAddress
            ips.append(ipaddress.ip_address(data[s:e]))
    return dns, ips


def read_certificate(der: bytes) -> CertInfo:
    """The fields Go's messages need; ValueError when the DER cannot be walked."""
    try:
        cert = _item(der, 0, len(der))
        tbs = _children(der, *cert[1:])[0]
        fields = _children(der, tbs[1], tbs[2])
        if fields[0][0] == 0xA0:            # [0] version
            fields = fields[1:]
        _, _, _, validity, subject, spki, *rest = fields
        not_before, not_after = (_time(der, t) for t in _children(der, *validity[1:])[:2])
        algorithm = _children(der, *_children(der, *spki[1:])[0][1:])[0]
        has_san, dns, ips = False, [], []
        for tag, s, e in rest:
            if tag != 0xA3:                 # [3] extensions
                continue
            for ext in _children(der, *_children(der, s, e)[0][1:]):
                parts = _children(der, *ext[1:])
                if der[parts[0][1]:parts[0][2]] == _SAN:
                    has_san = True
                    dns, ips = _alt_names(der, parts[-1][1], parts[-1][2])
        return CertInfo(not_before, not_after, _common_name(der, subject), has_san,
                        tuple(dns), tuple(ips),
                        ALGORITHMS.get(der[algorithm[1]:algorithm[2]], ""))
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None


def key_algorithm(der: bytes, pem_type: str) -> str:
    """The algorithm of a private key block, as read_certificate names a public key's."""
    if pem_type == "RSA PRIVATE KEY":
        return "RSA"
    if pem_type == "EC PRIVATE KEY":
        return "ECDSA"
    try:                                    # PKCS#8: SEQUENCE { version, AlgorithmIdentifier, ... }
        top = _item(der, 0, len(der))
        algorithm = _children(der, *_children(der, *top[1:])[1][1:])[0]
        return ALGORITHMS.get(der[algorithm[1]:algorithm[2]], "")
    except (IndexError, ValueError):
        return ""


def malformed_text(der: bytes) -> str:
    """Go's x509.ParseCertificate error for DER OpenSSL would not load, at its first check."""
    try:
        cert = _item(der, 0, len(der))
        if cert[0] != _SEQUENCE:
            return "x509: malformed certificate"
        tbs = _item(der, cert[1], cert[2])
    except ValueError:
        return "x509: malformed certificate"
    return "x509: malformed tbs certificate" if tbs[0] != _SEQUENCE else "x509: malformed certificate"


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def validity_error(cert: CertInfo, now: datetime) -> str | None:
    """Go's CertificateInvalidError{Expired}, checked before anything else."""
    if now < cert.not_before:
        detail = f"current time {_rfc3339(now)} is before {_rfc3339(cert.not_before)}"
    elif now > cert.not_after:
        detail = f"current time {_rfc3339(now)} is after {_rfc3339(cert.not_after)}"
    else:
        return None
    return "x509: certificate has expired or is not yet valid: " + detail


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if isinstance(ip, ipaddress.IPv6Address) else ip


def _valid_hostname(host: str, pattern: bool) -> bool:
    if not pattern:
        host = host.removesuffix(".")
    if not host:
        return False
    for i, label in enumerate(host.split(".")):
        if not label:
            return False
        if pattern and i == 0 and label == "*":
            continue
        for j, c in enumerate(label):
            if not (c.isascii() and (c.isalnum() or c == "_" or (c == "-" and j))):
                return False
    return True


def _match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower(), host.lower().removesuffix(".")
    p, h = pattern.split("."), host.split(".")
    if not pattern or not host or len(p) != len(h):
        return False
    return all((i == 0 and a == "*") or a == b for i, (a, b) in enumerate(zip(p, h)))


def host_matches(cert: CertInfo, host: str) -> bool:
    """Go's Certificate.VerifyHostname (1.19): IPs against IP SANs only, names against DNS
    SANs only (never the common name), `*.` only as a whole leftmost label."""
    ip = _ip(host)
    if ip is not None:
        return any((a.ipv4_mapped or a if a.version == 6 else a) == ip
                   for a in cert.ip_addresses)
    valid = _valid_hostname(host, False)
    for name in cert.dns_names:
        if valid and _valid_hostname(name, True):
            if _match(name, host):
                return True
        elif name not in ("", ".") and host not in ("", ".") and name.lower() == host.lower():
            return True
    return False


def hostname_error(cert: CertInfo, host: str) -> str:
    """Go's HostnameError text for `host` (whether or not the certificate matches it)."""
    ip = _ip(host)
    bare = host.removeprefix("[").removesuffix("]") if ip is not None else host
    if not cert.has_san and cert.common_name and _match(cert.common_name, host):
        return "x509: certificate relies on legacy Common Name field, use SANs instead"
    if ip is not None:
        if not cert.ip_addresses:
            return (f"x509: cannot validate certificate for {bare} because it doesn't "
                    "contain any IP SANs")
        valid = ", ".join(str(a.ipv4_mapped or a if a.version == 6 else a)
                          for a in cert.ip_addresses)
    else:
        valid = ", ".join(cert.dns_names)
    if not valid:
        return f"x509: certificate is not valid for any names, but wanted to match {bare}"
    return f"x509: certificate is valid for {valid}, not {bare}"
