"""The simulator's clock, which is also the bot's clock in sim mode.

Two modes:
* ``max``: time stands still until someone POSTs a later time (tests, fast replays).
* speed X: sim time = anchor + X × wall time elapsed since the anchor. A POST re-bases
  the anchor, so a speed-X run can still be jumped forward.
Time only ever moves forward.  With ``publish`` (a ``shared.sim_time.ClockFileWriter``
method) every anchor is also written to the shared clock file, before the move returns.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class ClockError(ValueError):
    """A request to move the clock backward."""


class SimClock:
    def __init__(self, start_ms: int, speed: float | None,
                 monotonic: Callable[[], float] = time.monotonic,
                 publish: Callable[[int, int, float], None] | None = None):
        self._start_ms = start_ms
        self._speed = speed
        self._monotonic = monotonic
        self._anchor_sim_ms = start_ms
        self._anchor_wall = monotonic()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[int], None]] = []
        self._publish = publish
        self._published()

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def speed_label(self) -> str | float:
        return "max" if self._speed is None else self._speed

    def now_ms(self) -> int:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        if self._speed is None:
            return self._anchor_sim_ms
        elapsed_s = self._monotonic() - self._anchor_wall
        return self._anchor_sim_ms + int(elapsed_s * 1000 * self._speed)

    def advance_to(self, target_ms: int) -> int:
        """Move to ``target_ms`` (never backward); returns the new time."""
        with self._lock:
            now = self._now_locked()
            if target_ms < now:
                raise ClockError(f"clock cannot go backward: now_ms={now}, asked {target_ms}")
            self._anchor_sim_ms = target_ms
            self._anchor_wall = self._monotonic()
            self._published()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(target_ms)
        return target_ms

    def _published(self) -> None:
        if self._publish is not None:
            self._publish(self._anchor_sim_ms, int(self._anchor_wall * 1e9), self._speed or 0.0)

    def on_advance(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(now_ms)`` after every explicit advance (WebSocket wake-ups)."""
        with self._lock:
            self._listeners.append(listener)

    def snapshot(self) -> dict:
        return {"now_ms": self.now_ms(), "speed": self.speed_label, "start_ms": self._start_ms}
