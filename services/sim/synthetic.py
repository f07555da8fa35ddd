"""Seeded synthetic BTCUSDT 1-minute candles, so the demo needs no data file.

Model (calibrated to BTC 1-minute behaviour, see docs/simulator.md):
* log return r_t = σ_t · z_t, z_t Student-t with ν = 4 scaled to unit variance (fat tails);
* GARCH(1,1): σ²_{t+1} = ω + α r_t² + β σ²_t with α = 0.06, β = 0.92 and a long-run
  σ of 0.0006 per minute (≈ 43 % a year), which gives volatility clustering;
* close = round(open · e^r) on the 0.01 tick, the next open = this close;
* high/low = extremes of a Brownian bridge from open to close (σ scaled by 0.6 to match
  real 1-minute ranges), consistent with the intra-minute path replayed by paths.py;
* volume log-normal around 8 BTC, larger in volatile minutes and on big moves.
Candles are generated in chunks of one day from one RNG stream, so the series is the
same however far and in which steps a run extends it.
"""

from __future__ import annotations

import math

import numpy as np

from services.sim.data import MINUTE_MS, CandleArrays, build_arrays

LONG_RUN_SIGMA = 0.0006
ALPHA, BETA = 0.06, 0.92
OMEGA = LONG_RUN_SIGMA**2 * (1 - ALPHA - BETA)
DOF = 4.0
CHUNK_MINUTES = 1440
HISTORY_MINUTES = 1440  # candles generated before the default start
START_PRICE_CENTS = 8_700_000  # 87,000.00 USDT
STEPS_PER_MINUTE = 60
# Real 1-minute ranges are ~0.9 σ (micro-structure mean reversion), a free Brownian
# minute gives ~1.6 σ; shrinking the bridge brings the synthetic range close to real.
BRIDGE_SCALE = 0.6


def standard_bridges(rng: np.random.Generator, rows: int, steps: int = STEPS_PER_MINUTE):
    """``rows`` standard Brownian bridges (unit variance per step), shape (rows, steps+1)."""
    walk = np.cumsum(rng.standard_normal((rows, steps)), axis=1)
    walk = np.concatenate((np.zeros((rows, 1)), walk), axis=1)
    fraction = np.arange(steps + 1) / steps
    return walk - fraction * walk[:, -1:]


class SyntheticSeries:
    """An endless seeded candle series; ``next_chunk()`` returns the next day."""

    def __init__(self, seed: int, first_open_ms: int, start_price_cents: int = START_PRICE_CENTS):
        self._rng = np.random.default_rng([seed, 0x5EED])
        self._next_open_ms = first_open_ms - first_open_ms % MINUTE_MS
        self._price = start_price_cents
        self._var = LONG_RUN_SIGMA**2

    def next_chunk(self) -> CandleArrays:
        n = CHUNK_MINUTES
        shocks = self._rng.standard_t(DOF, n) * math.sqrt((DOF - 2) / DOF)
        bridges = standard_bridges(self._rng, n)
        volume_noise = self._rng.standard_normal(n)
        opens, closes, sigmas = self._walk(shocks.tolist())
        scale = opens.astype(np.float64) * sigmas * BRIDGE_SCALE / math.sqrt(STEPS_PER_MINUTE)
        fraction = np.arange(STEPS_PER_MINUTE + 1) / STEPS_PER_MINUTE
        paths = opens[:, None] + (closes - opens)[:, None] * fraction + scale[:, None] * bridges
        paths = np.rint(paths).astype(np.int64)
        high = np.maximum(paths.max(axis=1), np.maximum(opens, closes))
        low = np.maximum(np.minimum(paths.min(axis=1), np.minimum(opens, closes)), 1)
        volume_btc = (8.0 * np.exp(0.5 * volume_noise) * (sigmas / LONG_RUN_SIGMA)
                      * (0.5 + 0.5 * np.abs(shocks)))
        volume_e8 = np.rint(volume_btc * 1e5).astype(np.int64) * 1000  # 1e-5 BTC lot
        open_ms = self._next_open_ms + MINUTE_MS * np.arange(n, dtype=np.int64)
        self._next_open_ms += n * MINUTE_MS
        return build_arrays(open_ms, opens, high, low, closes, volume_e8)

    def _walk(self, shocks: list[float]):
        """The GARCH recursion (sequential by nature): opens, closes and σ per minute."""
        opens, closes, sigmas = [], [], []
        price, var = self._price, self._var
        for z in shocks:
            sigma = math.sqrt(var)
            r = sigma * z
            close = max(1, round(price * math.exp(r)))
            opens.append(price)
            closes.append(close)
            sigmas.append(sigma)
            var = OMEGA + ALPHA * r * r + BETA * var
            price = close
        self._price, self._var = price, var
        return np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64), np.array(sigmas)
