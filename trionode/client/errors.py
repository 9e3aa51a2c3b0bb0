"""What the client raises: one base class, then one type per way a request can fail.

The text of every error is what etcd 3.4's Go client (client/client.go, cluster_error.go,
keys.go, members.go) would print, so that trionodectl can print `Error:  ` + str(e) and
match etcdctl byte for byte.
"""

from __future__ import annotations

__all__ = [
    "ClientError",
    "EtcdError",
    "KeyNotFound",
    "TestFailed",
    "NotAFile",
    "NotADir",
    "NodeExists",
    "RootReadOnly",
    "DirNotEmpty",
    "EventIndexCleared",
    "ClusterError",
    "EndpointError",
    "NoEndpointsError",
    "HTTPStatusError",
    "TlsConfigError",
    "etcd_error",
    "CLUSTER_UNAVAILABLE",
    "INVALID_JSON",
    "EMPTY_BODY",
]

CLUSTER_UNAVAILABLE = "client: etcd cluster is unavailable or misconfigured"
INVALID_JSON = ("client: response is invalid json. "
                "The endpoint is probably not valid etcd cluster endpoint")
EMPTY_BODY = "client: response body is empty"


class ClientError(Exception):
    """Base of everything the client raises (argument errors aside: those are ValueError)."""


class EtcdError(ClientError):
    """An etcd JSON error reply `{"errorCode","message","cause","index"}` and its HTTP status."""

    def __init__(self, code: int, message: str, cause: str = "", index: int = 0,
                 status: int = 0) -> None:
        super().__init__(code, message, cause, index, status)
        self.code, self.message, self.cause = code, message, cause
        self.index, self.status = index, status

    def __str__(self) -> str:
        # The Go client's Error.Error(); etcdctl prints it after "Error:  ".
        return f"{self.code}: {self.message} ({self.cause}) [{self.index}]"


class KeyNotFound(EtcdError):
    """100."""


class TestFailed(EtcdError):
    """101 (compare failed)."""

    __test__ = False     # not a pytest test class, whatever its name says


class NotAFile(EtcdError):
    """102."""


class NotADir(EtcdError):
    """104."""


class NodeExists(EtcdError):
    """105."""


class RootReadOnly(EtcdError):
    """107."""


class DirNotEmpty(EtcdError):
    """108."""


class EventIndexCleared(EtcdError):
    """401: the watched index fell out of the server's 1000-event history (v2-spec §2.4)."""


_BY_CODE: dict[int, type[EtcdError]] = {
    100: KeyNotFound, 101: TestFailed, 102: NotAFile, 104: NotADir, 105: NodeExists,
    107: RootReadOnly, 108: DirNotEmpty, 401: EventIndexCleared,
}


def etcd_error(code: int, message: str, cause: str, index: int, status: int) -> EtcdError:
    """The EtcdError subclass for `code` (EtcdError itself for codes without one)."""
    return _BY_CODE.get(code, EtcdError)(code, message, cause, index, status)


class ClusterError(ClientError):
    """Every endpoint failed; one Go-style message per attempt, in attempt order."""

    def __init__(self, errors: tuple[str, ...]) -> None:
        super().__init__(errors)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return CLUSTER_UNAVAILABLE + "".join(
            f"; error #{i}: {m}\n" for i, m in enumerate(self.errors))

    def detail(self) -> str:
        """etcdctl prints this after the error line when the sync or request failed."""
        return "".join(f"error #{i}: {m}\n" for i, m in enumerate(self.errors))


class EndpointError(ClientError):
    """One attempt at one endpoint failed and is not retried elsewhere.

    The Go client never fails over a create (prevExist=false) or a delete: a retry could
    apply the write twice. It returns that one attempt's error as is, and so do we. health()
    raises it too when its one endpoint cannot be reached.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NoEndpointsError(ClientError):
    """sync() found no published client URL (or the endpoint list is empty)."""

    def __str__(self) -> str:
        return "client: no endpoints available"


class HTTPStatusError(ClientError):
    """A reply the API did not expect: a status it does not accept, or a body it cannot parse.

    str() is the Go client's text: "unexpected status code 501", the `message` of a members
    error body, or the keys API's invalid-JSON / empty-body errors.
    """

    def __init__(self, status: int, body: bytes, message: str | None = None) -> None:
        super().__init__(status, body, message)
        self.status, self.body = status, body
        self.message = message if message is not None else f"unexpected status code {status}"

    def __str__(self) -> str:
        return self.message


class TlsConfigError(ClientError):
    """The TLS settings cannot be used (a file missing, unreadable, of the wrong kind, or a
    key that is not the certificate's). str() is the Go text etcdctl prints for it:
    "open /x: no such file or directory", "tls: private key does not match public key"."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
