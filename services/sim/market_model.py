"""A seeded model of a competitive Up/Down market maker (formulas in docs/simulator.md).

    fair P(Up) = F( ln(S_t / S_0) / (σ · √τ) )

S_0 = open of the window's first 1-minute candle, S_t = the intra-minute path price
(paths.py), σ = EWMA per-minute volatility of closed candles, τ = minutes left, and F
the CDF of a unit-variance Student-t with ν = 4 rather than the normal Φ: BTC minute
returns are fat-tailed, and with Φ the quotes were measurably under-confident (fair 0.31
resolved Up 26 % of the time), an edge no real market would leave. With F the model is
calibrated within noise on synthetic and real data (tests/sim/test_no_edge.py). Before
the window starts the fair value is 0.5. The Up book quotes one tick around fair
(best bid = fair floored to the tick, best ask one tick above), ``levels`` levels a side,
tick 0.01, or 0.001 while fair > 0.96 or < 0.04. The Down book is the complement (built
in book.py). The model re-quotes once per sim second. Floats live only in here; sizes
leave as Decimal.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from services.sim.feed import PriceFeed
from services.sim.windows import Window

THIN_FROM_MS = 120_000  # depth starts thinning 2 minutes before the window ends
THIN_FLOOR = 0.15
LEVEL_GROWTH = 0.5  # each level further from the best is 50 % deeper
SIZE_MIN, SIZE_SPAN = 150.0, 300.0  # best-level size: 150-450 shares before thinning

Side = str  # "bid" or "ask" of the Up book


@dataclass(frozen=True)
class Quote:
    """The Up token's book at one instant: prices in thousandths, best level first."""
    tick_mils: int
    bids: tuple[tuple[int, Decimal], ...]
    asks: tuple[tuple[int, Decimal], ...]
    fair: float


def student_t4_cdf(z: float) -> float:
    """CDF of a Student-t with 4 degrees of freedom scaled to unit variance (closed form)."""
    t = z * math.sqrt(2.0)  # a t(4) has variance 2
    x = t / math.sqrt(4.0 + t * t)
    return 0.5 + 0.5 * x * (1.5 - 0.5 * x * x)


def fair_up(s_now: float, s_start: float, sigma_per_minute: float, minutes_left: float) -> float:
    if minutes_left <= 0:
        return 1.0 if s_now >= s_start else 0.0  # ties resolve Up
    z = math.log(s_now / s_start) / (sigma_per_minute * math.sqrt(minutes_left))
    return student_t4_cdf(z)


def tick_mils_for(fair: float) -> int:
    return 1 if fair > 0.96 or fair < 0.04 else 10


def best_bid_ask(fair: float, tick: int) -> tuple[int, int]:
    bid = int(math.floor(fair * 1000 / tick + 1e-9)) * tick
    bid = min(max(bid, tick), 1000 - 2 * tick)
    return bid, bid + tick


def depth_multiplier(ms_left: int) -> float:
    if ms_left >= THIN_FROM_MS:
        return 1.0
    return max(THIN_FLOOR, ms_left / THIN_FROM_MS)


class MarketModel:
    def __init__(self, seed: int, feed: PriceFeed, levels: int):
        self._seed = seed
        self._feed = feed
        self._levels = levels

    def fair_at(self, window: Window, t_ms: int) -> float:
        if t_ms < window.start_ms:
            return 0.5
        s_start = self._feed.open_of_minute(window.start_ms)
        s_now = self._feed.price_at(t_ms)
        if not s_start or not s_now:
            return 0.5
        minutes_left = (window.end_ms - t_ms) / 60_000
        return fair_up(s_now, s_start, self._feed.sigma_at(t_ms), minutes_left)

    def quote(self, window: Window, now_ms: int,
              consumed: Mapping[tuple[Side, int], Decimal]) -> Quote:
        t_ms = now_ms - now_ms % 1000
        fair = self.fair_at(window, t_ms)
        tick = tick_mils_for(fair)
        best_bid, best_ask = best_bid_ask(fair, tick)
        thin = depth_multiplier(window.end_ms - t_ms)
        bids = self._side(window, "bid", [best_bid - j * tick for j in range(self._levels)],
                          tick, thin, consumed)
        asks = self._side(window, "ask", [best_ask + j * tick for j in range(self._levels)],
                          tick, thin, consumed)
        return Quote(tick, bids, asks, fair)

    def _side(self, window: Window, side: Side, prices: list[int], tick: int, thin: float,
              consumed: Mapping[tuple[Side, int], Decimal]) -> tuple[tuple[int, Decimal], ...]:
        levels = []
        for distance, price in enumerate(prices):
            if not tick <= price <= 1000 - tick:
                break
            shares = self._base_size(window.start_s, side, price) * (1 + LEVEL_GROWTH * distance)
            size = Decimal(round(shares * thin * 100)) / 100 - consumed.get((side, price), 0)
            if size > 0:
                levels.append((price, size))
        return tuple(levels)

    def _base_size(self, start_s: int, side: Side, price_mils: int) -> float:
        digest = hashlib.blake2b(f"{self._seed}:{start_s}:{side}:{price_mils}".encode(),
                                 digest_size=8).digest()
        return SIZE_MIN + SIZE_SPAN * int.from_bytes(digest, "big") / 2**64
