"""trionode: an etcd v2 compatible key-value store built on trio."""

__version__ = "0.1.0"
#: What /version reports; etcd 3.4's shape, so v2 clients that parse it keep working.
ETCD_SERVER_VERSION = "3.4.23"
ETCD_CLUSTER_VERSION = "3.4.0"
