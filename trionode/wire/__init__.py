"""The peer wire protocol, pure: Hello + Raft messages <-> length-prefixed frames.

The format is specified in proto/SPEC.md and pinned by proto/vectors/. Imports only
raft (the messages it carries); the peer edge imports it.
"""

from .decoder import PeerDecoder
from .encoder import encode_hello, encode_message
from .frames import DEFAULT_MAX_FRAME, SUPPORTED_VERSIONS, VERSION, Hello

__all__ = [
    "DEFAULT_MAX_FRAME",
    "SUPPORTED_VERSIONS",
    "VERSION",
    "Hello",
    "PeerDecoder",
    "encode_hello",
    "encode_message",
]
