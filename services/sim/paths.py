"""The BTC price inside a minute, S_t: one seeded path per candle.

Each candle gets a 61-point path (one point per second) that starts at the open, ends at
the close and touches exactly the high and the low. It is a Brownian bridge from open to
close whose excursions are stretched monotonically onto [low, high].

Why a bridge and not "open interpolated toward close": a straight line would reveal the
minute's direction from its first second (lookahead a strategy could exploit). A Brownian
bridge from O to C, when C is itself a random-walk outcome, is marginally just a random
walk: the price at second k tells as much about the close as a real price would, no more.

S_t is a step function on whole seconds: S_t = path[floor((t - open) / 1 s)]. The close
is only reached at the minute's end (it is the next candle's open).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from services.sim.data import MINUTE_MS, CandleStore
from services.sim.synthetic import STEPS_PER_MINUTE, standard_bridges

_BRIDGE_MID_SD = math.sqrt(STEPS_PER_MINUTE / 4)  # sd of a standard bridge at mid-minute


class PartialCandle(NamedTuple):
    open: int  # cents
    high: int
    low: int
    close: int
    volume: int  # 1e-8 BTC traded so far
    fraction: float  # share of the minute elapsed (whole seconds / 60)


class PricePaths:
    def __init__(self, seed: int, store: CandleStore, cache_size: int = 8192):
        self._seed = seed
        self._store = store
        self.path = lru_cache(maxsize=cache_size)(self._build_path)

    def _build_path(self, index: int) -> np.ndarray:
        a = self._store.arrays
        o, h, l, c = (int(x[index]) for x in (a.open, a.high, a.low, a.close))
        minute = int(a.open_ms[index]) // MINUTE_MS
        rng = np.random.default_rng([self._seed, 0xB21D, minute])
        bridge = standard_bridges(rng, 1)[0]
        fraction = np.arange(STEPS_PER_MINUTE + 1) / STEPS_PER_MINUTE
        scale = max(h - l, 1) / (2 * _BRIDGE_MID_SD)
        raw = o + (c - o) * fraction + scale * bridge
        return fit_to_range(raw, o, h, l, c)

    def price_at(self, ms: int) -> int | None:
        """S_t in cents; in a data gap or past the end, the last close before ``ms``."""
        index = self._store.index_containing(ms)
        if index is not None:
            second = (ms - int(self._store.arrays.open_ms[index])) // 1000
            return int(self.path(index)[second])
        seen = self._store.count_open_by(ms)
        return int(self._store.arrays.close[seen - 1]) if seen else None

    def partial(self, index: int, ms: int) -> PartialCandle:
        """The still-open candle ``index`` as it looks at ``ms`` (only the path so far)."""
        second = min(max((ms - int(self._store.arrays.open_ms[index])) // 1000, 0), 59)
        seen = self.path(index)[: second + 1]
        volume = int(self._store.arrays.volume[index]) * second // STEPS_PER_MINUTE
        return PartialCandle(int(seen[0]), int(seen.max()), int(seen.min()), int(seen[-1]),
                             volume, second / STEPS_PER_MINUTE)


def fit_to_range(raw: np.ndarray, o: int, h: int, l: int, c: int) -> np.ndarray:
    """Stretch the excursions of ``raw`` beyond [min(o,c), max(o,c)] onto [l, h]."""
    path = raw.astype(np.float64).copy()
    path[0], path[-1] = o, c
    path = _stretch(path, max(o, c), h, 1.0)
    path = _stretch(path, min(o, c), l, -1.0)
    cents = np.rint(path).astype(np.int64)
    cents[0], cents[-1] = o, c
    return cents


def _stretch(path: np.ndarray, band_edge: int, extreme: int, direction: float) -> np.ndarray:
    """Monotone map of the part of ``path`` beyond ``band_edge`` so its extreme = ``extreme``."""
    signed = direction * (path - band_edge)
    reach = signed.max()
    target = direction * (extreme - band_edge)
    if target <= 0:  # the candle never went beyond the open/close band on this side
        return np.where(signed > 0, float(band_edge), path)
    if reach > 0:
        beyond = signed > 0
        path[beyond] = band_edge + direction * signed[beyond] * (target / reach)
        return path
    k = int(np.argmax(signed[1:-1])) + 1  # path stayed inside: touch the extreme once
    path[k] = extreme
    return path
