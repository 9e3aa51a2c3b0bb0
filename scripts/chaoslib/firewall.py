"""Network partitions with iptables, inside the namespace only.

Why owner (group) rules and not address rules: etcd does not bind its outgoing peer
connections, so they leave from 127.0.0.1 whoever sends them; only the sending socket's
owner tells the nodes apart. Each node runs with its own gid (cluster.py), so "A cannot
reach B" is one OUTPUT rule `-m owner --gid-owner gid(A) -d addr(B) -j DROP`, and a cut is
that rule in both directions. This stops every packet A's sockets send to B: connection
attempts, data, and the ACKs of data B pushes down a connection A opened earlier (so such
a stream stalls after one retransmission timeout). Clients run as root from 127.0.0.1 and
are never matched. All rules live in one chain of ours, replaced atomically by one
iptables-restore; healing is flushing that chain.
"""

from __future__ import annotations

from collections.abc import Iterable

import trio

from .cluster import NodeSpec

__all__ = ["Firewall", "FirewallError", "cut_rules", "CHAIN"]

CHAIN = "TRIONODE-CHAOS"
IPTABLES_TIMEOUT = 10.0


class FirewallError(Exception):
    """iptables refused a change (the text is its stderr)."""


def cut_rules(pairs: Iterable[tuple[NodeSpec, NodeSpec]]) -> list[str]:
    """iptables-restore lines dropping traffic both ways between each pair."""
    rules = []
    for a, b in pairs:
        for src, dst in ((a, b), (b, a)):
            rules.append(f"-A {CHAIN} -d {dst.host}/32 -m owner --gid-owner {src.gid} -j DROP")
    return rules


def _restore_text(rules: list[str]) -> str:
    # ":CHAIN - [0:0]" with --noflush empties (or creates) just our chain
    return "\n".join(["*filter", f":{CHAIN} - [0:0]", *rules, "COMMIT", ""])


async def _run(argv: list[str], stdin: bytes = b"") -> None:
    with trio.fail_after(IPTABLES_TIMEOUT):
        result = await trio.run_process(argv, stdin=stdin, capture_stdout=True,
                                        capture_stderr=True, check=False)
    if result.returncode != 0:
        raise FirewallError(f"{' '.join(argv)}: {result.stderr.decode(errors='replace').strip()}")


class Firewall:
    """Our chain, hooked into OUTPUT; `cut()` replaces its rules, `heal()` empties it."""

    async def install(self) -> None:
        await _run(["iptables-restore", "--noflush"], _restore_text([]).encode())
        await _run(["iptables", "-w", "-I", "OUTPUT", "-j", CHAIN])

    async def cut(self, pairs: list[tuple[NodeSpec, NodeSpec]]) -> None:
        await _run(["iptables-restore", "--noflush"], _restore_text(cut_rules(pairs)).encode())

    async def heal(self) -> None:
        await _run(["iptables-restore", "--noflush"], _restore_text([]).encode())
