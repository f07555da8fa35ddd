"""Percentiles and the small helpers every phase shares."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values_ms: Sequence[float]) -> dict:
    """n, p50, p90, p99 and max of a list of milliseconds, rounded to µs."""
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {"n": len(values_ms), "p50_ms": r(percentile(values_ms, 50)), "p90_ms": r(percentile(values_ms, 90)),
            "p99_ms": r(percentile(values_ms, 99)), "max_ms": r(max(values_ms) if values_ms else None)}


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
