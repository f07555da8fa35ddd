"""Pure UP/DOWN/SKIP decision for one 5-minute window (no Redis, no clock, no I/O).

The output is a function of the arguments only: the same closes, imbalance, asks
and config always give the same Prediction. Invalid or incomplete input gives a
SKIP with the reason, never an exception. The rules are specified, with
pseudocode, in docs/strategy.md; this module is the executable form.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Literal, NamedTuple

import msgspec
import numpy as np
import talib

from services.predictor.config import PredictorConfig

Signal = Literal["UP", "DOWN", "SKIP"]
CANDLE_MS = 60_000
WINDOW_S = 300
DEFAULT_CONFIG = PredictorConfig()

# Our own Decimal context: results must not depend on whatever a caller did to
# the thread's context. prec=400 fits any finite float64 at 8 decimal places.
_CTX = Context(prec=400, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_Q8 = Decimal("1e-8")
_Q4 = Decimal("1e-4")
_ZERO = Decimal(0)


class Prediction(msgspec.Struct, frozen=True, kw_only=True):
    """Decision for one window. Indicator fields are None when they could not be computed."""

    signal: Signal
    confidence: Decimal  # 0 for SKIP; 0.5 + 0.25*strength for UP/DOWN (docs/strategy.md)
    rule: str  # short id: strict_up, secondary_down, skip_disagree, skip_invalid_input, ...
    reasoning: str
    rsi: Decimal | None = None
    macd_line: Decimal | None = None
    macd_signal: Decimal | None = None
    order_book_imbalance: Decimal | None = None
    btc_price: Decimal | None = None
    implied_probability: Decimal | None = None  # best ask of the chosen side
    break_even_probability: Decimal | None = None  # ask + fee_rate*ask*(1-ask)


class Indicators(NamedTuple):
    """Raw TA-Lib float64 values at the last two closed candles (t and t-1)."""

    rsi: float
    macd: float
    signal: float
    macd_prev: float
    signal_prev: float
    hist_scale: float  # mean |histogram| over the window: makes the MACD score price-level free


class Decision(NamedTuple):
    signal: Signal
    rule: str
    reasoning: str
    rsi_score: float = 0.0  # how strongly RSI supports the side, in [0, 1]


class UnusableHistory(ValueError):
    """Candles that cannot feed a decision; `rule` is the SKIP rule id to report."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


# --------------------------------------------------------------------------- inputs


def usable_closes(open_times_ms: np.ndarray, closes: np.ndarray, window_start_s: int, history_bars: int) -> np.ndarray:
    """The no-lookahead slice: last `history_bars` closes of candles closed by the window start.

    A candle is usable only if open_time_ms + 60_000 <= window_start_s * 1000. Candles
    after that are dropped before anything else looks at them, whatever their
    order or values. Raises UnusableHistory (a ValueError) with the SKIP rule id.
    """
    times = np.asarray(open_times_ms)
    prices = np.asarray(closes, dtype=np.float64)
    if times.ndim != 1 or times.shape != prices.shape or times.dtype.kind not in "iu":
        raise UnusableHistory("skip_invalid_input", "open times and closes must be equal-length 1-D, times integer")
    is_integer = isinstance(window_start_s, (int, np.integer)) and not isinstance(window_start_s, bool)
    if not is_integer or window_start_s % WINDOW_S:
        raise UnusableHistory("skip_invalid_input", f"window start {window_start_s!r} is not a multiple of 300 s")
    window_start_s = int(window_start_s)
    if not 0 < window_start_s < 10**11:  # keeps the ms value inside int64
        raise UnusableHistory("skip_invalid_input", f"window start {window_start_s} is out of range")
    last_open_ms = window_start_s * 1000 - CANDLE_MS
    closed = times <= last_open_ms
    past_times, past_closes = times[closed], prices[closed]
    if past_times.size > 1 and np.any(np.diff(past_times) <= 0):
        raise UnusableHistory("skip_invalid_input", "candle open times are not strictly increasing")
    if past_times.size < history_bars:
        raise UnusableHistory(
            "skip_insufficient_history",
            f"{past_times.size} closed candles before the window start, need {history_bars}",
        )
    recent = past_times[-history_bars:]
    if recent[-1] != last_open_ms:
        why = f"last closed candle opened at {int(recent[-1])} ms, expected {last_open_ms}"
        raise UnusableHistory("skip_stale_data", why)
    if np.any(np.diff(recent) != CANDLE_MS):
        raise UnusableHistory("skip_gap", f"gap in the last {history_bars} candles")
    return past_closes[-history_bars:]


def _market_input_problem(btc_price, imbalance, up_ask, down_ask) -> str | None:
    if btc_price is not None and not (isinstance(btc_price, Decimal) and btc_price.is_finite() and btc_price > 0):
        return f"btc_price {btc_price!r} is not a positive finite Decimal"
    if imbalance is not None and not _is_valid_imbalance(imbalance):
        return f"order-book imbalance {imbalance!r} is not a finite number in [-1, 1]"
    for name, ask in (("up_ask", up_ask), ("down_ask", down_ask)):
        if ask is not None and not (isinstance(ask, Decimal) and ask.is_finite() and 0 < ask < 1):
            return f"{name} {ask!r} is not a Decimal in (0, 1)"
    return None


def _is_valid_imbalance(value) -> bool:
    # Decimal too: shared MarketData carries the imbalance as Decimal.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating, Decimal)):
        return False
    if isinstance(value, Decimal):
        finite = value.is_finite()  # checked first: comparing or float()-ing an sNaN raises
    else:
        finite = isinstance(value, (int, np.integer)) or math.isfinite(value)  # huge ints overflow isfinite
    return finite and -1 <= value <= 1


def _history_window(closes, history_bars: int) -> np.ndarray | Prediction:
    """Last `history_bars` closes as contiguous float64, or a SKIP saying why not."""
    try:
        prices = np.asarray(closes, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        return _skip("skip_invalid_input", f"closes are not numeric: {exc}")
    if prices.ndim != 1:
        return _skip("skip_invalid_input", f"closes must be 1-D, got shape {prices.shape}")
    if prices.size < history_bars:
        return _skip("skip_insufficient_history", f"{prices.size} closed candles, need {history_bars}")
    window = np.ascontiguousarray(prices[-history_bars:])
    lowest, highest = window.min(), window.max()
    if not (lowest > 0 and highest < math.inf):  # NaN fails both comparisons
        return _skip("skip_invalid_input", "closes contain NaN, inf or non-positive prices")
    return window


# --------------------------------------------------------------------------- indicators and rules


def compute_indicators(window: np.ndarray, cfg: PredictorConfig) -> Indicators:
    rsi = talib.RSI(window, timeperiod=cfg.rsi_period)
    macd, signal, hist = talib.MACD(
        window, fastperiod=cfg.macd_fast, slowperiod=cfg.macd_slow, signalperiod=cfg.macd_signal
    )
    valid_hist = hist[np.isfinite(hist)]
    hist_scale = float(np.mean(np.abs(valid_hist))) if valid_hist.size else math.nan
    return Indicators(
        float(rsi[-1]), float(macd[-1]), float(signal[-1]), float(macd[-2]), float(signal[-2]), hist_scale
    )


def decide(ind: Indicators, imbalance: float | None, cfg: PredictorConfig) -> Decision:
    """The strict rule (FR-005) first; in the default profile the secondary rule next."""
    bullish = ind.macd_prev <= ind.signal_prev and ind.macd > ind.signal
    bearish = ind.macd_prev >= ind.signal_prev and ind.macd < ind.signal
    cross = f"MACD {ind.macd_prev:.4f}/{ind.signal_prev:.4f} -> {ind.macd:.4f}/{ind.signal:.4f} (line/signal)"
    if ind.rsi < cfg.rsi_oversold and bullish:
        score = (cfg.rsi_oversold - ind.rsi) / cfg.rsi_oversold
        why = f"RSI {ind.rsi:.2f} < {cfg.rsi_oversold:g} and bullish crossover: {cross}"
        return Decision("UP", "strict_up", why, score)
    if ind.rsi > cfg.rsi_overbought and bearish:
        score = (ind.rsi - cfg.rsi_overbought) / (100.0 - cfg.rsi_overbought)
        why = f"RSI {ind.rsi:.2f} > {cfg.rsi_overbought:g} and bearish crossover: {cross}"
        return Decision("DOWN", "strict_down", why, score)
    if cfg.profile == "strict":
        kind = "bullish" if bullish else "bearish" if bearish else "no"
        why = f"strict rule did not fire: RSI {ind.rsi:.2f}, {kind} crossover; {cross}"
        return Decision("SKIP", "skip_no_signal", why)
    return _secondary(ind, imbalance, cfg)


def _secondary(ind: Indicators, imbalance: float | None, cfg: PredictorConfig) -> Decision:
    """Momentum: histogram sign, RSI on the same side of 50 (not extreme), imbalance not against."""
    hist = ind.macd - ind.signal
    if hist == 0:
        return Decision("SKIP", "skip_no_momentum", f"MACD histogram is exactly 0 (RSI {ind.rsi:.2f})")
    up = hist > 0
    side = "UP" if up else "DOWN"
    rsi_low, rsi_high = (50.0, cfg.rsi_overbought) if up else (cfg.rsi_oversold, 50.0)
    if not rsi_low < ind.rsi < rsi_high:
        why = f"MACD histogram {hist:+.4f} says {side} but RSI {ind.rsi:.2f} is not in ({rsi_low:g}, {rsi_high:g})"
        return Decision("SKIP", "skip_disagree", why)
    against = imbalance is not None and (imbalance <= cfg.obi_bearish if up else imbalance >= cfg.obi_bullish)
    obi_text = "n/a (neutral)" if imbalance is None else f"{imbalance:+.4f}"
    if against:
        why = f"MACD histogram {hist:+.4f} and RSI {ind.rsi:.2f} say {side} but imbalance {obi_text} is against"
        return Decision("SKIP", "skip_disagree", why)
    score = (ind.rsi - 50.0) / (cfg.rsi_overbought - 50.0) if up else (50.0 - ind.rsi) / (50.0 - cfg.rsi_oversold)
    why = f"MACD histogram {hist:+.4f}, RSI {ind.rsi:.2f} in ({rsi_low:g}, {rsi_high:g}), imbalance {obi_text}"
    return Decision(side, f"secondary_{side.lower()}", why, score)


def confidence(decision: Decision, ind: Indicators, imbalance: float | None) -> Decimal:
    """0.5 + 0.25 * mean(rsi_score, macd_score, obi_score), each clamped to [0, 1]; 4 dp.

    A heuristic strength score on a probability-like scale, not a calibrated win
    probability (docs/strategy.md, "Confidence").
    """
    direction = 1.0 if decision.signal == "UP" else -1.0
    hist = ind.macd - ind.signal
    macd_score = abs(hist) / (2.0 * ind.hist_scale) if ind.hist_scale > 0 else 0.0
    obi_score = direction * imbalance if imbalance is not None else 0.0
    strength = sum(min(1.0, max(0.0, s)) for s in (decision.rsi_score, macd_score, obi_score)) / 3.0
    return _quantize(0.5 + 0.25 * strength, _Q4)


def break_even_probability(ask: Decimal, fee_rate: Decimal) -> Decimal:
    """Win probability at which buying one share at `ask` breaks even.

    Cost per share = ask + fee_rate*ask*(1-ask) (taker fee), payout $1 on a win,
    so break-even q = that cost. Rounded up (8 dp) so the edge gate never flatters a trade.
    """
    fee = _CTX.multiply(fee_rate, _CTX.multiply(ask, _CTX.subtract(Decimal(1), ask)))
    return _CTX.add(ask, fee).quantize(_Q8, rounding=ROUND_CEILING, context=_CTX)


# --------------------------------------------------------------------------- the decision


def predict(
    closes: np.ndarray,
    *,
    btc_price: Decimal | None = None,
    imbalance: float | Decimal | None = None,
    up_ask: Decimal | None = None,
    down_ask: Decimal | None = None,
    cfg: PredictorConfig = DEFAULT_CONFIG,
) -> Prediction:
    """Decide on closed 1-minute closes (oldest first; only the last cfg.history_bars are used)."""
    problem = _market_input_problem(btc_price, imbalance, up_ask, down_ask)
    if problem:
        return _skip("skip_invalid_input", problem)
    imbalance = None if imbalance is None else float(imbalance)  # one numeric type for the rules
    window = _history_window(closes, cfg.history_bars)
    if isinstance(window, Prediction):
        return window
    ind = compute_indicators(window, cfg)
    facts = _reported_facts(ind, window, btc_price, imbalance)
    if not all(math.isfinite(value) for value in ind):
        return _skip("skip_invalid_indicator", f"TA-Lib returned a non-finite value: {ind}", facts)
    flat_tail = window[-(cfg.rsi_period + 1) :]
    if flat_tail.max() == flat_tail.min():
        # TA-Lib reports RSI 0 for a flat series: "no movement", not "oversold".
        return _skip("skip_flat_market", f"last {flat_tail.size} closes are identical (halt or no trades)", facts)
    decision = decide(ind, imbalance, cfg)
    if decision.signal == "SKIP":
        return _skip(decision.rule, decision.reasoning, facts)
    return _apply_edge_gate(decision, confidence(decision, ind, imbalance), up_ask, down_ask, cfg, facts)


def predict_window(
    open_times_ms: np.ndarray,
    closes: np.ndarray,
    *,
    window_start_s: int,
    btc_price: Decimal | None = None,
    imbalance: float | Decimal | None = None,
    up_ask: Decimal | None = None,
    down_ask: Decimal | None = None,
    cfg: PredictorConfig = DEFAULT_CONFIG,
) -> Prediction:
    """usable_closes + predict: what the service and the replay call for window `window_start_s`."""
    try:
        window = usable_closes(open_times_ms, closes, window_start_s, cfg.history_bars)
    except UnusableHistory as exc:
        return _skip(exc.rule, str(exc))
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. closes that are not numbers
        return _skip("skip_invalid_input", f"unusable candles: {exc}")
    return predict(window, btc_price=btc_price, imbalance=imbalance, up_ask=up_ask, down_ask=down_ask, cfg=cfg)


def _apply_edge_gate(decision, conf, up_ask, down_ask, cfg, facts) -> Prediction:
    ask = up_ask if decision.signal == "UP" else down_ask
    break_even = break_even_probability(ask, cfg.fee_rate) if ask is not None else None
    prices = {"implied_probability": ask, "break_even_probability": break_even}
    if cfg.min_edge is not None:
        if break_even is None:
            why = f"{decision.signal} ({decision.rule}) but no best ask to check min_edge {cfg.min_edge} against"
            return _skip("skip_no_price", why, facts | prices)
        edge = _CTX.subtract(conf, break_even)
        if edge < cfg.min_edge:
            why = (
                f"{decision.signal} ({decision.rule}) gated: confidence {conf} - break-even {break_even} "
                f"(ask {ask}, fee rate {cfg.fee_rate}) = {edge} < min_edge {cfg.min_edge}"
            )
            return _skip("skip_edge", why, facts | prices)
    reasoning = f"{decision.signal} by {decision.rule}: {decision.reasoning}; confidence {conf}"
    return Prediction(
        signal=decision.signal, confidence=conf, rule=decision.rule, reasoning=reasoning, **facts, **prices
    )


def _reported_facts(ind: Indicators, window: np.ndarray, btc_price, imbalance) -> dict:
    if btc_price is None:
        # repr() of a float64 is its shortest round-trip text: the CSV's own digits.
        btc_price = Decimal(repr(float(window[-1])))
    return {
        "rsi": _quantize(ind.rsi, _Q8),
        "macd_line": _quantize(ind.macd, _Q8),
        "macd_signal": _quantize(ind.signal, _Q8),
        "order_book_imbalance": None if imbalance is None else _quantize(imbalance, _Q8),
        "btc_price": btc_price,
    }


def _quantize(value: float, exponent: Decimal) -> Decimal | None:
    """float64 -> Decimal: exact binary value, then round half-even. None for NaN/inf."""
    if not math.isfinite(value):
        return None
    return Decimal(value).quantize(exponent, rounding=ROUND_HALF_EVEN, context=_CTX)


def _skip(rule: str, reasoning: str, facts: dict | None = None) -> Prediction:
    reasoning = f"SKIP ({rule}): {reasoning}"
    return Prediction(signal="SKIP", confidence=_ZERO, rule=rule, reasoning=reasoning, **(facts or {}))
