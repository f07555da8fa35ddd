"""The run plan: which windows a run covers and how far the clock has got.

A run is ``intervals`` consecutive 5-minute windows aligned to UTC boundaries, starting
at ``first_start``.  Its id encodes the first window (``run-1722470400``), so the plan
can be rebuilt from the ledger's state after Redis lost everything.
"""

from __future__ import annotations

import msgspec

from shared import messages as m
from shared.clock import WINDOW_SECONDS, NS


class RunPlan(msgspec.Struct, kw_only=True):
    run_id: str
    first_start: int
    intervals: int
    entry_deadline_s: int
    ticked: int = 0   # last interval whose IntervalTick was published
    closed: int = 0   # last interval whose WindowClosed was published

    @classmethod
    def new(cls, first_start: int, intervals: int, entry_deadline_s: int) -> "RunPlan":
        return cls(run_id=f"run-{first_start}", first_start=first_start, intervals=intervals,
                   entry_deadline_s=entry_deadline_s)

    def window(self, interval: int) -> tuple[int, int]:
        start = self.first_start + WINDOW_SECONDS * (interval - 1)
        return start, start + WINDOW_SECONDS

    def tick(self, interval: int, now_ns: int) -> m.IntervalTick:
        start, end = self.window(interval)
        return m.IntervalTick(**m.header(key=("tick", self.run_id, interval), ts_event=start * NS, ts_init=now_ns),
                              run_id=self.run_id, interval=interval, intervals_total=self.intervals,
                              window_start=start, window_end=end,
                              entry_deadline=start + self.entry_deadline_s)

    def closed_event(self, interval: int, now_ns: int) -> m.WindowClosed:
        start, end = self.window(interval)
        return m.WindowClosed(**m.header(key=("closed", self.run_id, interval), ts_event=end * NS, ts_init=now_ns),
                              run_id=self.run_id, interval=interval, intervals_total=self.intervals,
                              window_start=start, window_end=end)


def first_start_of(run_id: str) -> int:
    return int(run_id.removeprefix("run-"))
