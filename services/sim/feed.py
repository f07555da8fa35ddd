"""What the BTC feed shows at a given sim time: closed candles, the open candle, S_t, σ.

Every question takes the time explicitly, so callers decide which time applies (the
real sim time, or a frozen one under a ``feed=stale`` fault). Nothing here ever looks
at a candle that has not opened by that time.
"""

from __future__ import annotations

from typing import NamedTuple

from services.sim.data import MINUTE_MS, CandleStore
from services.sim.depth import MOMENTUM_WINDOW_MS, depth_snapshot, momentum_score
from services.sim.paths import PricePaths

SIGMA_FLOOR = 1e-4  # per minute; flat (halted) stretches must not make σ vanish
TRADE_ID_STRIDE = 1_000_000  # synthetic trade ids: minute number × stride


class Kline(NamedTuple):
    open_ms: int
    open: int  # cents
    high: int
    low: int
    close: int
    volume: int  # 1e-8 BTC
    quote: float
    trades: int
    taker_base: int
    taker_quote: float
    closed: bool

    @property
    def close_ms(self) -> int:
        return self.open_ms + MINUTE_MS - 1

    @property
    def first_trade_id(self) -> int:
        return self.open_ms // MINUTE_MS * TRADE_ID_STRIDE if self.trades else -1

    @property
    def last_trade_id(self) -> int:
        return self.first_trade_id + self.trades - 1 if self.trades else -1


class PriceFeed:
    def __init__(self, seed: int, store: CandleStore):
        self.seed = seed
        self.store = store
        self.paths = PricePaths(seed, store)

    def kline(self, index: int, at_ms: int) -> Kline:
        """Candle ``index`` as seen at ``at_ms``: complete if closed, else partial."""
        a = self.store.arrays
        open_ms = int(a.open_ms[index])
        if open_ms + MINUTE_MS <= at_ms:
            return Kline(open_ms, int(a.open[index]), int(a.high[index]), int(a.low[index]),
                         int(a.close[index]), int(a.volume[index]), float(a.quote[index]),
                         int(a.trades[index]), int(a.taker_base[index]),
                         float(a.taker_quote[index]), True)
        part = self.paths.partial(index, at_ms)
        share = part.fraction
        return Kline(open_ms, part.open, part.high, part.low, part.close, part.volume,
                     float(a.quote[index]) * share, int(int(a.trades[index]) * share),
                     int(a.taker_base[index]) * int(share * 60) // 60,
                     float(a.taker_quote[index]) * share, False)

    def klines(self, first: int, end: int, at_ms: int) -> list[Kline]:
        """Candles [first, end) as seen at ``at_ms`` (only the last can still be open)."""
        a = self.store.arrays
        closed_end = min(max(self.store.count_open_by(at_ms - MINUTE_MS), first), end)
        columns = (a.open_ms, a.open, a.high, a.low, a.close, a.volume, a.quote, a.trades,
                   a.taker_base, a.taker_quote)
        rows = zip(*(column[first:closed_end].tolist() for column in columns))
        out = [Kline(*row, True) for row in rows]  # bulk .tolist(): fast for 1000-row pages
        out += [self.kline(i, at_ms) for i in range(closed_end, end)]
        return out

    def visible_count(self, at_ms: int) -> int:
        """Candles that have opened by ``at_ms``: indexes [0, n)."""
        self.store.ensure_until(at_ms)
        return self.store.count_open_by(at_ms)

    def price_at(self, at_ms: int) -> int | None:
        self.store.ensure_until(at_ms)
        return self.paths.price_at(at_ms)

    def sigma_at(self, at_ms: int) -> float:
        """EWMA per-minute σ as of the last candle closed by ``at_ms``."""
        closed = self.store.count_open_by(at_ms - MINUTE_MS)
        if closed == 0:
            return SIGMA_FLOOR * 6
        return max(float(self.store.sigma[closed - 1]), SIGMA_FLOOR)

    def open_of_minute(self, open_ms: int) -> int | None:
        """The open (cents) of the candle opening at ``open_ms``, if the data has it."""
        index = self.store.index_at(open_ms)
        return None if index is None else int(self.store.arrays.open[index])

    def close_of_minute(self, open_ms: int) -> int | None:
        index = self.store.index_at(open_ms)
        return None if index is None else int(self.store.arrays.close[index])

    def depth(self, at_ms: int, limit: int) -> dict | None:
        price = self.price_at(at_ms)
        if price is None:
            return None
        before = self.paths.price_at(at_ms - MOMENTUM_WINDOW_MS)
        momentum = momentum_score(price, before, self.sigma_at(at_ms))
        return depth_snapshot(self.seed, at_ms, price, momentum, limit)
