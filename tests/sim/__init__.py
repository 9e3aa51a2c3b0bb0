"""Deterministic whole-cluster simulation of the Raft core (STYLE "sim/", issue 3).

disk.py     a node's disk: written view, durable part, fsync, crash (torn tails)
checker.py  whole-history invariants (election safety, log matching, quorum-durable commits,
            leader completeness, state machine safety, durable message claims, one vote per term)
node.py     RaftCore + disk + state machine + client waits; the Ready loop in the real node's
            order (trionode/server/replica.py: early messages and applies before the fsync)
sim.py      virtual clock, event queue, lossy network, partitions, crashes; the quiet period
chaos.py    what a seed picks: cluster size, knobs, a schedule of client calls and faults
members.py  membership in the sim's state machine: change payloads, folded over the first
            membership (a snapshot carries it, as the real node's does)

Replay one seed: TRIONODE_SIM_SEED=<n> python -m pytest tests/sim -k replay
"""
