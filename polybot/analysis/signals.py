"""The predictor's decision for every window of a file, with TA-Lib run once per file.

``predict_window`` runs TA-Lib on the last ``history_bars`` closes of each window: about
45 µs a window.  Here RSI and MACD are computed once over each gap-free stretch of the
file and the two points a window needs are read out.  TA-Lib seeds its averages at the
start of the array, so the full-history value differs from the 500-bar value by at most
~1e-14 (docs/strategy.md §2, warm-up table).  The rule itself is not re-implemented: the
values go through the core's own ``decide``.  Where a compared quantity sits within
``RSI_MARGIN`` / ``MACD_MARGIN`` of a threshold, or anything is unusual (NaN, too little
history), the window falls back to ``predict_window`` itself, so the decision equals the
core's exactly (tests/analysis/test_signals.py checks it window by window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import talib

from polybot.analysis.data_files import CandleFile
from services.predictor.config import PredictorConfig
from services.predictor.core import Indicators, decide, predict_window

# Far above the warm-up error (1.4e-14 RSI points, ~4e-15 USDT of MACD at 500 bars) and
# far below anything a threshold comparison could care about.
RSI_MARGIN = 1e-9
MACD_MARGIN = 1e-7


class WindowCall(NamedTuple):
    """What the predictor says for one window (the fields risk reads).

    No confidence: risk never reads it, and its MACD scale (mean |histogram| over the
    window) includes the window's own warm-up, which a full-history series cannot give.
    """

    signal: str
    rule: str
    reasoning: str
    via_core: bool  # True: computed by predict_window itself (the fallback)


@dataclass(frozen=True)
class IndicatorSeries:
    rsi: np.ndarray
    macd: np.ndarray
    signal: np.ndarray
    flat: np.ndarray        # the last rsi_period + 1 closes are identical


def compute_series(data: CandleFile, cfg: PredictorConfig) -> IndicatorSeries:
    n = len(data)
    rsi, macd, signal = (np.full(n, np.nan) for _ in range(3))
    for lo, hi in _segments(data.segment_start):
        closes = np.ascontiguousarray(data.closes[lo:hi])
        if hi - lo < cfg.history_bars:
            continue  # no window can use this stretch
        rsi[lo:hi] = talib.RSI(closes, timeperiod=cfg.rsi_period)
        macd[lo:hi], signal[lo:hi], _hist = talib.MACD(
            closes, fastperiod=cfg.macd_fast, slowperiod=cfg.macd_slow, signalperiod=cfg.macd_signal)
    return IndicatorSeries(rsi, macd, signal, _flat_tails(data.closes, cfg.rsi_period))


def _segments(segment_start: np.ndarray):
    starts = np.flatnonzero(np.diff(segment_start, prepend=-1))
    ends = np.append(starts[1:], len(segment_start))
    return zip(starts.tolist(), ends.tolist())


def _flat_tails(closes: np.ndarray, period: int) -> np.ndarray:
    """flat[i]: closes[i - period .. i] are all equal (the core's skip_flat_market)."""
    run = np.zeros(len(closes), dtype=np.int64)  # equal steps ending at i
    if len(closes) > 1:
        positions = np.arange(1, len(closes))
        last_change = np.maximum.accumulate(np.where(np.diff(closes) == 0, 0, positions))
        run[1:] = positions - last_change
    return run >= period


def window_call(data: CandleFile, series: IndicatorSeries, first: int, cfg: PredictorConfig) -> WindowCall:
    """The decision for the window whose first minute is candle ``first``.

    The caller guarantees ``history_bars`` gap-free candles before ``first``.
    """
    t = first - 1  # the last closed candle
    # hist_scale only feeds the confidence, which is not computed here (see WindowCall).
    ind = Indicators(float(series.rsi[t]), float(series.macd[t]), float(series.signal[t]),
                     float(series.macd[t - 1]), float(series.signal[t - 1]), 1.0)
    if not all(math.isfinite(v) for v in ind) or _near_threshold(ind, cfg):
        return core_call(data, first, cfg)
    if series.flat[t]:
        return WindowCall("SKIP", "skip_flat_market", "SKIP (skip_flat_market): flat closes", False)
    decision = decide(ind, None, cfg)  # replay: no order book, imbalance neutral
    if decision.signal == "SKIP":
        return WindowCall("SKIP", decision.rule, f"SKIP ({decision.rule}): {decision.reasoning}", False)
    return WindowCall(decision.signal, decision.rule, f"{decision.signal} by {decision.rule}: {decision.reasoning}",
                      False)


def core_call(data: CandleFile, first: int, cfg: PredictorConfig) -> WindowCall:
    """``predict_window`` on exactly the candles the live service would hold."""
    lo = first - cfg.history_bars
    window_start_s = int(data.open_ms[first]) // 1000
    p = predict_window(data.open_ms[lo:first], data.closes[lo:first], window_start_s=window_start_s, cfg=cfg)
    return WindowCall(p.signal, p.rule, p.reasoning, True)


def _near_threshold(ind: Indicators, cfg: PredictorConfig) -> bool:
    rsi_edges = (cfg.rsi_oversold, cfg.rsi_overbought, 50.0)
    if any(abs(ind.rsi - edge) <= RSI_MARGIN for edge in rsi_edges):
        return True
    return abs(ind.macd - ind.signal) <= MACD_MARGIN or abs(ind.macd_prev - ind.signal_prev) <= MACD_MARGIN
