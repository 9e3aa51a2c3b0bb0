"""The bounded queue between the node's send() and one peer's sender task.

put() never waits (the Ready loop must not block on a slow peer): past the message or
byte limit the message is refused and the caller reports the peer unreachable, which
sends Raft back to probing that follower (etcd-io/raft ReportUnreachable). Raft copes
with lost messages (paper §5.3: the leader retries), so dropping is always safe.
"""

from __future__ import annotations

from collections import deque

import trio

from ..raft.messages import Message

__all__ = ["Outbox", "message_size"]

_OVERHEAD = 64  # a rough frame header and fixed fields per message


def message_size(msg: Message) -> int:
    """An estimate of the encoded size, for the byte limit (payloads dominate)."""
    size = _OVERHEAD
    for entry in msg.entries:
        size += len(entry.data) + 24
    if msg.snapshot is not None:
        size += len(msg.snapshot.data)
    return size + len(msg.context)


class Outbox:
    __slots__ = ("_queue", "_bytes", "_max_messages", "_max_bytes", "_wakeup")

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self._queue: deque[tuple[Message, int]] = deque()
        self._bytes = 0
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._wakeup = trio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, msg: Message) -> bool:
        """Queue `msg` and wake the sender; False (not queued) when full.

        One message is always admitted into an empty outbox, however large: a snapshot
        bigger than the byte limit must still be able to go out.
        """
        size = message_size(msg)
        if self._queue and (len(self._queue) >= self._max_messages
                            or self._bytes + size > self._max_bytes):
            return False
        self._queue.append((msg, size))
        self._bytes += size
        self._wakeup.set()
        return True

    async def wait(self) -> None:
        """Return once there is something to send."""
        while not self._queue:
            await self._wakeup.wait()
            self._wakeup = trio.Event()

    def drain(self) -> list[Message]:
        """Everything queued, oldest first; the outbox is empty afterwards."""
        batch = [msg for msg, _ in self._queue]
        self._queue.clear()
        self._bytes = 0
        return batch
