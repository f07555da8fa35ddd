"""A one-line progress bar on stderr (redrawn in place on a terminal; every 10% otherwise)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, label: str, stream=None, width: int = 30):
        self.total = max(1, total)
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last_decile = -1

    def update(self, done: int, note: str = "") -> None:
        fraction = min(1.0, done / self.total)
        if self.tty:
            filled = int(fraction * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {done}/{self.total} {note}\033[K")
            self.stream.flush()
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(f"{self.label}: {fraction:.0%} ({done}/{self.total}) {note}\n")
            self.stream.flush()

    def close(self, message: str = "") -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.stream.write("\n")
        if message:
            self.stream.write(f"{message} in {elapsed:.1f} s\n")
        self.stream.flush()
