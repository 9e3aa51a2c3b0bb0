"""ctlrun's normalization of command-line runs: what it must forgive, what it must still catch
(no servers; the texts are etcdctl 3.4's own, captured on a busy machine)."""

from __future__ import annotations

import time

from .ctlrun import ETCDCTL, Ctl, Outcome, Where, normalize_outcome
from .normalize import Normalizer

WHERE = Where("http://127.0.0.1:23999", ETCDCTL, "/ctl-ref-timeouts", "http://127.0.0.1:1")
TOTAL_1NS = Ctl(("--total-timeout", "1ns", "get", "{p}/k"))

# the same command line, the same deadline, two runs of etcdctl: which one is printed is a
# race inside its client (ctlrun._DEADLINE_AT_DIAL)
CONTEXT = "Error:  context deadline exceeded\n"
AT_DIAL = ("Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp "
           "127.0.0.1:23999: i/o timeout\n\nerror #0: dial tcp 127.0.0.1:23999: i/o timeout\n\n")
HEADER = ("Error:  client: etcd cluster is unavailable or misconfigured; error #0: client: "
          "endpoint http://127.0.0.1:23999 exceeded header timeout\n\nerror #0: client: "
          "endpoint http://127.0.0.1:23999 exceeded header timeout\n\n")
REFUSED = ("Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp "
           "127.0.0.1:23999: connect: connection refused\n\nerror #0: dial tcp "
           "127.0.0.1:23999: connect: connection refused\n\n")


def run(stderr: str, code: int = 2):
    return normalize_outcome(Normalizer(WHERE.prefix), Outcome(code, "", stderr, time.time()),
                             TOTAL_1NS, WHERE, [])


def test_a_deadline_noticed_at_the_dial_is_the_deadline() -> None:
    assert run(AT_DIAL).matches(run(CONTEXT))


def test_other_failures_still_differ_from_the_deadline() -> None:
    for other in (HEADER, REFUSED):
        assert not run(other).matches(run(CONTEXT))
        assert not run(other).matches(run(AT_DIAL))
    assert not run(CONTEXT, code=4).matches(run(CONTEXT))
