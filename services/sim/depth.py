"""A synthetic Binance BTCUSDT order book, consistent with the simulated price path.

Model (docs/simulator.md): the best bid is S_t, the best ask one tick (0.01) above it, or
2-4 ticks in 10 % of snapshots. Further levels sit 1+ ticks apart (geometric gaps), with
log-normal sizes (median 0.15 BTC). An imbalance I tilts the sizes, bids × (1 + I) and
asks × (1 − I), where I follows the last 10 seconds of the price path (momentum) plus
noise. It uses only the past of the path, so the book never hints at a future price.
Each snapshot is seeded by its 100 ms time bucket, so it repeats exactly.
"""

from __future__ import annotations

import math

import numpy as np

from services.sim.formats import cents_text, e8_text

MOMENTUM_WINDOW_MS = 10_000
UPDATE_ID_BASE = 40_000_000_000


def depth_snapshot(seed: int, ms: int, price_cents: int, momentum: float, limit: int) -> dict:
    """``{"lastUpdateId", "bids", "asks"}`` with ``limit`` levels a side, best first.

    ``momentum`` is the recent log return in units of its own volatility.
    """
    bucket = ms // 100
    rng = np.random.default_rng([seed, 0xDE97, bucket])
    spread = 1 if rng.random() < 0.9 else int(rng.integers(2, 5))
    bid_gaps = np.cumsum(np.concatenate(([0], rng.geometric(0.5, limit - 1))))
    ask_gaps = np.cumsum(np.concatenate(([0], rng.geometric(0.5, limit - 1))))
    imbalance = float(np.clip(0.4 * math.tanh(momentum) + 0.15 * rng.standard_normal(), -0.8, 0.8))
    bid_sizes = _sizes(rng, limit, 1 + imbalance)
    ask_sizes = _sizes(rng, limit, 1 - imbalance)
    bids = [[cents_text(price_cents - int(g)), e8_text(int(q))]
            for g, q in zip(bid_gaps, bid_sizes) if price_cents - int(g) > 0]
    asks = [[cents_text(price_cents + spread + int(g)), e8_text(int(q))]
            for g, q in zip(ask_gaps, ask_sizes)]
    return {"lastUpdateId": UPDATE_ID_BASE + bucket % 10**10, "bids": bids, "asks": asks}


def _sizes(rng: np.random.Generator, count: int, tilt: float) -> np.ndarray:
    btc = np.exp(rng.normal(math.log(0.15), 1.2, count)) * tilt
    return np.maximum(np.rint(btc * 1e5), 1).astype(np.int64) * 1000  # 1e-5 BTC lot


def momentum_score(price_now: int, price_before: int | None, sigma_per_minute: float) -> float:
    """ln(S_t / S_{t-10s}) divided by the σ expected over 10 seconds."""
    if not price_before or price_before <= 0:
        return 0.0
    expected = max(sigma_per_minute, 1e-5) * math.sqrt(MOMENTUM_WINDOW_MS / 60_000)
    return math.log(price_now / price_before) / expected
