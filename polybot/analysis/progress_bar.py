"""A small progress bar on stderr (redrawn at most ten times a second)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30):
        self.total, self.label, self.width = total, label, width
        self.stream = stream if stream is not None else sys.stderr
        self.started = self._last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._last < 0.1:
            return
        self._last = now
        filled = self.width * done // max(self.total, 1)
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= self.total else ""
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{self.total:,} runs  {elapsed:5.1f} s  "
                          f"{rate:,.0f} runs/s{end}")
        self.stream.flush()
