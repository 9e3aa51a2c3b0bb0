"""etcd v2's vocabulary, pure: the error codes with their exact messages and HTTP statuses
(v2-spec §3), and EtcdError that carries them to a client. Imports only gocompat; any
part may import it."""

from .errors import MESSAGES, EtcdError

__all__ = ["EtcdError", "MESSAGES"]
