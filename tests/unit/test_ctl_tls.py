"""trionodectl's TLS flags without a server: --ca-file/--cert-file/--key-file and their
ETCDCTL_* variables reach the client as one SSLContext, and files that cannot be used are
refused as etcdctl 3.4.23 refuses them (texts and exit codes measured with etcdctl, research
doc docs/research/etcd-3.4-tls.md §3): bare and exit 1, but `Error:  ...` and exit 4 for
cluster-health, which builds its transport before it looks at the endpoints."""

from __future__ import annotations

import io
import ssl

import pytest
import trustme

from trionode.client import KeyNotFound, Member
from trionode.ctl import main, session


class Recorder:
    """Stands in for Client: records what it was made with; every call answers `reply` (or
    raises it)."""

    made: list = []
    reply: object = None

    def __init__(self, endpoints, *, timeout=None, on_request=None, ssl_context=None):
        self.endpoints, self.ssl_context = tuple(endpoints), ssl_context
        Recorder.made.append(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None

    def __getattr__(self, name):
        async def call(*args, **kwargs):
            if isinstance(Recorder.reply, BaseException):
                raise Recorder.reply
            return Recorder.reply
        return call


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.setattr(session, "Client", Recorder)
    Recorder.made, Recorder.reply = [], NOT_FOUND
    return Recorder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """ca.pem, client.crt/.key (from that CA), other.key (another key), nopem.pem."""
    root = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    leaf = ca.issue_cert("client.example")
    leaf.cert_chain_pems[0].write_to_path(str(root / "client.crt"))
    leaf.private_key_pem.write_to_path(str(root / "client.key"))
    ca.issue_cert("other.example").private_key_pem.write_to_path(str(root / "other.key"))
    (root / "nopem.pem").write_text("no PEM here\n")
    return {name: str(root / name)
            for name in ("ca.pem", "client.crt", "client.key", "other.key", "nopem.pem")}


def run(*argv: str, env: dict | None = None) -> tuple[str, str, int]:
    out, err = io.BytesIO(), io.BytesIO()
    code = main(list(argv), env=env or {}, stdin=io.BytesIO(), stdout=out, stderr=err)
    return out.getvalue().decode(), err.getvalue().decode(), code


EP = ("--endpoints", "https://127.0.0.1:2379", "--no-sync")
NOT_FOUND = KeyNotFound(100, "Key not found", "/k", 1, 404)
NOT_FOUND_LINE = "Error:  100: Key not found (/k) [1]\n"


def test_no_files_leave_the_context_to_the_client(recorder):
    assert run(*EP, "get", "/k") == ("", NOT_FOUND_LINE, 4)
    assert recorder.made[0].endpoints == ("https://127.0.0.1:2379",)
    assert recorder.made[0].ssl_context is None         # the client's default: system roots


def test_the_files_make_one_verifying_context(recorder, files):
    assert run(*EP, "--ca-file", files["ca.pem"], "--cert-file", files["client.crt"],
               "--key-file", files["client.key"], "get", "/k") == ("", NOT_FOUND_LINE, 4)
    context = recorder.made[0].ssl_context
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1                # the CA file, and only it


def test_the_environment_is_a_fallback_and_the_flag_wins(recorder, files):
    env = {"ETCDCTL_CA_FILE": files["ca.pem"], "ETCDCTL_CERT_FILE": files["client.crt"],
           "ETCDCTL_KEY_FILE": files["client.key"]}
    assert run(*EP, "get", "/k", env=env) == ("", NOT_FOUND_LINE, 4)
    assert isinstance(recorder.made[0].ssl_context, ssl.SSLContext)
    bad = {"ETCDCTL_CA_FILE": "/nonexistent/ca.pem"}
    assert run(*EP, "get", "/k", env=bad) == (
        "", "open /nonexistent/ca.pem: no such file or directory\n", 1)
    assert run(*EP, "--ca-file", files["ca.pem"], "get", "/k", env=bad) == ("", NOT_FOUND_LINE, 4)
    assert len(recorder.made) == 2


@pytest.mark.parametrize("command", [("get", "/k"), ("set", "/k", "v"), ("ls",), ("watch", "/k"),
                                     ("member", "list"), ("rm", "/k")])
def test_bad_files_are_bare_lines_and_exit_1(recorder, files, command):
    cases = [
        (("--ca-file", "/nonexistent/ca.pem"), "open /nonexistent/ca.pem: no such file or directory"),
        (("--cert-file", files["client.crt"]),
         f"KeyFile and CertFile must both be present[key: , cert: {files['client.crt']}]"),
        (("--key-file", files["client.key"]),
         f"KeyFile and CertFile must both be present[key: {files['client.key']}, cert: ]"),
        (("--cert-file", files["client.crt"], "--key-file", files["other.key"]),
         "tls: private key does not match public key"),
        (("--cert-file", files["nopem.pem"], "--key-file", files["client.key"]),
         "tls: failed to find any PEM data in certificate input"),
    ]
    for flags, text in cases:
        assert run(*EP, *flags, *command) == ("", text + "\n", 1)
    assert not recorder.made


def test_cluster_health_reports_bad_files_as_a_server_error_before_the_endpoints(recorder, files):
    assert run("--endpoints", "127.0.0.1:1", "--ca-file", "/nonexistent", "cluster-health") == (
        "", "Error:  open /nonexistent: no such file or directory\n", 4)
    assert run(*EP, "--key-file", files["client.crt"], "cluster-health") == (
        "", f"Error:  KeyFile and CertFile must both be present[key: {files['client.crt']}, "
            "cert: ]\n", 4)
    # the other commands look at the endpoints first (etcdctl's newClient)
    assert run("--endpoints", "127.0.0.1:1", "--ca-file", "/nonexistent", "get", "/k") == (
        "", 'parse "127.0.0.1:1": first path segment in URL cannot contain colon\n', 1)
    assert not recorder.made


def test_cluster_health_uses_the_context_it_built(recorder, files):
    recorder.reply = [Member("8e9e05c52164694d", "n1", ("http://p:1",), ("https://127.0.0.1:2379",))]
    out, err, code = run(*EP, "--ca-file", files["ca.pem"], "cluster-health")
    assert len(recorder.made) == 1 and isinstance(recorder.made[0].ssl_context, ssl.SSLContext)
    assert "member 8e9e05c52164694d" in out


def test_help_lists_the_tls_flags():
    out = run("--help")[0]
    for flag in ("--ca-file", "--cert-file", "--key-file"):
        assert flag in out
