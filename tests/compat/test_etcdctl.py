"""The tutorial, replayed with the real etcdctl (ETCDCTL_API=2) and curl on both servers.

Every command of the tutorial's "Etcdctl Usage" and "Hidden Values" sections (plus the two
`_etcd/machines` commands of the discovery section) runs in tutorial order against a fresh
reference etcd and a fresh target, after loading the data the tutorial assumes; stdout,
stderr and exit code must match after index normalization. Then the curl lines of
"Etcd HTTP/JSON API Usage" run with the port replaced. The tutorial is etcd 0.4 era:
etcd 3.4's answers are the truth here (e.g. /_etcd is absent, ports 4001/7001 are replaced
by the client port, /v2/admin/* is 404).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import re
import subprocess
import time
import urllib.parse

import pytest
from pki import Pki
from requirements import require_tool

from . import harness
from .normalize import Normalizer

pytestmark = pytest.mark.compat

MACHINES = {"2ddbdb7c872b4bc59dd1969ac166501e": "10.132.252.38",
            "921a7241c31a499a97d43f785108b17c": "10.132.248.118",
            "27987f5eaac243f88ca6823b47012c5b": "10.132.248.121"}
SETUP = [("/coreos.com/updateengine/rebootlock/semaphore", '{"semaphore":1,"max":1,"holders":null}'),
         ("/_coreos.com/fleet/states/apache@6666.service/2ddbdb7c872b4bc59dd1969ac166501e",
          '{"loadState":"loaded","activeState":"active"}'),
         ("/_coreos.com/fleet/states/apache@7777.service/921a7241c31a499a97d43f785108b17c",
          '{"loadState":"loaded","activeState":"active"}'),
         *[(f"/_etcd/machines/{name}",
            urllib.parse.urlencode({"etcd": f"http://{ip}:4001", "raft": f"http://{ip}:7001"}))
           for name, ip in MACHINES.items()],
         ("/_etcd/config", '{"activeSize":9,"removeDelay":1800,"syncInterval":5}')]


TARGET_NAME = "t-tut"


@dataclasses.dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]               # etcdctl arguments, or curl's when curl=True
    trigger: tuple[str, ...] = ()       # background command: this etcdctl write fires it
    until_line: bool = False            # exec-watch: kill after the first line of output
    curl: bool = False
    shape: bool = False                 # compare JSON structure only (stats, version)

    @property
    def id(self) -> str:
        text = ("curl " if self.curl else "") + " ".join(self.argv)
        return re.sub(r"[^A-Za-z0-9/_.@-]+", "_", text)[:60]


def ctl(*argv, **kw):
    return Step(tuple(argv), **kw)


def curl(*argv, **kw):
    return Step(("-sL", *argv), curl=True, **kw)


STEPS = [
    ctl("ls", "/_etcd/machines", "--recursive"),
    ctl("get", "/_etcd/machines/2ddbdb7c872b4bc59dd1969ac166501e"),
    ctl("ls", "/"),
    ctl("get", "/coreos.com"),
    ctl("ls", "/", "--recursive"),
    ctl("get", "/coreos.com/updateengine/rebootlock/semaphore"),
    ctl("-o", "extended", "get", "/coreos.com/updateengine/rebootlock/semaphore"),
    ctl("mkdir", "/example"),
    ctl("mk", "/example/key", "data"),
    ctl("get", "/example/key"),
    ctl("update", "/example/key", "turtles"),
    ctl("mkdir", "/here/you/go", "--ttl", "120"),
    ctl("updatedir", "/here/you/go", "--ttl", "500"),
    ctl("set", "/example/key", "new"),
    ctl("set", "/a/b/c", "here"),
    ctl("setdir", "/x/y/z"),
    ctl("setdir", "/x/y/z"),            # the tutorial's note: fails on an existing dir
    ctl("rm", "/a/b/c"),
    ctl("rm", "/a", "--recursive"),
    ctl("rmdir", "/x/y/z"),
    ctl("watch", "/example/hello", trigger=("set", "/example/hello", "world")),
    ctl("watch", "--recursive", "/example", trigger=("set", "/example/hello", "again")),
    ctl("exec-watch", "--recursive", "/example", "--", "echo", "hello",
        trigger=("set", "/example/key", "changed"), until_line=True),
    ctl("ls", "--recursive", "/_coreos.com"),
    ctl("ls", "--recursive", "/_etcd"),
    ctl("-o", "extended", "get", "/here/you/go"),
    ctl("-o", "extended", "set", "/example/ttl", "v", "--ttl", "100"),
    ctl("-o", "json", "update", "/example/ttl", "w", "--ttl", "100"),
    ctl("-o", "json", "get", "/example/key"),
    ctl("get", "/nope"),
    curl("{url}/v2/keys/"),
    curl("{url}/v2/keys/?recursive=true"),
    curl("{url}/version", shape=True),
    curl("{url}/v2/stats/leader", shape=True),
    curl("{url}/v2/stats/self", shape=True),
    curl("{url}/v2/stats/store", shape=True),
    curl("{url}/v2/admin/config"),
    curl("{url}/v2/admin/config", "-XPUT", "-d",
         '{"activeSize":9,"removeDelay":1800,"syncInterval":5}'),
    curl("{url}/v2/admin/machines"),
]


@dataclasses.dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    trigger: "Outcome | None" = None


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env["ETCDCTL_API"] = "2"
    return env


def _ctl_argv(server, argv) -> list[str]:
    return ["etcdctl", "--endpoints", server.url, *(server.tls.etcdctl() if server.tls else ()), *argv]


def _run(argv, timeout=10.0) -> Outcome:
    p = subprocess.run(argv, capture_output=True, text=True, env=_env(), timeout=timeout)
    return Outcome(p.returncode, p.stdout, p.stderr)


def _run_background(server, step: Step) -> Outcome:
    """Start a watch, fire it with a write, collect what the watch printed."""
    base = harness.watchers(server.probe_port)
    proc = subprocess.Popen(_ctl_argv(server, step.argv), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        # etcdctl syncs with /v2/members, then watches: fire once the server holds the watch
        if not harness.wait_for_watcher(server.probe_port, base, lambda: proc.poll() is not None):
            raise AssertionError(f"{server.label} {server.kind}: etcdctl {' '.join(step.argv)} "
                                 f"registered no watcher within 5s")
        trigger = _run(_ctl_argv(server, step.trigger))
        if step.until_line:
            out = proc.stdout.readline()        # first event's command output
            proc.kill()
            rest, err = proc.communicate(timeout=5)
            return Outcome(0, out, err, trigger)   # killed on purpose: code not compared
        out, err = proc.communicate(timeout=5)
        return Outcome(proc.returncode, out, err, trigger)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
        return Outcome(-1, out, err + "\n<TIMED OUT>", trigger)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def run_step(server, step: Step) -> Outcome:
    if step.curl:
        certs = server.tls.curl()[2:] if server.tls else []  # after "curl -sS"
        return _run(["curl", *certs, *(a.replace("{url}", server.url) for a in step.argv)])
    if step.trigger:
        return _run_background(server, step)
    return _run(_ctl_argv(server, step.argv))


def _normalize_text(norm: Normalizer, text: str, step: Step) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("{") and (step.curl or "json" in step.argv):
            body = norm.body(line.encode(), keep_order=False, now=time.time(),
                             shape=step.shape, only_prefix=False)
            lines.append(body.rsplit("\n", 1)[0])      # drop the newline marker
            continue
        line = re.sub(r"^((?:Created-|Modified-)?Index: )(\d+)$",
                      lambda m: m.group(1) + norm.sym(m.group(2)), line)
        line = re.sub(r"^(TTL: )(\d+)$", lambda m: m.group(1) + norm.ttl(m.group(2)), line)
        line = re.sub(r"\[(\d+)\]$", lambda m: f"[{norm.sym(m.group(1))}]", line)
        lines.append(norm.text(line))
    if "ls" in step.argv and "--sort" not in step.argv:
        lines.sort()                    # server order is Go map order
    # The target registers itself beside the tutorial's machines, as 0.4 members did.
    lines = [line for line in lines if line != f"/_etcd/machines/{TARGET_NAME}"]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def normalize(norm: Normalizer, out: Outcome, step: Step) -> tuple[str, list[int]]:
    norm.ttls = []
    parts = [f"exit {out.code}", "stdout:", _normalize_text(norm, out.stdout, step),
             "stderr:", _normalize_text(norm, out.stderr, step)]
    if out.trigger is not None:
        parts += ["trigger " + " ".join(step.trigger) + ":",
                  normalize(norm, out.trigger, ctl(*step.trigger))[0]]
    return "\n".join(parts), list(norm.ttls)


@pytest.fixture(scope="module", params=["plain", "tls"])
def tutorial(request, tmp_path_factory):
    """Both servers, loaded with the tutorial's data; the second session runs the whole
    tutorial over TLS (both ports, client certificates required; etcdctl and curl given
    the CA, certificate and key) and must give the same outputs."""
    require_tool("etcdctl", "the tutorial is replayed with the real etcdctl "
                            "(apt-get install etcd-client)")
    tls = Pki(tmp_path_factory.mktemp("pki")) if request.param == "tls" else None
    for pair in harness.server_pair("ref-tut", TARGET_NAME, tls):
        for server in pair:
            for key, value in SETUP:
                raw = harness.build_request(server.probe_port, "PUT", "/v2/keys" + urllib.parse.quote(key),
                                            harness.FORM,
                                            urllib.parse.urlencode({"value": value}).encode())
                # trionode wrote its own /_etcd/config at start (0.4's first peer did too)
                created = 200 if key == "/_etcd/config" and server.kind != "etcd" else 201
                assert harness.exchange(server.probe_port, raw).status == created
            if tls is not None:  # the session really is TLS: with certificates only
                served = _run(_ctl_argv(server, ["get", "/_etcd/config"]))
                assert served.code == 0, (server.kind, served)
                refused = _run(["etcdctl", "--endpoints", server.url, "--ca-file", tls.ca, "get", "/_etcd/config"])
                assert refused.code == 4 and "remote error: tls:" in refused.stderr, (server.kind, refused)
        yield pair, (Normalizer(), Normalizer())


@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_tutorial_step(step, tutorial):
    (ref, tgt), (nref, ntgt) = tutorial
    if step.curl:
        require_tool("curl", "the tutorial's HTTP/JSON section is replayed with curl")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(run_step, ref, step), pool.submit(run_step, tgt, step)
        a, b = a.result(), b.result()
    (ta, la), (tb, lb) = normalize(nref, a, step), normalize(ntgt, b, step)
    same = ta == tb and len(la) == len(lb) and all(abs(x - y) <= 1 for x, y in zip(la, lb))
    assert same, (f"{'curl' if step.curl else 'etcdctl'} {' '.join(step.argv)}\n"
                  f"--- reference ({ref.kind} {ref.url}):\n{ta}\n"
                  f"--- target ({tgt.kind} {tgt.url}):\n{tb}\n"
                  f"ttls: {la} vs {lb}\n--- raw reference: {a!r}\n--- raw target: {b!r}")
