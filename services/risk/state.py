"""Waiting for a fresh ledger state: interval k is decided on the state AFTER window
k−1 was settled, never on an older one.

The ledger rewrites ``LEDGER_STATE_KEY`` (the authority) and publishes each new state
on ``LEDGER_EVENTS``.  We block on that stream with short XREAD BLOCK slices (no busy
polling) and re-read the key after each wake-up or timeout.  The stream position is
taken BEFORE the key is read, not as ``$`` afterwards: an update landing between the
two reads would otherwise be missed and cost a whole slice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from shared import streams
from shared.clock import Clock
from shared.errors import TransientError
from shared.messages import STATE_DECODER, LedgerState, PredictionSignal


@dataclass(frozen=True)
class Waited:
    """The newest state seen; ``fresh`` says whether it has interval k−1 settled."""

    state: LedgerState | None
    fresh: bool


def is_fresh(state: LedgerState | None, signal: PredictionSignal) -> bool:
    return (state is not None and state.run_id == signal.run_id
            and state.settled_through >= signal.interval - 1)


def describe(state: LedgerState | None, signal: PredictionSignal) -> str:
    """Why ``state`` is not fresh enough for ``signal``, for the denial's reason."""
    if state is None:
        return "no ledger state yet"
    if state.run_id != signal.run_id:
        return f"ledger state is for run {state.run_id!r}"
    return f"ledger settled_through={state.settled_through}"


class LedgerStateWaiter:
    """Blocks until the ledger has settled interval k−1, bounded by the entry deadline
    (``clock`` time, which may be the simulator's) and by ``max_wait_s`` of wall time."""

    def __init__(self, client: redis.Redis, clock: Clock, *, max_wait_s: float, block_ms: int = 500,
                 wall: Callable[[], float] = time.monotonic,
                 keepalive: Callable[[], None] = lambda: None,
                 stopping: Callable[[], bool] = lambda: False):
        self.redis = client
        self.clock = clock
        self.max_wait_s = max_wait_s
        self.block_ms = block_ms
        self.wall = wall
        self.keepalive = keepalive    # keeps the service's heartbeat alive during a long wait
        self.stopping = stopping      # a SIGTERM ends the wait; the signal stays pending

    def read(self) -> LedgerState | None:
        raw = self.redis.get(streams.LEDGER_STATE_KEY)
        return STATE_DECODER.decode(raw) if raw else None

    def wait_for(self, signal: PredictionSignal) -> Waited:
        """A fresh state, or the newest stale one once the entry deadline has passed.

        Raises TransientError when only the wall-clock wait ran out (or we are stopping)
        while the deadline is still ahead: the runtime leaves the signal pending and
        retries it.
        """
        state = self.read()
        if is_fresh(state, signal):  # the usual case: no stream position needed
            return Waited(state, fresh=True)
        give_up_at = self.wall() + self.max_wait_s
        cursor = self._stream_position()
        while True:
            state = self.read()  # (again: an update may have landed before the position)
            if is_fresh(state, signal):
                return Waited(state, fresh=True)
            to_deadline_s = signal.entry_deadline - self.clock.now()
            if to_deadline_s <= 0:
                return Waited(state, fresh=False)
            to_give_up_s = give_up_at - self.wall()
            if to_give_up_s <= 0 or self.stopping():
                raise TransientError(f"interval {signal.interval}: {describe(state, signal)}, waited "
                                     f"{self.max_wait_s}s for settlement of interval {signal.interval - 1}")
            self.keepalive()
            slice_ms = min(self.block_ms, to_give_up_s * 1000, to_deadline_s * 1000)
            cursor = self._wait_for_event(cursor, max(1, int(slice_ms)))

    def _stream_position(self) -> str:
        newest = self.redis.xrevrange(streams.LEDGER_EVENTS, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def _wait_for_event(self, cursor: str, block_ms: int) -> str:
        """Block until the ledger publishes after ``cursor`` (or the slice ends)."""
        reply = self.redis.xread({streams.LEDGER_EVENTS: cursor}, count=100, block=block_ms)
        for _stream, entries in reply or []:
            if entries:
                cursor = _text(entries[-1][0])
        return cursor


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
