"""Who is in the cluster: the replicated membership (members, pure) and 0.4's cluster
config (clusterconfig, pure); how a member finds its cluster (bootstrap, join, discovery)
and how changes are made (reconfig, standbys); keeping this member in step with them
(tracker: peer addresses, its own removal). The Raft side of a change is raft/membership.py.
May import config, client, storage, store, raft, v2, gocompat and telemetry; never server,
http or node."""

from .clusterconfig import CONFIG_KEY, ClusterConfig
from .errors import MemberError
from .members import Member, Membership

__all__ = ["CONFIG_KEY", "ClusterConfig", "Member", "MemberError", "Membership"]
