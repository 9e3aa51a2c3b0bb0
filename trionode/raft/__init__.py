"""The Raft consensus core: pure, no I/O, no clock, no global randomness (STYLE §1).

RaftCore is driven by tick() and step(); it hands its work out as Ready batches
(persist, send, apply, advance). See core.py. Imports nothing of trionode but the
Logger Protocol (telemetry.logger); every other part may import it.
"""

from .core import RaftConfig, RaftCore
from .errors import ProposalDropped, RaftError
from .messages import LOCAL_TYPES, RESPONSE_TYPES, Entry, HardState, Message, MsgType, Snapshot
from .progress import Progress, ProgressState
from .ready import ReadState, Ready, SoftState, Status
from .roles import Role

__all__ = ["Entry", "HardState", "Message", "MsgType", "Snapshot", "LOCAL_TYPES", "RESPONSE_TYPES",
           "RaftConfig", "RaftCore", "Ready", "ReadState", "SoftState", "Status", "Role",
           "Progress", "ProgressState", "ProposalDropped", "RaftError"]
