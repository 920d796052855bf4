"""A dependency-free progress line for long commands (stderr, so stdout stays machine-readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`done/total  rate/s  ETA`: redrawn in place on a terminal, a new line every 10 s in a log."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.done = 0
        self.started = time.perf_counter()
        self._last_draw = self.started if not self.interactive else 0.0

    def advance(self, step: int = 1) -> None:
        self.done += step
        now = time.perf_counter()
        if now - self._last_draw >= (0.1 if self.interactive else 10.0):
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0.0
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        line = f"{self.label} [{bar}] {self.done}/{self.total}  {rate:,.0f}/s  ETA {left:,.0f}s "
        self.stream.write(f"\r{line}" if self.interactive else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.perf_counter())
        if self.interactive:
            self.stream.write("\n")
        self.stream.flush()
