"""Hypothesis properties: determinism, no lookahead, never an exception."""

from decimal import ROUND_DOWN, Decimal, localcontext

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.predictor.config import PredictorConfig
from services.predictor.core import predict, predict_window
from tests.predictor.helpers import BASE_MS, open_times, random_walk

# 300 bars (the minimum) keeps each example fast; the rules do not depend on the length.
CONFIGS = st.sampled_from(
    [
        PredictorConfig(history_bars=300),
        PredictorConfig(history_bars=300, profile="strict"),
        PredictorConfig(history_bars=300, min_edge=Decimal("0.01")),
        PredictorConfig(history_bars=320, rsi_period=7, macd_fast=5, macd_slow=35, macd_signal=5, obi_bullish=0.3),
    ]
)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
# decimals() includes NaN, sNaN and infinities; integers() includes ones too big for a float.
IMBALANCES = st.none() | st.floats(-1.0, 1.0) | ANY_FLOAT | st.decimals(places=2) | st.integers()
ASKS = st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2) | st.decimals(places=3)
SEEDS = st.integers(0, 2**32 - 1)


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, n=st.integers(250, 400), corrupt=st.lists(st.tuples(st.integers(0, 399), ANY_FLOAT), max_size=3),
       imbalance=IMBALANCES, up_ask=ASKS, down_ask=ASKS, cfg=CONFIGS)  # fmt: skip
def test_predict_is_a_pure_total_function(seed, n, corrupt, imbalance, up_ask, down_ask, cfg):
    closes = random_walk(seed, n)
    for index, value in corrupt:
        closes[index % n] = value
    snapshot = closes.copy()
    market = dict(imbalance=imbalance, up_ask=up_ask, down_ask=down_ask, cfg=cfg)

    first = predict(closes, **market)
    with localcontext() as ctx:  # a caller's Decimal context must not leak into the result
        ctx.prec, ctx.rounding = 3, ROUND_DOWN
        second = predict(closes.copy(), **market)

    assert first == second
    assert np.array_equal(closes, snapshot, equal_nan=True)  # input not mutated
    assert first.signal in ("UP", "DOWN", "SKIP")
    assert (first.signal == "SKIP") == (first.confidence == 0)
    if first.signal != "SKIP":
        assert Decimal("0.5") <= first.confidence <= Decimal("0.75")


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS, past_blocks=st.integers(64, 90), n_future=st.integers(1, 40),
       future_values=st.lists(ANY_FLOAT, min_size=1, max_size=40), reorder_future=st.booleans(),
       imbalance=st.none() | st.floats(-1.0, 1.0), cfg=CONFIGS)  # fmt: skip
def test_candles_closing_after_the_window_start_never_change_the_decision(
    seed, past_blocks, n_future, future_values, reorder_future, imbalance, cfg
):
    n_past = 5 * past_blocks  # the last past candle closes exactly on a 300 s boundary
    times, closes = open_times(n_past + n_future), random_walk(seed, n_past + n_future)
    window_start_s = (BASE_MS + n_past * 60_000) // 1000
    baseline = predict_window(times, closes, window_start_s=window_start_s, imbalance=imbalance, cfg=cfg)

    # Rewrite everything that closes after the start, including the candle opening at the start.
    changed_closes = closes.copy()
    changed_closes[n_past:] = [future_values[i % len(future_values)] for i in range(n_future)]
    changed_times = times.copy()
    if reorder_future:
        changed_times[n_past:] = changed_times[n_past:][::-1]

    market = dict(window_start_s=window_start_s, imbalance=imbalance, cfg=cfg)
    changed = predict_window(changed_times, changed_closes, **market)
    truncated = predict_window(times[:n_past], closes[:n_past], **market)
    assert changed == baseline == truncated


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, extra=st.lists(ANY_FLOAT.filter(lambda x: x == x), max_size=50), cfg=CONFIGS)
def test_closes_older_than_history_bars_are_ignored(seed, extra, cfg):
    closes = random_walk(seed, cfg.history_bars)
    assert predict(np.concatenate([np.array(extra, dtype=np.float64), closes]), cfg=cfg) == predict(closes, cfg=cfg)
