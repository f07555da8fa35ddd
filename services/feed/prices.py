"""A window's start and end BTC price.

From Polymarket's RTDS Chainlink feed where configured (the markets' resolution source),
else from Binance 1-minute candles with the definition the simulator shares:

* start price = OPEN of the candle whose open_time == window start;
* end price   = CLOSE of the candle whose open_time == window end − 60 s.

Start and end always come from the same source, so Up/Down is judged on one scale.
"""

from __future__ import annotations

import logging
import math
import time
from decimal import Decimal
from typing import Callable, NamedTuple, TypeVar

from services.feed.candles import REST, CandleStore
from services.feed.parsers import InvalidPayload
from services.feed.sources.binance_rest import BinanceRest
from services.feed.sources.binance_ws import BinanceStream
from services.feed.sources.rtds import ChainlinkRtds
from shared.http import HttpError
from shared.messages.market import Bar

log = logging.getLogger("polybot.feed")
BINANCE_1M = "binance_1m"
CHAINLINK = "chainlink_rtds"
MINUTE_MS = 60_000
T = TypeVar("T")


class PricePoint(NamedTuple):
    value: Decimal | None
    source: str | None
    reason: str = ""


class WindowPair(NamedTuple):
    start: Decimal | None
    end: Decimal | None
    source: str
    reason: str = ""


class WindowPricer:
    def __init__(self, *, store: CandleStore, rest: BinanceRest, now: Callable[[], float],
                 stream: BinanceStream | None = None, oracle: ChainlinkRtds | None = None,
                 sleep: Callable[[float], None] = time.sleep, poll_s: float = 0.25):
        self._store = store
        self._rest = rest
        self._now = now
        self._stream = stream
        self._oracle = oracle
        self._sleep = sleep
        self._poll_s = poll_s

    def start_price(self, window_start: int, *, deadline: float) -> PricePoint:
        """The strike at the tick: the oracle's first report, else the 1m candle's OPEN."""
        if self._oracle is not None and self._oracle.is_live():
            value = self._poll(lambda: self._oracle.price_at(window_start), self._half(deadline))
            if value is not None:
                return PricePoint(value, CHAINLINK)
            log.warning("rtds: no report at %d by the deadline, using Binance", window_start)
        try:
            bar = self._poll(lambda: self._opening_bar(window_start, deadline), deadline)
        except (HttpError, InvalidPayload) as err:
            return PricePoint(None, None, f"start price: {err}")
        if bar is None:
            return PricePoint(None, None, f"start price: no 1m candle opening at {window_start} yet")
        return PricePoint(bar.open, BINANCE_1M)

    def window_prices(self, window_start: int, window_end: int, *, deadline: float) -> WindowPair:
        if self._oracle is not None:
            end = self._poll(lambda: self._oracle.price_at(window_end), self._half(deadline))
            start = self._oracle.price_at(window_start)
            if start is not None and end is not None:
                return WindowPair(start, end, CHAINLINK)
            log.warning("rtds: window %d-%d not covered, using Binance", window_start, window_end)
        try:
            start_bar = self._poll(lambda: self._closed_bar(window_start, deadline), deadline)
            end_bar = self._poll(
                lambda: self._closed_bar(window_end - 60, deadline), deadline)
        except (HttpError, InvalidPayload) as err:
            return WindowPair(None, None, BINANCE_1M, f"window prices: {err}")
        missing = [name for name, bar in (("start", start_bar), ("end", end_bar)) if bar is None]
        return WindowPair(
            start_bar.open if start_bar else None, end_bar.close if end_bar else None, BINANCE_1M,
            f"no closed 1m candle for the {' and '.join(missing)} price" if missing else "")

    def _opening_bar(self, window_start: int, deadline: float) -> Bar | None:
        open_ms = window_start * 1000
        bar = self._store.get(open_ms)
        if bar is None and self._stream is not None:
            bar = self._stream.open_bar(open_ms)
        if bar is None:
            bar = self._rest.kline_at(open_ms, deadline=deadline, closed_only=False)
        return bar

    def _closed_bar(self, open_s: int, deadline: float) -> Bar | None:
        open_ms = open_s * 1000
        bar = self._store.get(open_ms)
        if bar is None:
            bar = self._rest.kline_at(open_ms, deadline=deadline, closed_only=True)
            if bar is not None:
                self._store.add(bar, REST)
        return bar

    def _half(self, deadline: float) -> float:
        """Wait for the oracle at most half the time left, so Binance still has time."""
        now = self._now()
        return now + max(0.0, deadline - now) / 2

    def _poll(self, attempt: Callable[[], T | None], deadline: float) -> T | None:
        """Call ``attempt`` until it gives a value or the next try would pass the deadline.

        The number of tries is also fixed up front from the budget: in lockstep,
        simulated time stands still while we wait, so the deadline alone never came
        and a missing candle (a stale feed) hung the run."""
        tries = max(1, math.ceil((deadline - self._now()) / self._poll_s))
        for _ in range(tries - 1):
            value = attempt()
            if value is not None or self._now() + self._poll_s >= deadline:
                return value
            self._sleep(self._poll_s)
        return attempt()
