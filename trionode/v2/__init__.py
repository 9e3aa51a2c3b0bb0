"""etcd v2's vocabulary, pure: the error codes with their exact messages and HTTP statuses
(v2-spec §3), and V2Error that carries them to a client. Imports only gocompat; any
part may import it."""

from .errors import MESSAGES, ErrorCode, V2Error

__all__ = ["ErrorCode", "MESSAGES", "V2Error"]
