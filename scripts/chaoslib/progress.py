"""The live one-line progress display: rewritten in place on a terminal, a plain line every
PLAIN_EVERY seconds otherwise (logs, CI)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

import trio

from .nemesis import Nemesis
from .workload import Workload

__all__ = ["Progress"]

TTY_EVERY = 0.5
PLAIN_EVERY = 10.0


class Progress:
    def __init__(self, stream: TextIO, workload: Workload, nemesis: Nemesis,
                 leader: Callable[[], str | None], epoch: float, duration: float) -> None:
        self._stream, self._workload, self._nemesis = stream, workload, nemesis
        self._leader, self._epoch, self._duration = leader, epoch, duration
        self._tty = stream.isatty()
        self._width = 0

    def line(self) -> str:
        counts = self._workload.counts
        total = sum(counts.values())
        share = (lambda k: f"{100 * counts[k] / total:.0f}%") if total else (lambda k: "-")
        elapsed = time.monotonic() - self._epoch
        return (f"[{elapsed:4.0f}s/{self._duration:g}s] ops={total} ok={share('ok')} "
                f"fail={share('fail')} info={share('info')} | leader={self._leader() or '?'} "
                f"| faults={self._nemesis.faults} now: {self._nemesis.current}")

    def _show(self) -> None:
        text = self.line()
        if self._tty:
            self._stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    async def run(self) -> None:
        try:
            while True:
                await trio.sleep(TTY_EVERY if self._tty else PLAIN_EVERY)
                self._show()
        finally:
            self.clear()

    def clear(self) -> None:
        """Leave the terminal line empty for what comes next."""
        if self._tty and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
