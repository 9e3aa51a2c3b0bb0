"""Command-line options of scripts/chaos -> one frozen, validated Options.

The outer process (which owns the network namespace) and the inner one (which runs inside
it) parse the same flags: the outer passes its own argv on, plus `--inside` and an --out
directory it has made, so both always agree on every setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex

__all__ = ["Options", "OptionsError", "parse_options", "NEMESES", "SERVER_COMMANDS", "PLACEHOLDERS",
           "SETUP_TIMEOUT", "NAMESPACE_PREFIX", "TLS_FLAGS"]

NAMESPACE_PREFIX = "trionode-chaos-"   # + the outer process's pid
SETUP_TIMEOUT = 30.0          # seconds for a fresh cluster to elect a leader
NEMESES = ("kill", "kill-leader", "pause", "partition", "partition-leader", "bridge",
           "restart-all", "members")

_NODE_FLAGS = ("--name {name} --data-dir {data_dir} --listen-client-urls {client_url} "
               "--advertise-client-urls {client_url} --listen-peer-urls {peer_url} "
               "--initial-advertise-peer-urls {peer_url} --initial-cluster {initial_cluster} "
               "--initial-cluster-token {token} --initial-cluster-state {initial_cluster_state}")
#: node command templates; the placeholders are listed in the --node-command help
SERVER_COMMANDS = {
    "trionode": "{python} -m trionode " + _NODE_FLAGS,
    "etcd": "etcd --enable-v2 " + _NODE_FLAGS,
}
#: added to a --server template by --tls (etcd 3.4's flags): a client certificate is
#: required on both ports; every node serves the same certificate, which names every host
TLS_FLAGS = (" --cert-file {cert_file} --key-file {key_file} --trusted-ca-file {ca_file}"
             " --client-cert-auth --peer-cert-file {cert_file} --peer-key-file {key_file}"
             " --peer-trusted-ca-file {ca_file} --peer-client-cert-auth")
PLACEHOLDERS = ("name", "data_dir", "client_url", "peer_url", "initial_cluster",
                "initial_cluster_state", "token", "python", "host", "client_port", "peer_port",
                "ca_file", "cert_file", "key_file")
#: the members nemesis restarts a node as a joining member: the template must say so
JOIN_PLACEHOLDER = "{initial_cluster_state}"


class OptionsError(Exception):
    """A flag combination that cannot run; the text is shown to the user."""


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    nodes: int
    seed: int
    duration: float
    nemeses: tuple[str, ...]        # what the nemesis picks from ("all" expanded)
    nemesis_label: str              # as given, for the summary line
    server: str                     # "trionode", "etcd" or "custom"
    node_command: str               # the template, placeholders unexpanded
    out: str | None
    unsafe_reads: bool
    tls: bool                       # https on both ports, client certificates (out/tls)
    clients: int
    registers: int
    rate: float                     # target client ops per second, all clients together
    timeout: float                  # per request
    quiet: tuple[float, float]      # quiet period between faults, seconds (min, max)
    fault: tuple[float, float]      # how long a fault lasts, seconds (min, max)
    converge_timeout: float
    check_timeout: float
    inside: bool

    def __post_init__(self) -> None:
        if self.nodes not in (3, 5):
            raise OptionsError("--nodes must be 3 or 5")
        if not self.duration > 0:
            raise OptionsError("--duration must be positive")
        if not 1 <= self.clients <= 64:
            raise OptionsError("--clients must be 1..64")
        if not 1 <= self.registers <= 64:
            raise OptionsError("--registers must be 1..64")
        if not (self.rate > 0 and self.timeout > 0):
            raise OptionsError("--rate and --timeout must be positive")
        for low, high in (self.quiet, self.fault):
            if not 0 < low <= high:
                raise OptionsError("fault and quiet periods need 0 < min <= max")
        try:
            if not shlex.split(self.node_command.format(**dict.fromkeys(PLACEHOLDERS, "x"))):
                raise ValueError("empty")
        except (IndexError, KeyError, ValueError) as exc:
            raise OptionsError(f"bad --node-command template: {exc!r}") from None
        if "members" in self.nemeses and JOIN_PLACEHOLDER not in self.node_command:
            raise OptionsError("the members nemesis needs " + JOIN_PLACEHOLDER
                               + " in --node-command (a node rejoins with 'existing')")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/chaos",
        description="Run a local cluster in a private network namespace, inject faults, "
                    "record concurrent client operations and check them "
                    "(linearizable registers, no lost queue element, identical nodes). "
                    "Needs root, `ip` and `iptables`.")
    p.add_argument("--nodes", type=int, default=3, help="cluster size: 3 or 5 (default 3)")
    p.add_argument("--seed", type=int, default=1, help="nemesis and client choices (default 1)")
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of faults and load (default 60)")
    p.add_argument("--nemesis", default="all",
                   help="comma list of: " + ", ".join(NEMESES) + ", all (default all)")
    p.add_argument("--server", choices=sorted(SERVER_COMMANDS), default="trionode")
    p.add_argument("--node-command", metavar="TEMPLATE",
                   help="command starting one node, instead of --server; placeholders: "
                        + " ".join("{" + name + "}" for name in PLACEHOLDERS))
    p.add_argument("--out", metavar="DIR",
                   help="history.jsonl, report.json, report.txt and node logs "
                        "(default: a fresh directory under /tmp)")
    p.add_argument("--unsafe-reads", action="store_true",
                   help="deliberately broken: reads without quorum=true, sent to a follower")
    p.add_argument("--tls", action="store_true",
                   help="the whole cluster on TLS: a throwaway CA and certificates in "
                        "OUT/tls, https client and peer URLs ({client_url} and {peer_url} "
                        "too), client certificates required on both ports; the clients "
                        "and the final reads present OUT/tls/client.pem. With "
                        "--node-command, pass {ca_file} {cert_file} {key_file} yourself")
    p.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    p.add_argument("--registers", type=int, default=4, help="registers (default 4)")
    p.add_argument("--rate", type=float, default=200.0,
                   help="target ops/s of all clients together (default 200)")
    p.add_argument("--timeout", type=float, default=1.5, help="per request, seconds (1.5)")
    p.add_argument("--quiet", type=_span, default=(2.0, 4.0), metavar="MIN,MAX",
                   help="seconds without faults between two faults (default 2,4)")
    p.add_argument("--fault", type=_span, default=(3.0, 6.0), metavar="MIN,MAX",
                   help="seconds each fault lasts (default 3,6)")
    p.add_argument("--converge-timeout", type=float, default=25.0,
                   help="bound on healing and convergence at the end (default 25)")
    p.add_argument("--check-timeout", type=float, default=20.0,
                   help="bound on the linearizability check (default 20)")
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return p


def _span(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds, got {text!r}") from None


def _nemeses(text: str, template: str) -> tuple[str, ...]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if "all" in names:
        # a node command that cannot be told to join an existing cluster sits members out
        return tuple(n for n in NEMESES if n != "members" or JOIN_PLACEHOLDER in template)
    unknown = [n for n in names if n not in NEMESES]
    if unknown or not names:
        raise OptionsError(f"unknown nemesis {','.join(unknown) or text!r}; "
                           f"choose from {', '.join(NEMESES)}, all")
    return tuple(dict.fromkeys(names))


def parse_options(argv: list[str]) -> Options:
    """Options from argv (argparse exits on --help and on malformed flags)."""
    args = _parser().parse_args(argv)
    if args.node_command:
        server, template = "custom", args.node_command
    else:
        server, template = args.server, SERVER_COMMANDS[args.server]
        if args.tls:
            template += TLS_FLAGS
    return Options(
        nodes=args.nodes, seed=args.seed, duration=args.duration,
        nemeses=_nemeses(args.nemesis, template), nemesis_label=args.nemesis, server=server,
        node_command=template, out=args.out, unsafe_reads=args.unsafe_reads, tls=args.tls,
        clients=args.clients, registers=args.registers, rate=args.rate,
        timeout=args.timeout, quiet=args.quiet, fault=args.fault,
        converge_timeout=args.converge_timeout, check_timeout=args.check_timeout,
        inside=args.inside)
