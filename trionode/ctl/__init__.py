"""trionodectl: etcdctl v2 (etcd 3.4, ETCDCTL_API=2) on trionode.client.

Same stdout, stderr and exit status as etcdctl for every command line, except the
documented supersets: our own --help (every command with an example), a one-line message
for an unusable command line, and the Etcd-Index / Raft-Index / Raft-Term lines of
`-o extended`. Run it as `trionodectl` or `python -m trionode.ctl`. Imports client and
gocompat only.
"""

from .cli import main

__all__ = ["main"]
