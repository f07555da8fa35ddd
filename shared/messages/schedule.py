"""The interval clock's messages."""

from __future__ import annotations

from shared.messages.base import Msg


class IntervalTick(Msg, frozen=True, kw_only=True):
    """Window ``interval`` (1..intervals_total) opens now. Times are unix seconds."""

    run_id: str
    interval: int
    intervals_total: int
    window_start: int
    window_end: int
    entry_deadline: int


class WindowClosed(Msg, frozen=True, kw_only=True):
    """Window ``interval`` has ended: time to price and settle it."""

    run_id: str
    interval: int
    intervals_total: int
    window_start: int
    window_end: int
