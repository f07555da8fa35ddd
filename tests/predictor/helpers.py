"""Synthetic candle builders for predictor tests (no shared data needed)."""

from __future__ import annotations

import numpy as np

# 2024-08-05T00:00:00Z: a window boundary (multiple of 300 s).
BASE_MS = 1_722_816_000_000
# random_walk(seed, 500) seeds whose default-profile decision is a secondary trade
# (found once by scanning seeds; tests assert the rule so a change is caught).
UP_SEED = 3
DOWN_SEED = 0


def random_walk(seed: int, n: int, start: float = 60_000.0) -> np.ndarray:
    """Positive float64 closes on the 0.01 tick, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 20.0, size=n)
    return np.round(start + np.cumsum(steps), 2)


def open_times(n: int, first_ms: int = BASE_MS) -> np.ndarray:
    return first_ms + 60_000 * np.arange(n, dtype=np.int64)


def write_csv(path, times: np.ndarray, closes: np.ndarray) -> None:
    """A CSV in the shared-data format (columns 6-10 empty)."""
    header = "open_time_ms,open,high,low,close,volume,close_time_ms,quote_volume,trades,taker_buy_base,taker_buy_quote"
    lines = [header]
    previous = closes[0]
    for t, c in zip(times, closes):
        o = previous
        lines.append(f"{int(t)},{o:.2f},{max(o, c):.2f},{min(o, c):.2f},{c:.2f},1.5,,,,,")
        previous = c
    path.write_text("\n".join(lines) + "\n")
