"""The Date header of every response."""

from __future__ import annotations

import time
from email.utils import formatdate

__all__ = ["DateCache"]


class DateCache:
    """The Date header line (Go's http.TimeFormat), formatted once per second."""

    __slots__ = ("_second", "_line")

    def __init__(self) -> None:
        self._second, self._line = -1, ""

    def line(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._line = f"Date: {formatdate(now, usegmt=True)}\r\n"
        return self._line
