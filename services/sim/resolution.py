"""How and when a window resolves.

Rule: Up iff end price ≥ start price (a tie is Up), where
* start price = OPEN of the 1-minute candle whose open_time == window start;
* end price   = CLOSE of the 1-minute candle whose open_time == window end − 60 s.
The result is published (Gamma closed/outcomePrices, CLOB winner) at window end + delay
(10 s of sim time by default; ``resolution=delay:S`` overrides it). Under a
``resolution=conflict`` fault the venue publishes the opposite of the rule, so a ledger's
correction path can be exercised. A window the data does not cover never resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from services.sim.faults import FaultPlan
from services.sim.feed import PriceFeed
from services.sim.windows import Window


@dataclass(frozen=True)
class Resolution:
    start_price: int | None  # cents; known once the window has started
    end_price: int | None  # cents; known once the window has ended
    rule_outcome: str | None  # what the price rule says, once both prices are known
    outcome: str | None  # what the venue publishes, once resolved
    resolved: bool
    resolves_at_ms: int
    conflict: bool


class Resolver:
    def __init__(self, feed: PriceFeed, default_delay_s: float, faults: Callable[[], FaultPlan]):
        self._feed = feed
        self._default_delay_s = default_delay_s
        self._faults = faults

    def status(self, window: Window, now_ms: int) -> Resolution:
        plan = self._faults()
        delay_s = plan.resolution_delay_s(window.index, self._default_delay_s)
        resolves_at = window.end_ms + int(delay_s * 1000)
        start = self._feed.open_of_minute(window.start_ms) if now_ms >= window.start_ms else None
        end = None
        if now_ms >= window.end_ms:
            end = self._feed.close_of_minute(window.end_ms - 60_000)
        rule = None if start is None or end is None else ("Up" if end >= start else "Down")
        conflict = plan.resolution_conflict(window.index)
        resolved = rule is not None and now_ms >= resolves_at
        outcome = None
        if resolved:
            outcome = rule if not conflict else ("Down" if rule == "Up" else "Up")
        return Resolution(start, end, rule, outcome, resolved, resolves_at, conflict)
