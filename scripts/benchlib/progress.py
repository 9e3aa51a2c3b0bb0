"""The live display: one line rewritten in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.stream = total, stream
        self.live = stream.isatty()
        self.index = 0
        self.label = ""
        self.began = time.monotonic()
        self._width = 0

    def cell(self, label: str) -> None:
        """A new cell starts (counted toward the total)."""
        self.index += 1
        self.label = label
        self.show(0, 0.0, 0.0)

    def show(self, done: int, elapsed: float, total: float) -> None:
        if not self.live:
            return
        rate = done / elapsed if elapsed > 0 else 0.0
        spent = time.monotonic() - self.began
        text = (f"[{self.index}/{self.total} {spent / 60:4.1f} min] {self.label}  "
                f"{elapsed:4.1f}/{total:.1f} s  {done:,} replies  {rate:,.0f}/s")
        self._write("\r" + text.ljust(self._width))
        self._width = len(text)

    def line(self, text: str) -> None:
        """A permanent line (the live line is cleared first)."""
        if self.live and self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
