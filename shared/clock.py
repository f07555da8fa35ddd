"""Injected time. Logic never calls ``time.time()``; it asks a Clock.

- ``LiveClock``: the system clock.
- ``SimClock``: the exchange simulator's clock (its ``/clock`` control endpoint), so a
  replay runs in the simulator's time at real speed, N times faster, or as fast as the
  pipeline goes, with identical results.
- ``ManualClock``: tests set the time by hand.
"""

from __future__ import annotations

import time
from typing import Protocol

import requests

WINDOW_SECONDS = 300
NS = 1_000_000_000


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""

    def now_ns(self) -> int:
        """Unix time in nanoseconds."""


class LiveClock:
    def now(self) -> float:
        return time.time()

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    def __init__(self, start: float = 0.0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def now_ns(self) -> int:
        return int(round(self.t * NS))

    def set(self, t: float) -> None:
        self.t = float(t)

    def advance(self, seconds: float) -> None:
        self.t += seconds


class SimClock:
    """Reads (and, for the interval clock in ``max`` mode, advances) simulator time."""

    def __init__(self, control_url: str, session: requests.Session | None = None, timeout: float = 5.0):
        self.url = control_url.rstrip("/") + "/clock"
        self.session = session or requests.Session()
        self.timeout = timeout

    def state(self) -> dict:
        response = self.session.get(self.url, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def now_ms(self) -> int:
        return int(self.state()["now_ms"])

    def now(self) -> float:
        return self.now_ms() / 1000

    def now_ns(self) -> int:
        return self.now_ms() * 1_000_000

    def advance_to(self, unix_ms: int) -> None:
        response = self.session.post(self.url, json={"now_ms": int(unix_ms)}, timeout=self.timeout)
        if response.status_code == 409:  # already past it (e.g. after a restart): fine
            return
        response.raise_for_status()


def window_start_of(unix_s: float) -> int:
    return int(unix_s // WINDOW_SECONDS) * WINDOW_SECONDS


def next_window_start(unix_s: float) -> int:
    """The next 5-minute boundary strictly after ``unix_s`` (a run starts there)."""
    return window_start_of(unix_s) + WINDOW_SECONDS


def slug_for(window_start: int) -> str:
    return f"btc-updown-5m-{window_start}"
