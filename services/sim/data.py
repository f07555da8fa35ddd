"""1-minute BTCUSDT candles, from a Binance-format CSV or the synthetic generator.

Candles are held as numpy arrays of integers (prices in cents, volumes in 1e-8 BTC)
so every number the simulator serves is exact and formatting never rounds. Columns a
CSV leaves empty (quote volume, trades, taker volumes: empty in the shared files) are
synthesised from volume and price and documented as such.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

MINUTE_MS = 60_000
EWMA_LAMBDA = 0.97  # RiskMetrics-style decay on 1-minute squared log returns
TRADES_PER_BTC = 80  # only used to invent a trade count when the CSV has none


@dataclass(frozen=True)
class CandleArrays:
    open_ms: np.ndarray  # int64, strictly increasing
    open: np.ndarray  # int64 cents
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # int64, 1e-8 BTC
    quote: np.ndarray  # float64 USDT
    trades: np.ndarray  # int64
    taker_base: np.ndarray  # int64, 1e-8 BTC
    taker_quote: np.ndarray  # float64 USDT

    def __len__(self) -> int:
        return len(self.open_ms)

    def concat(self, other: "CandleArrays") -> "CandleArrays":
        joined = {f.name: np.concatenate((getattr(self, f.name), getattr(other, f.name)))
                  for f in fields(self)}
        return CandleArrays(**joined)


def build_arrays(open_ms, o, h, l, c, volume_e8, extras=None) -> CandleArrays:
    """Arrays from OHLCV; ``extras`` = (quote, trades, taker_base_e8, taker_quote) or None."""
    o, h, l, c, v = (np.asarray(x, dtype=np.int64) for x in (o, h, l, c, volume_e8))
    if extras is None:
        quote = v.astype(np.float64) / 1e8 * (h + l + c) / 300.0
        extras = (quote, v * TRADES_PER_BTC // 100_000_000 + 1, v // 2, quote / 2)
    quote, trades, taker_base, taker_quote = extras
    return CandleArrays(np.asarray(open_ms, dtype=np.int64), o, h, l, c, v,
                        np.asarray(quote, dtype=np.float64), np.asarray(trades, dtype=np.int64),
                        np.asarray(taker_base, dtype=np.int64),
                        np.asarray(taker_quote, dtype=np.float64))


def load_csv(path: str | Path) -> CandleArrays:
    """A Binance kline CSV (header optional, columns 6-10 may be empty; µs times allowed)."""
    path = Path(path)
    with path.open() as handle:
        first = handle.readline()
        second = handle.readline() if not first[:1].isdigit() else first
    skip = 0 if first[:1].isdigit() else 1
    table = np.loadtxt(path, delimiter=",", skiprows=skip, usecols=range(6), ndmin=2)
    if len(table) == 0:
        raise ValueError(f"{path}: no candles")
    open_ms = table[:, 0].astype(np.int64)
    if open_ms[0] > 10**14:  # data.binance.vision spot archives use µs from 2025
        open_ms //= 1000
    if np.any(np.diff(open_ms) <= 0):
        raise ValueError(f"{path}: open times are not strictly increasing")
    if np.any(open_ms % MINUTE_MS):
        raise ValueError(f"{path}: open times are not whole minutes")
    cents = np.rint(table[:, 1:5] * 100).astype(np.int64)
    volume = np.rint(table[:, 5] * 1e8).astype(np.int64)
    return build_arrays(open_ms, *cents.T, volume, _optional_columns(path, skip, second))


def _optional_columns(path: Path, skip: int, sample_line: str):
    cells = sample_line.strip().split(",")
    if len(cells) < 11 or not all(cells[i].strip() for i in (7, 8, 9, 10)):
        return None
    extra = np.loadtxt(path, delimiter=",", skiprows=skip, usecols=(7, 8, 9, 10), ndmin=2)
    return extra[:, 0], extra[:, 1].astype(np.int64), np.rint(extra[:, 2] * 1e8), extra[:, 3]


def ewma_sigma(close: np.ndarray, prev_close: int | None, prev_var: float | None):
    """Per-minute σ of log returns as of each candle's close (EWMA), and the last variance."""
    closes = close.astype(np.float64)
    before = np.concatenate(([float(prev_close if prev_close is not None else close[0])],
                             closes[:-1]))
    returns_sq = np.log(closes / before) ** 2
    var = prev_var if prev_var is not None else _initial_variance(returns_sq)
    out = np.empty(len(closes))
    for i, r2 in enumerate(returns_sq.tolist()):
        var = EWMA_LAMBDA * var + (1 - EWMA_LAMBDA) * r2
        out[i] = var
    return np.sqrt(out), var


def _initial_variance(returns_sq: np.ndarray) -> float:
    warmup = returns_sq[1:31]  # [0] is a zero return against itself
    return float(np.mean(warmup)) if len(warmup) and np.mean(warmup) > 0 else 1e-8


class CandleStore:
    """Thread-safe, append-only candle arrays plus the EWMA σ of each candle."""

    def __init__(self, arrays: CandleArrays,
                 extend: Callable[[], CandleArrays] | None = None):
        self._lock = threading.Lock()
        self._extend = extend
        sigma, self._last_var = ewma_sigma(arrays.close, None, None)
        self._state = (arrays, sigma)

    @property
    def arrays(self) -> CandleArrays:
        return self._state[0]

    @property
    def sigma(self) -> np.ndarray:
        return self._state[1]

    @property
    def first_open_ms(self) -> int:
        return int(self.arrays.open_ms[0])

    @property
    def last_open_ms(self) -> int:
        return int(self.arrays.open_ms[-1])

    def ensure_until(self, ms: int) -> None:
        """Grow a synthetic series so the candle containing ``ms`` exists (no-op for CSV)."""
        if self._extend is None or self.last_open_ms >= ms:
            return
        with self._lock:
            while self.last_open_ms < ms:
                arrays, sigma = self._state
                chunk = self._extend()
                chunk_sigma, self._last_var = ewma_sigma(chunk.close, int(arrays.close[-1]),
                                                         self._last_var)
                self._state = (arrays.concat(chunk), np.concatenate((sigma, chunk_sigma)))

    def index_at(self, open_ms: int) -> int | None:
        """Index of the candle that opens exactly at ``open_ms``."""
        times = self.arrays.open_ms
        i = int(np.searchsorted(times, open_ms))
        return i if i < len(times) and int(times[i]) == open_ms else None

    def index_containing(self, ms: int) -> int | None:
        """Index of the candle whose minute [open, open + 60 s) contains ``ms``."""
        return self.index_at(ms - ms % MINUTE_MS)

    def count_open_by(self, ms: int) -> int:
        """How many candles have opened at or before ``ms`` (slice end for 'visible')."""
        return int(np.searchsorted(self.arrays.open_ms, ms, side="right"))
